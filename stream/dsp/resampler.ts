import { ConfigError } from '../contracts/errors.js';

export interface ResamplerConfig {
  readonly inputHz: number;
  readonly outputHz: number;
  /** Highest frequency kept intact, Hz; the anti-alias transition runs from here to the output Nyquist. */
  readonly passbandHz: number;
  /** Stop-band attenuation in dB (sets the Kaiser window and the filter length). */
  readonly attenuationDb: number;
}

export const DEFAULT_RESAMPLER: Omit<ResamplerConfig, 'inputHz' | 'outputHz'> = { passbandHz: 40, attenuationDb: 40 };

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/** Zeroth-order modified Bessel function of the first kind, by its power series. */
function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  for (let k = 1; k < 50; k++) {
    term *= (x / (2 * k)) ** 2;
    sum += term;
    if (term < sum * 1e-16) break;
  }
  return sum;
}

/** Rational approximation p/q of a rate ratio; rates given to the millihertz are exact. */
function rationalRatio(inputHz: number, outputHz: number): { up: number; down: number } {
  const a = Math.round(outputHz * 1000);
  const b = Math.round(inputHz * 1000);
  const g = gcd(a, b);
  return { up: a / g, down: b / g };
}

/**
 * Most filter phases a resampler builds (its up factor): rates given to 0.1 Hz, or to the hertz
 * up to any rate, resample to 125 Hz within it. A rate such as 5000.001 Hz would need 125 000
 * phases, hundreds of megabytes and tens of seconds to build: it is refused instead.
 */
export const MAX_RESAMPLER_PHASES = 1250;

/** The phases a resampler from `inputHz` to `outputHz` builds (its up factor). */
export function resamplerPhases(inputHz: number, outputHz: number): number {
  return rationalRatio(inputHz, outputHz).up;
}

/**
 * Polyphase rational resampler (any input rate to any output rate). Output sample k stands
 * for input time k * inputHz / outputHz exactly: the linear-phase filter is centred on that
 * instant, and the sample is emitted as soon as the input it needs has arrived. Downstream
 * code can therefore map an output index to a source index with no delay correction.
 */
export class Resampler {
  readonly config: ResamplerConfig;
  /** Input samples of look-ahead an output sample needs: the resampler's latency. */
  readonly delayInputSamples: number;
  /**
   * Input samples after which the output instants repeat their phase: a stream resampled from
   * an input index that is a multiple of it lands on the same instants as one resampled from 0.
   */
  readonly alignment: number;
  private readonly up: number;
  private readonly down: number;
  private readonly phases: Float64Array[];
  private readonly history: Float64Array;
  private readonly historyMask: number;
  private inputCount = 0;
  private outputCount = 0;
  private readonly halfTaps: number;

  constructor(config: ResamplerConfig) {
    const { inputHz, outputHz, passbandHz, attenuationDb } = config;
    if (!(inputHz > 0 && Number.isFinite(inputHz)) || !(outputHz > 0 && Number.isFinite(outputHz)))
      throw new ConfigError(`Resampler: rates must be positive (${inputHz} -> ${outputHz})`);
    const nyquistOut = Math.min(inputHz, outputHz) / 2;
    if (!(passbandHz > 0 && passbandHz < nyquistOut)) {
      throw new ConfigError(
        `Resampler: passband ${passbandHz} Hz must lie below the Nyquist frequency ${nyquistOut} Hz`,
      );
    }
    if (!(attenuationDb >= 20))
      throw new ConfigError(`Resampler: attenuation must be at least 20 dB, got ${attenuationDb}`);
    const { up, down } = rationalRatio(inputHz, outputHz);
    if (!(up <= MAX_RESAMPLER_PHASES))
      throw new ConfigError(
        `Resampler: ${inputHz} Hz -> ${outputHz} Hz needs ${up} filter phases, more than ${MAX_RESAMPLER_PHASES}: give the rate to 0.1 Hz`,
      );
    this.config = config;
    this.up = up;
    this.down = down;

    // Kaiser design (Oppenheim & Schafer 7.6) at the upsampled rate up * inputHz
    const transitionHz = nyquistOut - passbandHz;
    const beta =
      attenuationDb > 50
        ? 0.1102 * (attenuationDb - 8.7)
        : 0.5842 * (attenuationDb - 21) ** 0.4 + 0.07886 * (attenuationDb - 21);
    const tapsAtInputRate = (attenuationDb - 8) / (2.285 * ((2 * Math.PI * transitionHz) / inputHz));
    this.halfTaps = Math.ceil(tapsAtInputRate / 2);
    const half = this.halfTaps * up; // prototype half-length in upsampled samples
    const length = 2 * half + 1;
    const cutoff = (passbandHz + nyquistOut) / 2 / (up * inputHz); // cycles per upsampled sample
    const prototype = new Float64Array(length);
    const i0Beta = besselI0(beta);
    for (let n = 0; n < length; n++) {
      const m = n - half;
      const sinc = m === 0 ? 2 * cutoff : Math.sin(2 * Math.PI * cutoff * m) / (Math.PI * m);
      const window = besselI0(beta * Math.sqrt(1 - (m / half) ** 2)) / i0Beta;
      prototype[n] = up * sinc * window;
    }
    // phase p holds taps p, p+up, p+2up...; an output needs one phase's taps
    this.phases = [];
    for (let p = 0; p < up; p++) {
      const taps: number[] = [];
      for (let n = p; n < length; n += up) taps.push(prototype[n] as number);
      // normalise each phase to unit DC gain so a constant input stays exactly constant
      const sum = taps.reduce((a, b) => a + b, 0);
      this.phases.push(Float64Array.from(taps, (t) => t / sum));
    }
    let size = 1;
    while (size < 2 * this.halfTaps + 2) size <<= 1;
    this.history = new Float64Array(size);
    this.historyMask = size - 1;
    this.delayInputSamples = this.halfTaps;
    this.alignment = down;
  }

  /**
   * Feeds one input sample; calls `emit` for every output sample it completes. Before the
   * first sample, the history is filled with that sample (a causal choice: no start-up ramp).
   */
  step(x: number, emit: (y: number, outputIndex: number) => void): void {
    if (this.inputCount === 0) this.history.fill(x);
    this.history[this.inputCount & this.historyMask] = x;
    this.inputCount++;
    const newest = this.inputCount - 1;
    // output k is centred on upsampled instant k*down; it needs inputs up to floor(k*down/up) + halfTaps
    for (;;) {
      const centre = this.outputCount * this.down;
      const lastInput = Math.floor((centre + this.halfTaps * this.up) / this.up);
      if (lastInput > newest) return;
      const phase = (centre + this.halfTaps * this.up) % this.up;
      const taps = this.phases[phase] as Float64Array;
      let acc = 0;
      for (let t = 0; t < taps.length; t++) {
        const j = lastInput - t;
        acc += (taps[t] as number) * (this.history[(j < 0 ? 0 : j) & this.historyMask] as number);
      }
      emit(acc, this.outputCount);
      this.outputCount++;
    }
  }

  push(chunk: ArrayLike<number>): Float32Array {
    const out: number[] = [];
    for (let i = 0; i < chunk.length; i++) this.step(chunk[i] as number, (y) => out.push(y));
    return Float32Array.from(out);
  }

  reset(): void {
    this.inputCount = 0;
    this.outputCount = 0;
    this.history.fill(0);
  }
}
