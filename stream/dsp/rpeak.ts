import { ConfigError } from '../contracts/errors.js';
import { BiquadCascade, highpass, lowpass } from './biquad.js';

export interface RPeakDetectorConfig {
  /** Input sampling frequency, Hz (the monitor runs it at 125). */
  readonly fs: number;
  /** Pass band of the QRS-energy filter, Hz. */
  readonly qrsBandHz: readonly [number, number];
  /** Moving-window integration length, s (about the widest QRS). */
  readonly integrationS: number;
  /** No second QRS is accepted this soon after one, s (physiological refractory period). */
  readonly refractoryS: number;
  /** Candidates closer than this to the previous QRS get the T-wave slope test, s. */
  readonly tWaveWindowS: number;
  /** A candidate in the T-wave window whose steepest slope is below this share of the previous QRS's is a T wave. */
  readonly tWaveSlopeRatio: number;
  /** ...and only when the interval is also below this share of the average RR. */
  readonly tWaveRrFraction: number;
  /** Detection threshold = noise level + this share of (signal level - noise level). */
  readonly thresholdFraction: number;
  /** Search back for a missed beat once this many average RR intervals have passed without one. */
  readonly searchBackRr: number;
  /** Share of the detection threshold a search-back candidate must reach. */
  readonly searchBackFraction: number;
  /**
   * A candidate weaker than this share of the signal level is held for `holdS` after its
   * peak, and dropped if a larger QRS-energy peak follows (tall P waves before the QRS).
   */
  readonly holdBelow: number;
  /** How long after its integrator peak a held candidate waits, s. */
  readonly holdS: number;
  /** How much larger (RMS) a following peak must be for a held candidate to be dropped. */
  readonly supersedeRatio: number;
  /** Signal learned before the first decision, s. */
  readonly learningS: number;
  /** An integrator peak is decided once the integrator falls below this share of it... */
  readonly peakFallFraction: number;
  /** ...or once this long has passed since it, s. */
  readonly peakHoldS: number;
}

export const DEFAULT_RPEAK_DETECTOR: Omit<RPeakDetectorConfig, 'fs'> = {
  qrsBandHz: [8, 20],
  integrationS: 0.15,
  refractoryS: 0.2,
  tWaveWindowS: 0.36,
  tWaveSlopeRatio: 0.5,
  tWaveRrFraction: 0.6,
  thresholdFraction: 0.3,
  searchBackRr: 1.66,
  searchBackFraction: 0.7,
  holdBelow: 0.8,
  holdS: 0.18,
  supersedeRatio: 1.2,
  learningS: 2,
  peakFallFraction: 0.5,
  peakHoldS: 0.1,
};

/** One detected R peak. Indices count samples at the detector's input rate. */
export interface RPeak {
  /** Sample index of the R wave. */
  readonly index: number;
  /** Input value at the R wave. */
  readonly amplitude: number;
  /** Index of the input sample whose arrival completed the decision: index + delay. */
  readonly decidedAt: number;
  /** Found by search-back with the lowered threshold rather than at first sight. */
  readonly searchBack: boolean;
}

interface Candidate {
  readonly peakAt: number;
  readonly height: number;
  readonly slope: number;
}

const RR_HISTORY = 8;

/**
 * Online QRS detector in the Pan–Tompkins family (Pan & Tompkins 1985; Hamilton & Tompkins
 * 1986): band-pass, derivative, squaring and moving-window integration give a QRS-energy
 * signal whose peaks are classified against adaptive signal/noise levels, with a refractory
 * period, T-wave discrimination by slope and search-back for missed beats. Every decision is
 * causal; an R peak is reported within a bounded delay of its sample.
 */
export class RPeakDetector {
  readonly config: RPeakDetectorConfig;
  private readonly band: BiquadCascade;
  private readonly window: number;
  private readonly ringSize: number;
  private readonly input: Float64Array;
  private readonly slope: Float64Array;
  private readonly energy: Float64Array;
  private readonly refractory: number;
  private readonly tWaveWindow: number;
  private readonly learning: number;
  private readonly hold: number;
  private readonly holdCandidate: number;
  private readonly localiseBack: number;

