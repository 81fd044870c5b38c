import { ConfigError } from '../contracts/errors.js';
import { BiquadCascade, lowpass } from './biquad.js';

export interface PulseDetectorConfig {
  /** Sampling rate of the pulsatile signal, Hz. */
  readonly fs: number;
  /** Low-pass corner before the slope sum, Hz (wabp: 16). */
  readonly lowpassHz: number;
  /** Slope sum window, s (wabp: 128 ms, about a pulse's upstroke). */
  readonly windowS: number;
  /** A pulse's slope sum threshold is this share of the recent pulses' slope sum peaks (wabp: 0.6)... */
  readonly thresholdShare: number;
  /** ...halved (down to its floor) after this long without a pulse, s: it recovers after an artefact. */
  readonly decayAfterS: number;
  /** Learning time before the first threshold is set, s. */
  readonly learnS: number;
  /** No two pulses closer than this, s (a rate of 240 bpm). */
  readonly refractoryS: number;
  /** After the threshold is crossed, the slope sum's peak is looked for this long, s. */
  readonly peakSearchS: number;
}

export const DEFAULT_PULSE_DETECTOR: Omit<PulseDetectorConfig, 'fs'> = {
  lowpassHz: 16,
  windowS: 0.128,
  thresholdShare: 0.6,
  decayAfterS: 2,
  learnS: 3,
  refractoryS: 0.25,
  peakSearchS: 0.15,
};

/** A slope sum below this (in the signal's units) is rounding, not a rise. */
const MIN_SLOPE_SUM = 1e-6;

/** A pulse: where its upstroke began (the threshold crossing) and how steep it was. */
export interface Pulse {
  /** Source sample index of the upstroke's threshold crossing, from the detector's first sample. */
  readonly sample: number;
  /** The slope sum's peak over the upstroke: the pulse's strength, in the signal's units. */
  readonly strength: number;
}

/**
 * Pulses of an arterial pressure or photoplethysmogram signal by the slope sum function of
 * Zong, Heldt, Moody and Mark ("An open-source algorithm to detect onset of arterial blood
 * pressure pulses", Computers in Cardiology 2003; PhysioNet's wabp): the signal is low-passed,
 * the rises over the last 128 ms are summed, and a pulse is where that sum crosses a threshold
 * set from the recent pulses' peaks. Invalid samples (NaN) hold the last valid one: a signal that
 * stops has no pulses. Chunking does not change the output.
 */
export class PulseDetector {
  readonly config: PulseDetectorConfig;
  private readonly filter: BiquadCascade;
  private readonly window: number;
  private readonly refractory: number;
  private readonly peakSearch: number;
  private readonly decayAfter: number;
  private readonly learn: number;
  /** The last `window` rises and their sum. */
  private rises: number[] = [];
  private sum = 0;
  private previous: number | undefined;
  private held = 0;
  private n = 0;
  private learnSum = 0;
  private learnCount = 0;
  private threshold: number | undefined;
  /** The floor the threshold never decays below: a tenth of the first one. */
  private floor = 0;
  private peakAverage = 0;
  /** The last pulse's sample (or the end of learning, or the last decay). */
  private lastPulse = 0;
  /** Whether the slope sum has been below the threshold since the last pulse. */
  private armed = false;
  /** A crossing being followed to its peak. */
  private rising: { sample: number; peak: number; until: number } | undefined;
  private out: Pulse[] = [];

  constructor(config: PulseDetectorConfig) {
    if (!(config.fs > 2 * config.lowpassHz && config.windowS > 0 && config.learnS > 0))
      throw new ConfigError(
        `PulseDetector: need fs above twice the low-pass corner and positive windows, got fs ${config.fs}`,
      );
    this.config = config;
    this.filter = new BiquadCascade([lowpass(config.lowpassHz, config.fs)]);
    this.window = Math.max(1, Math.round(config.windowS * config.fs));
    this.refractory = Math.round(config.refractoryS * config.fs);
    this.peakSearch = Math.round(config.peakSearchS * config.fs);
    this.decayAfter = Math.round(config.decayAfterS * config.fs);
    this.learn = Math.round(config.learnS * config.fs);
  }

  /** A chunk of the signal (NaN where invalid): the pulses it completes. */
  push(chunk: ArrayLike<number>): Pulse[] {
    for (let i = 0; i < chunk.length; i++) {
      const raw = chunk[i]!;
      if (!Number.isNaN(raw)) this.held = raw;
      this.step(this.filter.step(this.held));
    }
    const out = this.out;
    this.out = [];
    return out;
  }

  private step(y: number): void {
    const rise = this.previous === undefined ? 0 : Math.max(0, y - this.previous);
    this.previous = y;
    this.rises.push(rise);
    this.sum += rise;
    if (this.rises.length > this.window) this.sum -= this.rises.shift()!;
    const ssf = Math.max(0, this.sum);
    const at = this.n++;
    if (this.threshold === undefined) {
      // wabp's start: three times the mean slope sum of the first seconds
      this.learnSum += ssf;
      this.learnCount++;
      if (this.learnCount >= this.learn) {
        const threshold = (3 * this.learnSum) / this.learnCount;
        this.learnSum = 0;
        this.learnCount = 0;
        // a signal that has not moved (a flat line, nothing but rounding) has no pulse to learn: learn again
        if (!(threshold > MIN_SLOPE_SUM)) return;
        this.threshold = threshold;
        this.floor = this.threshold / 10;
        this.peakAverage = this.threshold / this.config.thresholdShare;
        this.lastPulse = at;
      }
      return;
    }
    if (this.rising !== undefined) {
      this.rising.peak = Math.max(this.rising.peak, ssf);
      if (at >= this.rising.until) {
        const { sample, peak } = this.rising;
        this.rising = undefined;
        this.out.push({ sample, strength: peak });
        this.peakAverage = 0.75 * this.peakAverage + 0.25 * peak;
        this.threshold = Math.max(this.floor, this.config.thresholdShare * this.peakAverage);
      }
      return;
    }
    if (at - this.lastPulse > this.decayAfter) {
      // no pulse for a while: an artefact may have raised the threshold out of reach
      this.threshold = Math.max(this.floor, this.threshold / 2);
      this.peakAverage = this.threshold / this.config.thresholdShare;
      this.lastPulse = at - this.decayAfter; // halve again only after as long once more
    }
    // a crossing is a rise from below: one long upstroke is one pulse, however long it stays above
    if (ssf <= this.threshold) this.armed = true;
    else if (this.armed && at - this.lastPulse >= this.refractory) {
      this.rising = { sample: at, peak: ssf, until: at + this.peakSearch };
      this.lastPulse = at;
      this.armed = false;
    }
  }
}
