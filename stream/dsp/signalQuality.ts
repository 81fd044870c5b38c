import { ConfigError } from '../contracts/errors.js';

export interface SignalQualityConfig {
  /** Sampling rate of the filtered signal fed in, Hz. */
  readonly fs: number;
  /** Length of the windows judged, s. */
  readonly windowS: number;
  /** Time from one window's start to the next's, s (windows overlap when below windowS). */
  readonly hopS: number;
  /** Half-width of the QRS excluded around each detected peak, s. */
  readonly guardS: number;
  /** How long after a window ends its peaks are surely known (the detector's decision delay), s. */
  readonly settleS: number;
  /** Noise ratio above which a window is noisy... */
  readonly noisyRatio: number;
  /** ...and below which it is clean again (hysteresis). */
  readonly cleanRatio: number;
  /** Consecutive noisy windows before the signal is called poor... */
  readonly noisyWindows: number;
  /** ...and clean ones before it is good again. */
  readonly cleanWindows: number;
}

export const DEFAULT_SIGNAL_QUALITY: Omit<SignalQualityConfig, 'fs'> = {
  windowS: 5,
  // a window every second, poor after three noisy ones (7 s): a 10 s burst of noise is called
  // poor while it lasts, where back-to-back windows needed 10 s aligned with them and said so
  // after; good again after three clean ones, so that a noisy record does not flap
  hopS: 1,
  guardS: 0.064,
  settleS: 1,
  noisyRatio: 0.35,
  cleanRatio: 0.25,
  noisyWindows: 3,
  cleanWindows: 3,
};

/** The judgement of one window. */
export interface QualityWindow {
  /** First sample of the window (index of the filtered stream). */
  readonly start: number;
  /** High-frequency activity between QRS complexes over that of the QRS complexes. */
  readonly noiseRatio: number;
  /** 0 (unusable) to 1 (clean), from the noise ratio. */
  readonly quality: number;
  /** Whether the signal is poor after this window (with hysteresis). */
  readonly poor: boolean;
}

/**
 * Signal quality from the filtered ECG and its detected QRS complexes. Between beats a clean
 * ECG holds only slow P and T waves, so its sample-to-sample changes there are a small fraction
 * of those inside a QRS; muscle artefact and electrode motion fill the same interval with fast
 * changes. The ratio of the 90th percentile of |dx| outside the QRS complexes to the median of
 * the QRS complexes' largest |dx| measures that; on the 48 MIT-BIH records it exceeds 0.35 in
 * 0.7 % of 5 s windows (most in the noisy records 105 and 108 and the paced 107 and 217). A window
 * without any QRS is judged on its own changes against the last known QRS slope.
 */
export class SignalQuality {
  readonly config: SignalQualityConfig;
  private readonly window: number;
  private readonly hop: number;
  private readonly guard: number;
  private readonly settle: number;
  /** |x[n] - x[n-1]| from sample `base` on. */
  private diffs: number[] = [];
  private base = 0;
  private count = 0;
  private last: number | undefined;
  private peaks: number[] = [];
  private windowStart = 0;
  private noisyRun = 0;
  private cleanRun = 0;
  private poor = false;
  private qrsSlope: number | undefined;

  constructor(config: SignalQualityConfig) {
    if (!(config.cleanRatio < config.noisyRatio))
      throw new ConfigError('SignalQuality: cleanRatio must be below noisyRatio');
    this.config = config;
    this.window = Math.round(config.windowS * config.fs);
    this.hop = Math.round(config.hopS * config.fs);
    if (!(this.hop > 0 && this.hop <= this.window))
      throw new ConfigError('SignalQuality: hopS must be positive and at most windowS');
    this.guard = Math.round(config.guardS * config.fs);
    this.settle = Math.round(config.settleS * config.fs);
  }

  /** Filtered samples and the peaks (sample indices of the same stream) found since the last call. */
  push(samples: ArrayLike<number>, peaks: readonly number[]): QualityWindow[] {
    for (let i = 0; i < samples.length; i++) {
      const x = samples[i]!;
      this.diffs.push(this.last === undefined ? 0 : Math.abs(x - this.last));
      this.last = x;
      this.count++;
    }
    this.peaks.push(...peaks);
    const out: QualityWindow[] = [];
    while (this.count >= this.windowStart + this.window + this.settle) out.push(this.judge());
    return out;
  }

  /**
   * The noise ratio of samples [from, to) of the filtered stream as far as they are still kept
   * (the current window and the one before it), against the last window's QRS slope: what the
   * next window will say of a stretch, without waiting for it. Undefined before any QRS slope
   * is known or with under half a second kept.
   */
  ratioOver(from: number, to: number): number | undefined {
    const start = Math.max(from, this.base + this.guard);
    const end = Math.min(to, this.count);
    if (this.qrsSlope === undefined || this.qrsSlope === 0 || end - start < this.config.fs / 2) return undefined;
    return this.measure(start, end).activity / this.qrsSlope;
  }

  /** 90th percentile of |dx| between the QRS complexes of [start, end), and the QRS complexes' slopes. */
  private measure(start: number, end: number): { activity: number; slopes: number[] } {
    const near = new Uint8Array(end - start);
    const slopes: number[] = [];
    for (const p of this.peaks) {
      if (p < start - this.guard || p >= end + this.guard) continue;
      let slope = 0;
      for (let i = p - this.guard; i <= p + this.guard; i++) {
        if (i >= start && i < end) near[i - start] = 1;
        if (i >= this.base && i < this.count) slope = Math.max(slope, this.diffs[i - this.base]!);
      }
      if (p >= start && p < end) slopes.push(slope);
    }
    const between: number[] = [];
    for (let i = start; i < end; i++) if (near[i - start] === 0) between.push(this.diffs[i - this.base]!);
    between.sort((a, b) => a - b);
    return { activity: between.length > 0 ? between[Math.floor(0.9 * (between.length - 1))]! : 0, slopes };
  }

  private judge(): QualityWindow {
    const start = this.windowStart;
    const end = start + this.window;
    const { activity, slopes } = this.measure(start, end);
    slopes.sort((a, b) => a - b);
    if (slopes.length > 0) this.qrsSlope = slopes[Math.floor(slopes.length / 2)]!;
    const noiseRatio = this.qrsSlope === undefined || this.qrsSlope === 0 ? 0 : activity / this.qrsSlope;
    const c = this.config;
    this.noisyRun = noiseRatio > c.noisyRatio ? this.noisyRun + 1 : 0;
    this.cleanRun = noiseRatio < c.cleanRatio ? this.cleanRun + 1 : 0;
    if (this.noisyRun >= c.noisyWindows) this.poor = true;
    else if (this.cleanRun >= c.cleanWindows) this.poor = false;
    // forget what no later window (nor ratioOver, which looks back one window) needs
    this.windowStart = start + this.hop;
    const keepFrom = Math.max(this.base, this.windowStart - this.window - this.guard);
    this.diffs = this.diffs.slice(keepFrom - this.base);
    this.base = keepFrom;
    this.peaks = this.peaks.filter((p) => p >= keepFrom - this.guard);
    const quality = Math.max(0, Math.min(1, 1 - noiseRatio / (2 * c.noisyRatio)));
    return { start, noiseRatio, quality, poor: this.poor };
  }
}
