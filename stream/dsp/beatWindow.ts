import { ConfigError } from '../contracts/errors.js';

export interface BeatWindowConfig {
  /** Sampling frequency of the signal windows are cut from, Hz (125 for the model). */
  readonly fs: number;
  /** Window length in samples (187 for the model). */
  readonly length: number;
  /** Index of the R peak inside the window. */
  readonly rIndex: number;
  /** How many previous RR intervals the running mean covers. */
  readonly rrHistory: number;
  /** How many previous RR intervals the baseline mean covers (minutes of rhythm, not seconds). */
  readonly rrBaselineBeats: number;
  /** How many previous RR intervals the rhythm irregularity is measured over. */
  readonly irregularityBeats: number;
  /** How many previous windows the patient's running template is the median of. */
  readonly templateBeats: number;
  /**
   * How long after its R peak a beat waits for the next one to be detected, s (`rrNext`): a
   * premature atrial beat is followed by a pause, which the window alone shows only at fast
   * rates. A window is emitted when it is complete and either the next peak has come or this
   * much signal has passed its R peak.
   */
  readonly nextBeatWaitS: number;
  /**
   * Only a beat whose RR is below this share of its baseline RR waits for the next beat: the
   * decision rule reads the interval after early beats only (`DecisionRule.pausedPremature`),
   * so the others need not be classified later for it. Infinity: every beat waits (the dataset
   * builder records the next interval of every beat); 0: none does.
   */
  readonly nextBeatWaitBelow: number;
  /** How many previous beats the P-wave agreement is the median over (`BeatWindow.pWaveAgreement`). */
  readonly pWaveBeats: number;
}

/**
 * Where a beat's P wave lies, s before its R peak: 280 to 64 ms, a normal PR interval's span
 * (0.12 to 0.20 s) with the P wave's own width around it, stopping short of the QRS onset.
 */
export const P_WAVE_SEGMENT_S = { from: 0.28, to: 0.064 } as const;

export const DEFAULT_BEAT_WINDOW: Omit<BeatWindowConfig, 'fs'> = {
  length: 187,
  rIndex: 62,
  rrHistory: 8,
  rrBaselineBeats: 200,
  irregularityBeats: 16,
  templateBeats: 8,
  nextBeatWaitS: 2,
  nextBeatWaitBelow: Infinity,
  pWaveBeats: 16,
};

/** One lead's part of a beat: its window and that lead's running patient template. */
export interface LeadWindow {
  readonly samples: Float32Array;
  /**
   * Sample-wise median of this stream's previous `templateBeats` windows (this window itself
   * for the first beat): the patient's usual beat, so a classifier can judge a beat against
   * the patient rather than against the population.
   */
  readonly template: Float32Array;
}

/** A beat cut for classification, with the causal RR features known when it was cut. */
export interface BeatWindow extends LeadWindow {
  /** Sample index of the R peak (at `fs`). */
  readonly rPeak: number;
  /** Interval from the previous R peak, s; undefined for the first beat after a (re)start. */
  readonly rrPrevious: number | undefined;
  /** Mean of up to `rrHistory` previous intervals, s. */
  readonly rrMean: number | undefined;
  /**
   * Mean of up to `rrBaselineBeats` previous intervals, s: the patient's rhythm over the last
   * minutes. A run of ectopic beats soon becomes the 8-beat mean, so beats of the run stop
   * looking premature against it; against the baseline they still do.
   */
  readonly rrBaseline: number | undefined;
  /**
   * How irregular the previous `irregularityBeats` intervals are (`rhythmIrregularity`); 0
   * until that many are known. Atrial fibrillation is irregularly irregular, and there a
   * short interval says nothing about an atrial premature beat.
   */
  readonly rrIrregularity: number;
  /**
   * Interval to the next R peak, s: `Infinity` when none was detected within `nextBeatWaitS`
   * (a pause), undefined when the stream was cut before either (a gap, a stall, its end) or the
   * beat was not early enough to wait for it (`nextBeatWaitBelow`) and went before it.
   */
  readonly rrNext: number | undefined;
  /**
   * Whether the recent beats had the patient's usual P wave: the median, over the previous
   * `pWaveBeats` beats, of each one's correlation with its template over the P-wave segment
   * (`P_WAVE_SEGMENT_S`); undefined for a stream's first beat. Atrial fibrillation has no P
   * waves, so its beats' segments do not repeat (a median near 0.2 in MIT-BIH); a sinus rhythm
   * made irregular by atrial premature beats and pauses keeps them (near 0.9 in a regular one).
   */
  readonly pWaveAgreement: number | undefined;
  /**
   * The same instant in the bed's second lead, cut at the monitoring lead's R peak, where the
   * stream has one: some ventricular beats look normal in one lead and not in the other.
   */
  readonly secondLead?: LeadWindow;
}

