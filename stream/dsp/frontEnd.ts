import { ConfigError } from '../contracts/errors.js';
import { BeatWindowCutter, DEFAULT_BEAT_WINDOW, type BeatWindow, type BeatWindowConfig } from './beatWindow.js';
import { DEFAULT_ECG_FILTER, EcgFilter, type EcgFilterConfig } from './ecgFilter.js';
import { DEFAULT_RESAMPLER, Resampler, type ResamplerConfig } from './resampler.js';
import { DEFAULT_RPEAK_DETECTOR, RPeakDetector, type RPeakDetectorConfig } from './rpeak.js';

/** The rate the classifier, the detector and the beat windows work at. */
export const MODEL_HZ = 125;

export interface EcgFrontEndConfig {
  readonly sourceHz: number;
  readonly filter?: Partial<Omit<EcgFilterConfig, 'fs'>>;
  readonly resampler?: Partial<Omit<ResamplerConfig, 'inputHz' | 'outputHz'>>;
  readonly detector?: Partial<Omit<RPeakDetectorConfig, 'fs'>>;
  readonly window?: Partial<Omit<BeatWindowConfig, 'fs'>>;
  /** False for a lead watched only for its QRS complexes: no beat windows are cut (default true). */
  readonly cutWindows?: boolean;
  /**
   * Also take a second lead (default: none). 'peaks': it is filtered and resampled alike and
   * its own R peaks are detected (`secondPeaks`). 'windows': besides, each beat window carries
   * that lead's window cut at the monitoring lead's R peak (`BeatWindow.secondLead`), for a
   * classifier that takes both leads.
   */
  readonly secondLead?: 'peaks' | 'windows';
}

/** An R peak located in both time bases. */
export interface DetectedPeak {
  /** Sample index at 125 Hz. */
  readonly index: number;
  /** The same instant as a (fractional) sample index of the source signal. */
  readonly sourceSample: number;
  /** Source sample whose arrival completed the decision: `decidedAtSource - sourceSample` is the delay. */
  readonly decidedAtSource: number;
  readonly amplitude: number;
  readonly searchBack: boolean;
}

export interface FrontEndOutput {
  /** Filtered signal at 125 Hz produced by this chunk. */
  readonly samples: Float32Array;
  readonly peaks: DetectedPeak[];
  readonly windows: BeatWindow[];
  /** R peaks detected in the second lead (empty without one). */
  readonly secondPeaks: DetectedPeak[];
}

/**
 * Filter → resample to 125 Hz → detect R peaks → cut beat windows, for one bed's monitoring
 * lead (and, where configured, its second lead).
 * The same object builds training sets offline and runs the live pipeline, so the model
 * learns from exactly what it will see. Output does not depend on how input is chunked.
 */
export class EcgFrontEnd {
  readonly sourceHz: number;
  readonly filter: EcgFilter;
  readonly resampler: Resampler;
  readonly detector: RPeakDetector;
  readonly cutter: BeatWindowCutter | undefined;
  /**
   * The second lead's own front end, and the cutter that cuts it at this lead's peaks. Both
   * leads go through identical resamplers fed sample for sample, so the two cutters see the
   * same sample count and the same peaks, and complete the same windows in the same chunk.
   */
  private readonly second: { frontEnd: EcgFrontEnd; cutter: BeatWindowCutter | undefined } | undefined;
  private sourceCount = 0;
  private readonly emitSample: (y: number) => void;
  private samples: number[] = [];
  private peaks: DetectedPeak[] = [];
  private windows: BeatWindow[] = [];