  private n = 0;
  private bandHistory = new Float64Array(4);
  private integral = 0;
  // integrator peak tracking
  private runMax = 0;
  private runMaxAt = -1;
  private rising = false;
  // adaptive levels (Pan–Tompkins SPKI / NPKI) and rhythm memory
  private signalLevel = 0;
  private noiseLevel = 0;
  private learned = false;
  private learningMax = 0;
  private learningSum = 0;
  private learningCandidates: Candidate[] = [];
  private lastQrsAt = -Infinity;
  /** Where the last QRS's R wave was located (`locateR`). */
  private lastRAt = -Infinity;
  private lastQrsSlope = 0;
  private rrRecent: number[] = [];
  private rrRegular: number[] = [];
  private pendingNoise: Candidate[] = [];
  private held: Candidate | undefined;
  private found: RPeak[] = [];

  constructor(config: RPeakDetectorConfig) {
    const { fs, qrsBandHz } = config;
    if (!(fs >= 50)) throw new ConfigError(`RPeakDetector: sampling frequency must be at least 50 Hz, got ${fs}`);
    const [lo, hi] = qrsBandHz;
    if (!(lo > 0 && lo < hi && hi < fs / 2)) {
      throw new ConfigError(`RPeakDetector: QRS band [${lo}, ${hi}] Hz must satisfy 0 < low < high < ${fs / 2}`);
    }
    for (const key of ['integrationS', 'refractoryS', 'tWaveWindowS', 'learningS', 'peakHoldS', 'holdS'] as const) {
      if (!(config[key] > 0)) throw new ConfigError(`RPeakDetector: ${key} must be positive, got ${config[key]}`);
    }
    if (!(config.tWaveWindowS > config.refractoryS)) {
      throw new ConfigError('RPeakDetector: tWaveWindowS must exceed refractoryS');
    }
    this.config = config;
    this.band = new BiquadCascade([highpass(lo, fs), lowpass(hi, fs)]);
    this.window = Math.max(1, Math.round(config.integrationS * fs));
    this.refractory = Math.round(config.refractoryS * fs);
    this.tWaveWindow = Math.round(config.tWaveWindowS * fs);
    this.learning = Math.round(config.learningS * fs);
    this.hold = Math.max(1, Math.round(config.peakHoldS * fs));
    this.holdCandidate = Math.max(1, Math.round(config.holdS * fs));
    // the integrator peaks after the QRS it integrates; the R wave lies in the window before it
    this.localiseBack = this.window + Math.round(0.05 * fs);
    let size = 1;
    // long enough to look back over a search-back interval after a long pause
    while (size < 12 * fs) size <<= 1;
    this.ringSize = size;
    this.input = new Float64Array(size);
    this.slope = new Float64Array(size);
    this.energy = new Float64Array(size);
  }

  /** Feeds a chunk; returns the R peaks decided while it was consumed, in index order. */
  push(chunk: ArrayLike<number>): RPeak[] {
    for (let i = 0; i < chunk.length; i++) this.step(chunk[i] as number);
    return this.drain();
  }

  /** Feeds one sample; decided peaks accumulate until `drain()`. */
  step(x: number): void {
    const mask = this.ringSize - 1;
    const n = this.n;
    const b = this.band.step(x);
    const h = this.bandHistory;
    // five-point derivative of Pan & Tompkins: (2x[n] + x[n-1] - x[n-3] - 2x[n-4]) / 8
    const d = (2 * b + (h[0] as number) - (h[2] as number) - 2 * (h[3] as number)) / 8;
    h[3] = h[2] as number;
    h[2] = h[1] as number;
    h[1] = h[0] as number;
    h[0] = b;
    const squared = d * d;
    const leaving = n >= this.window ? (this.slope[(n - this.window) & mask] as number) : 0;
    this.integral += squared - leaving * leaving;
    if (this.integral < 0) this.integral = 0; // rounding can leave -1e-18
    const energy = this.integral / this.window;
    this.input[n & mask] = x;
    this.slope[n & mask] = d;
    this.energy[n & mask] = energy;
    this.n = n + 1;

    this.trackIntegratorPeak(n, energy);
    if (this.held !== undefined && n - this.held.peakAt >= this.holdCandidate) this.resolveHeld(n);
    if (this.learned) this.searchBackIfOverdue(n);
    else this.learn(n, energy);
  }