/**
 * Cuts fixed-length windows around R peaks from a stream. Peaks arrive later than their
 * samples (the detector's delay), so samples are kept in a ring long enough for the slowest
 * decision; a window is emitted once its last sample has arrived and the interval after its
 * beat is known (`rrNext`), or `flush` is called.
 */
export class BeatWindowCutter {
  readonly config: BeatWindowConfig;
  private readonly ring: Float32Array;
  private readonly mask: number;
  private n = 0;
  private waiting: number[] = [];
  private lastPeak: number | undefined;
  private readonly rr: RrHistory;
  /** The RR features of each waiting peak, known when it came, and the peak registered after it. */
  private pending = new Map<
    number,
    Pick<BeatWindow, 'rrPrevious' | 'rrMean' | 'rrBaseline' | 'rrIrregularity'> & { next?: number }
  >();
  private readonly wait: number;
  private recentWindows: Float32Array[] = [];
  /** The P-wave segment in window samples, [from, to); null when the window does not hold it. */
  private readonly pWave: { from: number; to: number } | null;
  /** Each recent beat's P-wave correlation with its template, oldest first. */
  private recentPWaves: number[] = [];
  /** Peaks too close to the start of the stream (or too old for the ring) to cut a whole window. */
  skipped = 0;

  constructor(config: BeatWindowConfig) {
    const { fs, length, rIndex, rrHistory, rrBaselineBeats, irregularityBeats, templateBeats, nextBeatWaitS } = config;
    if (!(fs > 0)) throw new ConfigError(`BeatWindowCutter: fs must be positive, got ${fs}`);
    if (!Number.isInteger(length) || length < 2)
      throw new ConfigError(`BeatWindowCutter: length must be an integer >= 2, got ${length}`);
    if (!Number.isInteger(rIndex) || rIndex < 0 || rIndex >= length) {
      throw new ConfigError(`BeatWindowCutter: rIndex must be an integer in [0, ${length - 1}], got ${rIndex}`);
    }
    if (!Number.isInteger(rrHistory) || rrHistory < 1)
      throw new ConfigError(`BeatWindowCutter: rrHistory must be >= 1`);
    if (!Number.isInteger(rrBaselineBeats) || rrBaselineBeats < 1)
      throw new ConfigError(`BeatWindowCutter: rrBaselineBeats must be an integer >= 1, got ${rrBaselineBeats}`);
    if (!Number.isInteger(irregularityBeats) || irregularityBeats < 4)
      throw new ConfigError(`BeatWindowCutter: irregularityBeats must be an integer >= 4, got ${irregularityBeats}`);
    if (!Number.isInteger(templateBeats) || templateBeats < 1) {
      throw new ConfigError(`BeatWindowCutter: templateBeats must be an integer >= 1, got ${templateBeats}`);
    }
    if (!(nextBeatWaitS >= 0) || !Number.isFinite(nextBeatWaitS)) {
      throw new ConfigError(
        `BeatWindowCutter: nextBeatWaitS must be a finite number of seconds >= 0, got ${nextBeatWaitS}`,
      );
    }
    if (!(config.nextBeatWaitBelow >= 0))
      throw new ConfigError(
        `BeatWindowCutter: nextBeatWaitBelow must be a share of the baseline RR >= 0 (or Infinity), got ${config.nextBeatWaitBelow}`,
      );
    if (!Number.isInteger(config.pWaveBeats) || config.pWaveBeats < 1)
      throw new ConfigError(`BeatWindowCutter: pWaveBeats must be an integer >= 1, got ${config.pWaveBeats}`);
    this.config = config;
    const pFrom = rIndex - Math.round(P_WAVE_SEGMENT_S.from * fs);
    const pTo = rIndex - Math.round(P_WAVE_SEGMENT_S.to * fs) + 1;
    // a window that starts less than 280 ms before its R peak holds no P wave to compare
    this.pWave = pFrom >= 0 && pTo - pFrom >= 3 ? { from: pFrom, to: pTo } : null;
    this.wait = Math.round(nextBeatWaitS * fs);
    this.rr = new RrHistory(rrBaselineBeats, Math.max(rrHistory, irregularityBeats));
    let size = 1;
    // room for one window, the wait for the next beat and 16 s of detector delay (search-back
    // after a long pause)
    while (size < length + this.wait + 16 * fs) size <<= 1;
    this.ring = new Float32Array(size);
    this.mask = size - 1;
  }

