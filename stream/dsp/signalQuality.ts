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
  /** The bed's own usual noise ratio: this low percentile of its windows... */
  readonly usualPercentile: number;
  /** ...over this long, s. */
  readonly usualS: number;
  /**
   * A window this many times noisier than usual (and above `relativeFloor`) is noisy too where its
   * beats are not organised: artefact a bed's clean signal shows to be artefact, below the absolute
   * ratio.
   */
  readonly relativeRatio: number;
  readonly relativeFloor: number;
  /** Beats are organised where each correlates at least this much with one of the two before it (median). */
  readonly organisedCorrelation: number;
  /** Half-width of the QRS compared between beats, s. */
  readonly beatHalfS: number;
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
  // electrode motion at 6 dB (NSTDB) doubles to quintuples a clean record's ratio and leaves it
  // under 0.35; the ratio rises as much in VT and flutter, whose complexes, unlike artefact's
  // detections, repeat one another (in either polarity: alternating ones too)
  usualPercentile: 0.2,
  usualS: 300,
  relativeRatio: 2.5,
  relativeFloor: 0.15,
  organisedCorrelation: 0.85,
  beatHalfS: 0.096,
};

/** The judgement of one window. */
export interface QualityWindow {
  /** First sample of the window (index of the filtered stream). */
  readonly start: number;
  /** High-frequency activity between QRS complexes over that of the QRS complexes. */
  readonly noiseRatio: number;
  /** How much the window's complexes repeat one another: the median of each one's best |correlation| with the two before it (1 with under two). */
  readonly organisation: number;
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
 * without any QRS is judged on its own changes against the last known QRS slope. Below that
 * absolute limit, a window much noisier than the bed's usual (`relativeRatio`) is noisy where its
 * detected complexes do not repeat one another: artefact, not a wide-complex rhythm.
 */
export class SignalQuality {
  readonly config: SignalQualityConfig;
  private readonly window: number;
  private readonly hop: number;
  private readonly guard: number;
  private readonly settle: number;
  private readonly beatHalf: number;
  /** |x[n] - x[n-1]| from sample `base` on... */
  private diffs: number[] = [];
  /** ...and x[n]. */
  private values: number[] = [];
  /** The latest windows' noise ratios, for the bed's usual one. */
  private recentRatios: number[] = [];
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
    this.beatHalf = Math.round(config.beatHalfS * config.fs);
    if (!(this.beatHalf > 0 && config.relativeRatio > 1 && config.usualS >= config.hopS))
      throw new ConfigError('SignalQuality: beatHalfS and usualS must be positive, relativeRatio above 1');
    if (!(config.usualPercentile >= 0 && config.usualPercentile <= 1 && config.organisedCorrelation < 1))
      throw new ConfigError('SignalQuality: usualPercentile must be in [0, 1], organisedCorrelation below 1');
  }

  /** Filtered samples and the peaks (sample indices of the same stream) found since the last call. */
  push(samples: ArrayLike<number>, peaks: readonly number[]): QualityWindow[] {
    for (let i = 0; i < samples.length; i++) {
      const x = samples[i]!;
      this.diffs.push(this.last === undefined ? 0 : Math.abs(x - this.last));
      this.values.push(x);
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

  /** How much the complexes detected in [start, end) repeat one another (`QualityWindow.organisation`). */
  private organisation(start: number, end: number): number {
    const h = this.beatHalf;
    const beats = this.peaks.filter((p) => p - h >= Math.max(start, this.base) && p + h < Math.min(end, this.count));
    if (beats.length < 2) return 1;
    const best: number[] = [];
    for (let k = 1; k < beats.length; k++) {
      const withPrevious = Math.abs(this.correlation(beats[k - 1]!, beats[k]!));
      best.push(k > 1 ? Math.max(withPrevious, Math.abs(this.correlation(beats[k - 2]!, beats[k]!))) : withPrevious);
    }
    best.sort((a, b) => a - b);
    return best[best.length >> 1]!;
  }

  /** Pearson correlation of the complexes around peaks `a` and `b`. */
  private correlation(a: number, b: number): number {
    const h = this.beatHalf;
    let ma = 0;
    let mb = 0;
    for (let i = -h; i < h; i++) {
      ma += this.values[a + i - this.base]!;
      mb += this.values[b + i - this.base]!;
    }
    ma /= 2 * h;
    mb /= 2 * h;
    let ab = 0;
    let aa = 0;
    let bb = 0;
    for (let i = -h; i < h; i++) {
      const x = this.values[a + i - this.base]! - ma;
      const y = this.values[b + i - this.base]! - mb;
      ab += x * y;
      aa += x * x;
      bb += y * y;
    }
    return aa > 0 && bb > 0 ? ab / Math.sqrt(aa * bb) : 0;
  }

  private judge(): QualityWindow {
    const start = this.windowStart;
    const end = start + this.window;
    const { activity, slopes } = this.measure(start, end);
    slopes.sort((a, b) => a - b);
    if (slopes.length > 0) this.qrsSlope = slopes[Math.floor(slopes.length / 2)]!;
    const noiseRatio = this.qrsSlope === undefined || this.qrsSlope === 0 ? 0 : activity / this.qrsSlope;
    const organisation = this.organisation(start, end);
    const c = this.config;
    const sorted = this.recentRatios.length > 0 ? [...this.recentRatios].sort((a, b) => a - b) : [noiseRatio];
    const usual = sorted[Math.floor(c.usualPercentile * (sorted.length - 1))]!;
    const relativeLimit = Math.max(c.relativeFloor, c.relativeRatio * usual);
    const noisy = noiseRatio > c.noisyRatio || (noiseRatio > relativeLimit && organisation < c.organisedCorrelation);
    // clean by the same two measures, with the same hysteresis
    const hysteresis = c.cleanRatio / c.noisyRatio;
    const clean =
      noiseRatio < Math.min(c.cleanRatio, hysteresis * relativeLimit) ||
      (noiseRatio < hysteresis * c.noisyRatio &&
        organisation >= c.organisedCorrelation + (1 - c.organisedCorrelation) / 3);
    this.recentRatios.push(noiseRatio);
    if (this.recentRatios.length > Math.round(c.usualS / c.hopS)) this.recentRatios.shift();
    this.noisyRun = noisy ? this.noisyRun + 1 : 0;
    this.cleanRun = clean ? this.cleanRun + 1 : 0;
    if (this.noisyRun >= c.noisyWindows) this.poor = true;
    else if (this.cleanRun >= c.cleanWindows) this.poor = false;
    // forget what no later window (nor ratioOver, which looks back one window) needs
    this.windowStart = start + this.hop;
    const keepFrom = Math.max(this.base, this.windowStart - this.window - this.guard);
    this.diffs = this.diffs.slice(keepFrom - this.base);
    this.values = this.values.slice(keepFrom - this.base);
    this.base = keepFrom;
    this.peaks = this.peaks.filter((p) => p >= keepFrom - this.guard);
    const quality = Math.max(0, Math.min(1, 1 - noiseRatio / (2 * c.noisyRatio)));
    return { start, noiseRatio, organisation, quality, poor: this.poor };
  }
}