  /** Returns and forgets the peaks decided so far. */
  drain(): RPeak[] {
    const out = this.found;
    this.found = [];
    return out;
  }

  reset(): void {
    this.band.reset();
    this.n = 0;
    this.bandHistory.fill(0);
    this.integral = 0;
    this.runMax = 0;
    this.runMaxAt = -1;
    this.rising = false;
    this.signalLevel = 0;
    this.noiseLevel = 0;
    this.learned = false;
    this.learningMax = 0;
    this.learningSum = 0;
    this.learningCandidates = [];
    this.lastQrsAt = -Infinity;
    this.lastRAt = -Infinity;
    this.lastQrsSlope = 0;
    this.rrRecent = [];
    this.rrRegular = [];
    this.pendingNoise = [];
    this.held = undefined;
    this.found = [];
  }

  private trackIntegratorPeak(n: number, energy: number): void {
    if (energy > this.runMax) {
      this.runMax = energy;
      this.runMaxAt = n;
      this.rising = true;
    } else if (!this.rising) {
      // follow the valley down so the next rise starts a new peak
      this.runMax = energy;
      this.runMaxAt = n;
    } else if (energy < this.runMax * this.config.peakFallFraction || n - this.runMaxAt >= this.hold) {
      const peakAt = this.runMaxAt;
      // thresholds act on RMS slope, not energy: squaring would turn a PVC three times taller
      // than the normal beats into a nine-fold signal level and hide the normal beats
      const candidate: Candidate = { peakAt, height: Math.sqrt(this.runMax), slope: this.steepestSlope(peakAt) };
      this.rising = false;
      this.runMax = energy;
      this.runMaxAt = n;
      if (this.learned) this.classify(candidate, n);
      else this.learningCandidates.push(candidate);
    }
  }

  private learn(n: number, energy: number): void {
    const rms = Math.sqrt(energy);
    this.learningMax = Math.max(this.learningMax, rms);
    this.learningSum += rms;
    if (n + 1 < this.learning) return;
    // Pan & Tompkins' initialisation: signal level from the largest peak, noise from the mean
    this.signalLevel = this.learningMax / 3;
    this.noiseLevel = this.learningSum / this.learning / 2;
    this.learned = true;
    const early = this.learningCandidates;
    this.learningCandidates = [];
    for (const c of early) this.classify(c, n);
  }

  private threshold(): number {
    return this.noiseLevel + this.config.thresholdFraction * (this.signalLevel - this.noiseLevel);
  }

  private classify(c: Candidate, now: number): void {
    if (this.held !== undefined) this.resolveHeld(now);
    const sinceQrs = c.peakAt - this.lastQrsAt;
    if (sinceQrs < this.refractory) return;
    if (c.height >= this.threshold() && !this.isTWave(c, sinceQrs)) {
      if (c.height < this.config.holdBelow * this.signalLevel) this.held = c;
      else this.acceptQrs(c, now, false);
    } else {
      this.markNoise(c);
    }
  }

  private markNoise(c: Candidate): void {
    this.noiseLevel = 0.125 * c.height + 0.875 * this.noiseLevel;
    this.pendingNoise.push(c);
  }

  /** Decides a held weak candidate: a QRS unless a much larger peak followed it closely. */
  private resolveHeld(now: number): void {
    const held = this.held as Candidate;
    this.held = undefined;
    const mask = this.ringSize - 1;
    let following = 0;
    const end = Math.min(now, held.peakAt + this.holdCandidate);
    for (let i = held.peakAt + 1; i <= end; i++) following = Math.max(following, this.energy[i & mask] as number);
    if (Math.sqrt(following) > this.config.supersedeRatio * held.height) this.markNoise(held);
    else this.acceptQrs(held, now, false);
  }