  constructor(config: EcgFrontEndConfig) {
    this.sourceHz = config.sourceHz;
    this.filter = new EcgFilter({ ...DEFAULT_ECG_FILTER, ...config.filter, fs: config.sourceHz });
    this.resampler = new Resampler({
      ...DEFAULT_RESAMPLER,
      ...config.resampler,
      inputHz: config.sourceHz,
      outputHz: MODEL_HZ,
    });
    this.detector = new RPeakDetector({ ...DEFAULT_RPEAK_DETECTOR, ...config.detector, fs: MODEL_HZ });
    const windowConfig: BeatWindowConfig = { ...DEFAULT_BEAT_WINDOW, ...config.window, fs: MODEL_HZ };
    this.cutter = config.cutWindows === false ? undefined : new BeatWindowCutter(windowConfig);
    this.second =
      config.secondLead === undefined
        ? undefined
        : {
            frontEnd: new EcgFrontEnd({ ...config, secondLead: undefined, cutWindows: false }),
            cutter:
              this.cutter === undefined || config.secondLead === 'peaks'
                ? undefined
                : new BeatWindowCutter(windowConfig),
          };
    this.emitSample = (y: number): void => {
      this.samples.push(y);
      this.detector.step(y);
      for (const peak of this.detector.drain()) {
        this.peaks.push({
          index: peak.index,
          sourceSample: (peak.index * this.sourceHz) / MODEL_HZ,
          decidedAtSource: this.sourceCount - 1,
          amplitude: peak.amplitude,
          searchBack: peak.searchBack,
        });
        this.cutter?.addPeak(peak.index, this.windows);
      }
      this.cutter?.step(y, this.windows);
    };
  }

  /** `secondChunk`, the same stretch of the second lead, is required when it was configured. */
  push(chunk: ArrayLike<number>, secondChunk?: ArrayLike<number>): FrontEndOutput {
    if (
      (this.second !== undefined) !== (secondChunk !== undefined) ||
      (secondChunk?.length ?? chunk.length) !== chunk.length
    ) {
      throw new ConfigError(
        this.second === undefined
          ? 'EcgFrontEnd: a second lead was given to a one-lead front end'
          : `EcgFrontEnd: the second lead needs a chunk as long as the first (${chunk.length} samples), got ${secondChunk?.length ?? 'none'}`,
      );
    }
    for (let i = 0; i < chunk.length; i++) {
      this.sourceCount++;
      this.resampler.step(this.filter.step(chunk[i] as number), this.emitSample);
    }
    let secondPeaks: DetectedPeak[] = [];
    let secondCut: BeatWindow[] | undefined;
    if (this.second !== undefined) {
      const other = this.second.frontEnd.push(secondChunk!);
      secondPeaks = other.peaks;
      secondCut = this.second.cutter?.push(
        other.samples,
        this.peaks.map((p) => p.index),
      );
    }
    const windows = withSecondLead(this.windows, secondCut);
    const out = { samples: Float32Array.from(this.samples), peaks: this.peaks, windows, secondPeaks };
    this.samples = [];
    this.peaks = [];
    this.windows = [];
    return out;
  }

  /**
   * The complete beat windows still waiting for the beat after them (`BeatWindowCutter.flush`):
   * before a `reset`, or when the stream stops, so that a cut stream loses no beat it showed.
   */
  flush(): BeatWindow[] {
    if (this.cutter === undefined) return [];
    const windows: BeatWindow[] = [];
    this.cutter.flush(windows);
    const secondCutter = this.second?.cutter;
    if (secondCutter === undefined) return windows;
    const second: BeatWindow[] = [];
    secondCutter.flush(second);
    return withSecondLead(windows, second);
  }

  /** Forgets all signal history: after a gap the detector relearns rather than bridging it. */
  reset(): void {
    this.filter.reset();
    this.resampler.reset();
    this.detector.reset();
    this.cutter?.reset();
    this.second?.frontEnd.reset();
    this.second?.cutter?.reset();
    this.sourceCount = 0;
  }
}

/** The monitoring lead's windows with the second lead's, cut at the same R peaks, joined to them. */
function withSecondLead(windows: BeatWindow[], second: readonly BeatWindow[] | undefined): BeatWindow[] {
  if (second === undefined) return windows;
  const byPeak = new Map(second.map((w) => [w.rPeak, { samples: w.samples, template: w.template }]));
  return windows.map((w) => {
    const secondLead = byPeak.get(w.rPeak);
    return secondLead === undefined ? w : { ...w, secondLead };
  });
}