  /** Stores one sample; returns the windows it completes. */
  step(x: number, out: BeatWindow[]): void {
    this.ring[this.n & this.mask] = x;
    this.n++;
    this.emitReady(out);
  }

  /** Registers an R peak (index in this stream's samples); peaks must come in index order. */
  addPeak(rPeak: number, out: BeatWindow[]): void {
    const { fs, rIndex, length, rrHistory, irregularityBeats } = this.config;
    const rrPrevious = this.lastPeak === undefined ? undefined : (rPeak - this.lastPeak) / fs;
    // the features describe the intervals before this one: read them, then add it
    const recent = this.rr.last(rrHistory);
    const rrMean = recent.length === 0 ? undefined : recent.reduce((a, b) => a + b, 0) / recent.length;
    const rrBaseline = this.rr.baseline();
    const rhythm = this.rr.last(irregularityBeats);
    const rrIrregularity = rhythm.length < irregularityBeats ? 0 : rhythmIrregularity(rhythm);
    if (rrPrevious !== undefined) this.rr.add(rrPrevious);
    const previous = this.lastPeak === undefined ? undefined : this.pending.get(this.lastPeak);
    if (previous !== undefined) previous.next = rPeak;
    this.lastPeak = rPeak;
    const start = rPeak - rIndex;
    if (start < 0 || start < this.n - this.ring.length || start + length > this.n + this.ring.length) {
      this.skipped++;
      return;
    }
    this.pending.set(rPeak, { rrPrevious, rrMean, rrBaseline, rrIrregularity });
    this.waiting.push(rPeak);
    this.emitReady(out);
  }

  push(chunk: ArrayLike<number>, peaks: readonly number[]): BeatWindow[] {
    const out: BeatWindow[] = [];
    for (const p of peaks) this.addPeak(p, out);
    for (let i = 0; i < chunk.length; i++) this.step(chunk[i] as number, out);
    return out;
  }

  /**
   * Emits the complete windows still waiting for the next beat, without it (`rrNext`
   * undefined): the stream is cut (a gap, a stall, its end) and may not say for a long time.
   */
  flush(out: BeatWindow[]): void {
    this.emitReady(out, true);
  }

  /** Forgets the stream; windows still waiting are dropped (`flush` first to keep them). */
  reset(): void {
    this.n = 0;
    this.waiting = [];
    this.lastPeak = undefined;
    this.rr.clear();
    this.pending.clear();
    this.recentWindows = [];
    this.recentPWaves = [];
    this.ring.fill(0);
  }

  private emitReady(out: BeatWindow[], cut = false): void {
    const { rIndex, length, fs } = this.config;
    while (this.waiting.length > 0) {
      const rPeak = this.waiting[0] as number;
      const start = rPeak - rIndex;
      if (start + length > this.n) return;
      const rr = this.pending.get(rPeak);
      const next = rr?.next;
      const waited = this.n - rPeak >= this.wait;
      if (next === undefined && !waited && !cut && this.waitsForNext(rr)) return;
      this.waiting.shift();
      this.pending.delete(rPeak);
      const samples = new Float32Array(length);
      for (let i = 0; i < length; i++) samples[i] = this.ring[(start + i) & this.mask] as number;
      const template = this.recentWindows.length === 0 ? samples.slice() : sampleMedian(this.recentWindows, length);
      this.recentWindows.push(samples);
      if (this.recentWindows.length > this.config.templateBeats) this.recentWindows.shift();
      const pWaveAgreement = this.recentPWaves.length === 0 ? undefined : median(this.recentPWaves);
      if (this.pWave !== null) {
        const { from, to } = this.pWave;
        // a flat segment (lead off) has no P wave to agree
        this.recentPWaves.push(pearson(samples.subarray(from, to), template.subarray(from, to)) ?? 0);
        if (this.recentPWaves.length > this.config.pWaveBeats) this.recentPWaves.shift();
      }
      out.push({
        rPeak,
        samples,
        rrPrevious: rr?.rrPrevious,
        rrMean: rr?.rrMean,
        rrBaseline: rr?.rrBaseline,
        rrIrregularity: rr?.rrIrregularity ?? 0,
        rrNext: next !== undefined ? (next - rPeak) / fs : waited ? Infinity : undefined,
        pWaveAgreement,
        template,
      });
    }
  }

