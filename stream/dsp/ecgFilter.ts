import { ConfigError } from '../contracts/errors.js';
import { BiquadCascade, highpass, lowpass, notch, type BiquadCoefficients } from './biquad.js';

export interface EcgFilterConfig {
  /** Input sampling frequency, Hz. */
  readonly fs: number;
  /** Baseline-wander high-pass corner, Hz (0.5 = monitor mode; 0.05 = diagnostic). */
  readonly highpassHz: number;
  /** Low-pass corner, Hz; muscle noise lives above it. */
  readonly lowpassHz: number;
  /** Mains frequency to notch out (50 or 60), or null for none. */
  readonly mainsHz: 50 | 60 | null;
}

export const DEFAULT_ECG_FILTER: Omit<EcgFilterConfig, 'fs'> = { highpassHz: 0.5, lowpassHz: 40, mainsHz: 60 };

/**
 * The monitor's signal conditioning: baseline removal, low-pass and mains notch, all causal
 * so that a live stream and an offline replay filter identically.
 */
export class EcgFilter {
  readonly config: EcgFilterConfig;
  private readonly cascade: BiquadCascade;

  constructor(config: EcgFilterConfig) {
    if (!(config.fs > 0)) throw new ConfigError(`EcgFilter: sampling frequency must be positive, got ${config.fs}`);
    if (!(config.highpassHz < config.lowpassHz)) {
      throw new ConfigError(
        `EcgFilter: high-pass ${config.highpassHz} Hz must be below low-pass ${config.lowpassHz} Hz`,
      );
    }
    if (config.mainsHz !== null && config.mainsHz !== 50 && config.mainsHz !== 60) {
      throw new ConfigError(`EcgFilter: mains frequency must be 50, 60 or null, got ${String(config.mainsHz)}`);
    }
    this.config = config;
    const sections: BiquadCoefficients[] = [highpass(config.highpassHz, config.fs)];
    if (config.lowpassHz < config.fs / 2) sections.push(lowpass(config.lowpassHz, config.fs));
    // a mains component at or above Nyquist cannot exist in the sampled signal
    if (config.mainsHz !== null && config.mainsHz < config.fs / 2) sections.push(notch(config.mainsHz, config.fs));
    this.cascade = new BiquadCascade(sections);
  }

  step(x: number): number {
    return this.cascade.step(x);
  }

  push(chunk: ArrayLike<number>): Float32Array {
    const out = new Float32Array(chunk.length);
    for (let i = 0; i < chunk.length; i++) out[i] = this.cascade.step(chunk[i] as number);
    return out;
  }

  reset(): void {
    this.cascade.reset();
  }
}
