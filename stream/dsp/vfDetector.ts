import { ConfigError } from '../contracts/errors.js';

export interface VfDetectorConfig {
  /** Sampling rate of the filtered signal, Hz. */
  readonly fs: number;
  readonly windowS: number;
  readonly hopS: number;
  /** Filter leakage below this marks a window as flutter/fibrillation-like (Kuo & Dillman: 0.625). */
  readonly maxLeakage: number;
  /** ...provided its dominant frequency is at least this, Hz (VF/VFL: 3-8 Hz). */
  readonly minHz: number;
  /** Consecutive such windows before the rhythm is called VF. */
  readonly windows: number;
  /**
   * Signal kept for `leakageOver`, s: the beats it is asked about are classified a second or
   * more after they occurred, later still under load.
   */
  readonly historyS: number;
}

export const DEFAULT_VF_DETECTOR: Omit<VfDetectorConfig, 'fs'> = {
  windowS: 4,
  hopS: 1,
  maxLeakage: 0.625,
  minHz: 3,
  windows: 6,
  historyS: 16,
};

/** A change of the VF state, in samples of the filtered stream. */
export interface VfChange {
  readonly active: boolean;
  /** Where the episode began: the last hop of its first VF-like window. */
  readonly onset: number;
  /** End of the window that changed the state. */
  readonly at: number;
}

/**
 * Ventricular flutter/fibrillation by the VF filter leakage of Kuo and Dillman (Computers in
 * Cardiology 1978), as evaluated by Amann et al. (IEEE TBME 2005): a quasi-sinusoidal rhythm
 * is nearly cancelled by a notch at its own mean frequency, an ECG of separate QRS complexes is
 * not. It needs no beat detection, which is what fails in VF. On the 48 MIT-BIH records (4 s
 * windows, 1 s hop) six consecutive windows under 0.625 at 3 Hz or more caught four of the five
 * flutter episodes of record 207 and occurred elsewhere twice (paced record 107, and 205
 * during ventricular tachycardia).
 */
export class VfDetector {
  readonly config: VfDetectorConfig;
  private readonly window: number;
  private readonly hop: number;
  private readonly history: number;
  private buffer: number[] = [];
  /** Stream index of buffer[0]. */
  private base = 0;
  private nextEnd: number;
  private run = 0;
  private runStart = 0;
  private active = false;

  constructor(config: VfDetectorConfig) {
    if (!(config.windows >= 1 && config.hopS > 0 && config.windowS > config.hopS && config.historyS >= config.windowS))
      throw new ConfigError('VfDetector: need historyS >= windowS > hopS > 0 and at least one window');
    this.config = config;
    this.window = Math.round(config.windowS * config.fs);
    this.hop = Math.round(config.hopS * config.fs);
    this.history = Math.round(config.historyS * config.fs);
    this.nextEnd = this.window;
  }

  /** Whether the latest window judged was flutter/fibrillation-like (the alarm needs `windows` of them). */
  get vfLike(): boolean {
    return this.run > 0;
  }

  push(samples: ArrayLike<number>): VfChange[] {
    for (let i = 0; i < samples.length; i++) this.buffer.push(samples[i]!);
    const out: VfChange[] = [];
    while (this.base + this.buffer.length >= this.nextEnd) {
      const start = this.nextEnd - this.window;
      const { leakage, hz } = this.leakage(this.buffer.slice(start - this.base, this.nextEnd - this.base));
      const vfLike = leakage < this.config.maxLeakage && hz >= this.config.minHz;
      if (vfLike) {
        // a window turns VF-like as soon as VF fills a hop or so of it: the episode starts in its last hop
        if (this.run === 0) this.runStart = this.nextEnd - this.hop;
        this.run++;
        if (!this.active && this.run >= this.config.windows) {
          this.active = true;
          out.push({ active: true, onset: this.runStart, at: this.nextEnd });
        }
      } else {
        if (this.active) out.push({ active: false, onset: this.runStart, at: this.nextEnd });
        this.active = false;
        this.run = 0;
      }
      this.nextEnd += this.hop;
    }
    // trimmed a hop at a time, not on every frame: each trim copies the whole kept history
    const keep = Math.min(this.nextEnd - this.window, this.base + this.buffer.length - this.history);
    if (keep - this.base >= this.hop) {
      this.buffer = this.buffer.slice(keep - this.base);
      this.base = keep;
    }
    return out;
  }

  /**
   * The filter leakage of the signal between two stream indices (the end is clipped to what has
   * been pushed), or undefined where part of it is no longer kept or it is under half a second.
   * A run of a few fast complexes is too short for the 4-s windows to have turned VF-like yet.
   */
  leakageOver(from: number, to: number): number | undefined {
    const end = Math.min(to, this.base + this.buffer.length);
    if (from < this.base || end - from < this.config.fs / 2) return undefined;
    return this.leakage(this.buffer.slice(from - this.base, end - this.base)).leakage;
  }

  /** Leakage through a notch at the signal's mean frequency (`hz`), 0 for a pure sinusoid. */
  private leakage(x: readonly number[]): { leakage: number; hz: number } {
    let level = 0;
    let change = 0;
    for (let i = 1; i < x.length; i++) {
      level += Math.abs(x[i]!);
      change += Math.abs(x[i]! - x[i - 1]!);
    }
    if (change === 0) return { leakage: 1, hz: 0 }; // a flat line is not fibrillation
    // half the mean period, in samples: the delay that cancels a sinusoid of that period
    const half = Math.max(1, Math.floor((Math.PI * level) / change + 0.5));
    let residue = 0;
    let total = 0;
    for (let i = half; i < x.length; i++) {
      residue += Math.abs(x[i]! + x[i - half]!);
      total += Math.abs(x[i]!) + Math.abs(x[i - half]!);
    }
    return { leakage: residue / total, hz: this.config.fs / (2 * half) };
  }
}