  private waitsForNext(rr: Pick<BeatWindow, 'rrPrevious' | 'rrBaseline'> | undefined): boolean {
    const below = this.config.nextBeatWaitBelow;
    if (below === Infinity) return true;
    return rr?.rrPrevious !== undefined && rr.rrBaseline !== undefined && rr.rrPrevious < below * rr.rrBaseline;
  }
}

/**
 * A stream's previous RR intervals (s) in one ring, long enough for the longest window a
 * feature reads. The baseline mean keeps a running sum: it covers minutes of rhythm and is read
 * at every beat.
 */
class RrHistory {
  private readonly ring: Float64Array;
  private count = 0;
  private baselineSum = 0;

  constructor(
    private readonly baselineBeats: number,
    otherWindows: number,
  ) {
    this.ring = new Float64Array(Math.max(baselineBeats, otherWindows));
  }

  /** Up to `k` of the latest intervals, oldest first. */
  last(k: number): number[] {
    const n = Math.min(k, this.count);
    return Array.from({ length: n }, (_, i) => this.ring[(this.count - n + i) % this.ring.length]!);
  }

  /** Mean of up to `baselineBeats` latest intervals; undefined before the first. */
  baseline(): number | undefined {
    const n = Math.min(this.count, this.baselineBeats);
    return n === 0 ? undefined : this.baselineSum / n;
  }

  add(rr: number): void {
    // the interval leaving the baseline is read before its slot can be overwritten
    if (this.count >= this.baselineBeats) {
      this.baselineSum -= this.ring[(this.count - this.baselineBeats) % this.ring.length]!;
    }
    this.ring[this.count % this.ring.length] = rr;
    this.baselineSum += rr;
    this.count++;
  }

  clear(): void {
    this.count = 0;
    this.baselineSum = 0;
  }
}

/**
 * Irregularity of a run of RR intervals: the median, over the intervals from the fourth on, of
 * each one's smallest difference from any of the three before it, as a share of the median
 * interval. A rhythm that repeats within three beats (sinus rhythm, bigeminy, trigeminy, a
 * lone premature beat) stays near 0; an irregularly irregular one (atrial fibrillation) does not.
 */
export function rhythmIrregularity(intervals: readonly number[]): number {
  const nearest: number[] = [];
  for (let j = 3; j < intervals.length; j++) {
    const x = intervals[j]!;
    nearest.push(
      Math.min(Math.abs(x - intervals[j - 1]!), Math.abs(x - intervals[j - 2]!), Math.abs(x - intervals[j - 3]!)),
    );
  }
  const typical = median(intervals);
  return nearest.length === 0 || typical <= 0 ? 0 : median(nearest) / typical;
}

/** Median of a sample (the mean of the middle two for an even count); the input is left as it is. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Pearson correlation of two equally long series; null when either is flat (no shape to compare). */
export function pearson(a: ArrayLike<number>, b: ArrayLike<number>): number | null {
  const n = a.length;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i]!;
    mb += b[i]!;
  }
  ma /= n;
  mb /= n;
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < n; i++) {
    ab += (a[i]! - ma) * (b[i]! - mb);
    aa += (a[i]! - ma) ** 2;
    bb += (b[i]! - mb) ** 2;
  }
  return aa === 0 || bb === 0 ? null : ab / Math.sqrt(aa * bb);
}

/** Per-sample median of equally long windows. */
function sampleMedian(windows: readonly Float32Array[], length: number): Float32Array {
  const out = new Float32Array(length);
  const column = new Float32Array(windows.length);
  const middle = windows.length >> 1;
  for (let i = 0; i < length; i++) {
    for (let k = 0; k < windows.length; k++) column[k] = windows[k]![i]!;
    column.sort();
    out[i] = windows.length % 2 === 1 ? column[middle]! : (column[middle - 1]! + column[middle]!) / 2;
  }
  return out;
}