  private isTWave(c: Candidate, sinceQrs: number): boolean {
    // in a fast rhythm (atrial fibrillation, tachycardia) beats come sooner than 360 ms: the
    // T-wave test applies only to intervals that are also short for the current rhythm
    const rr = this.rrAverage();
    const window = rr === undefined ? this.tWaveWindow : Math.min(this.tWaveWindow, this.config.tWaveRrFraction * rr);
    return sinceQrs < window && c.slope < this.config.tWaveSlopeRatio * this.lastQrsSlope;
  }

  private searchBackIfOverdue(n: number): void {
    const rr = this.rrAverage();
    if (rr === undefined || this.pendingNoise.length === 0) return;
    if (n - this.lastQrsAt <= this.config.searchBackRr * rr) return;
    const floor = this.config.searchBackFraction * this.threshold();
    let best: Candidate | undefined;
    for (const c of this.pendingNoise) {
      const sinceQrs = c.peakAt - this.lastQrsAt;
      if (sinceQrs < this.refractory || this.isTWave(c, sinceQrs) || c.height < floor) continue;
      if (best === undefined || c.height > best.height) best = c;
    }
    if (best === undefined) {
      this.pendingNoise = this.pendingNoise.filter((c) => n - c.peakAt < this.ringSize / 2);
      return;
    }
    this.acceptQrs(best, n, true);
  }

  private acceptQrs(c: Candidate, now: number, searchBack: boolean): void {
    const weight = searchBack ? 0.25 : 0.125;
    this.signalLevel = weight * c.height + (1 - weight) * this.signalLevel;
    if (Number.isFinite(this.lastQrsAt)) this.recordRr(c.peakAt - this.lastQrsAt);
    this.lastQrsAt = c.peakAt;
    this.lastQrsSlope = c.slope;
    this.pendingNoise = this.pendingNoise.filter((p) => p.peakAt > c.peakAt);
    const index = this.locateR(c.peakAt);
    this.lastRAt = index;
    this.found.push({
      index,
      amplitude: this.input[index & (this.ringSize - 1)] as number,
      decidedAt: now,
      searchBack,
    });
  }

  private recordRr(rr: number): void {
    this.rrRecent.push(rr);
    if (this.rrRecent.length > RR_HISTORY) this.rrRecent.shift();
    const regular = this.rrAverage();
    // Pan–Tompkins' "RR average 2": only intervals within 92–116 % of the regular rhythm
    if (regular === undefined || (rr > 0.92 * regular && rr < 1.16 * regular)) {
      this.rrRegular.push(rr);
      if (this.rrRegular.length > RR_HISTORY) this.rrRegular.shift();
    }
  }

  private rrAverage(): number | undefined {
    const source = this.rrRegular.length >= 2 ? this.rrRegular : this.rrRecent;
    if (source.length === 0) return undefined;
    return source.reduce((a, b) => a + b, 0) / source.length;
  }

  private steepestSlope(peakAt: number): number {
    const mask = this.ringSize - 1;
    let steepest = 0;
    for (let i = Math.max(0, peakAt - this.window); i <= peakAt; i++) {
      steepest = Math.max(steepest, Math.abs(this.slope[i & mask] as number));
    }
    return steepest;
  }

  /**
   * The R wave: the largest deflection of the input in the window the integrator covered, but
   * not within the refractory period of the last R wave. Integrator peaks 200 ms apart can both
   * reach back to one tall complex (or to two points of one wide one), and a second R wave found
   * 40 ms after the first would give the monitor an interval no heart can make.
   */
  private locateR(peakAt: number): number {
    const mask = this.ringSize - 1;
    let best = peakAt;
    let bestValue = -1;
    for (let i = Math.max(0, peakAt - this.localiseBack, this.lastRAt + this.refractory); i <= peakAt; i++) {
      const v = Math.abs(this.input[i & mask] as number);
      if (v > bestValue) {
        bestValue = v;
        best = i;
      }
    }
    return best;
  }
}
