import { ConfigError } from '../contracts/errors.js';

/** Normalised second-order section coefficients (a0 = 1). */
export interface BiquadCoefficients {
  readonly b0: number;
  readonly b1: number;
  readonly b2: number;
  readonly a1: number;
  readonly a2: number;
}

function checkFrequency(kind: string, hz: number, fs: number): number {
  if (!(hz > 0 && hz < fs / 2)) {
    throw new ConfigError(`${kind} frequency ${hz} Hz must lie strictly between 0 and Nyquist (${fs / 2} Hz)`);
  }
  return (2 * Math.PI * hz) / fs;
}

// Bilinear-transform designs (RBJ audio EQ cookbook). Q = 1/sqrt(2) gives Butterworth.
const BUTTERWORTH_Q = Math.SQRT1_2;

export function lowpass(hz: number, fs: number, q = BUTTERWORTH_Q): BiquadCoefficients {
  const w = checkFrequency('low-pass', hz, fs);
  const alpha = Math.sin(w) / (2 * q);
  const cos = Math.cos(w);
  const a0 = 1 + alpha;
  return {
    b0: (1 - cos) / 2 / a0,
    b1: (1 - cos) / a0,
    b2: (1 - cos) / 2 / a0,
    a1: (-2 * cos) / a0,
    a2: (1 - alpha) / a0,
  };
}

export function highpass(hz: number, fs: number, q = BUTTERWORTH_Q): BiquadCoefficients {
  const w = checkFrequency('high-pass', hz, fs);
  const alpha = Math.sin(w) / (2 * q);
  const cos = Math.cos(w);
  const a0 = 1 + alpha;
  return {
    b0: (1 + cos) / 2 / a0,
    b1: -(1 + cos) / a0,
    b2: (1 + cos) / 2 / a0,
    a1: (-2 * cos) / a0,
    a2: (1 - alpha) / a0,
  };
}

/** Narrow band-stop at `hz`, bandwidth hz/q: the mains notch. */
export function notch(hz: number, fs: number, q = 30): BiquadCoefficients {
  const w = checkFrequency('notch', hz, fs);
  const alpha = Math.sin(w) / (2 * q);
  const cos = Math.cos(w);
  const a0 = 1 + alpha;
  return { b0: 1 / a0, b1: (-2 * cos) / a0, b2: 1 / a0, a1: (-2 * cos) / a0, a2: (1 - alpha) / a0 };
}

/**
 * A causal cascade of second-order sections (transposed direct form II), carrying its state
 * across calls so that chunk boundaries never show in the output.
 */
export class BiquadCascade {
  private readonly coefficients: readonly BiquadCoefficients[];
  private readonly state: Float64Array;
  private primed = false;

  constructor(sections: readonly BiquadCoefficients[]) {
    this.coefficients = sections;
    this.state = new Float64Array(2 * sections.length);
  }

  /**
   * Filters one sample. The first sample primes every section to its steady state for a
   * constant input, so a record that starts off zero (ADC baseline) does not ring for seconds.
   */
  step(input: number): number {
    if (!this.primed) this.prime(input);
    let x = input;
    const s = this.state;
    for (let i = 0, k = 0; i < this.coefficients.length; i++, k += 2) {
      const c = this.coefficients[i] as BiquadCoefficients;
      const y = c.b0 * x + (s[k] as number);
      s[k] = c.b1 * x - c.a1 * y + (s[k + 1] as number);
      s[k + 1] = c.b2 * x - c.a2 * y;
      x = y;
    }
    return x;
  }

  reset(): void {
    this.state.fill(0);
    this.primed = false;
  }

  private prime(input: number): void {
    let x = input;
    for (let i = 0, k = 0; i < this.coefficients.length; i++, k += 2) {
      const c = this.coefficients[i] as BiquadCoefficients;
      const y = (x * (c.b0 + c.b1 + c.b2)) / (1 + c.a1 + c.a2);
      const s2 = c.b2 * x - c.a2 * y;
      this.state[k + 1] = s2;
      this.state[k] = c.b1 * x - c.a1 * y + s2;
      x = y;
    }
    this.primed = true;
  }
}
