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
}

/**
 * Filter → resample to 125 Hz → detect R peaks → cut beat windows, for one lead of one bed.
 * The same object builds training sets offline and runs the live pipeline, so the model
 * learns from exactly what it will see. Output does not depend on how input is chunked.
 */
export class EcgFrontEnd {
  readonly sourceHz: number;
  readonly filter: EcgFilter;
  readonly resampler: Resampler;
  readonly detector: RPeakDetector;
  readonly cutter: BeatWindowCutter | undefined;
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
    this.cutter =
      config.cutWindows === false
        ? undefined
        : new BeatWindowCutter({ ...DEFAULT_BEAT_WINDOW, ...config.window, fs: MODEL_HZ });
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

  push(chunk: ArrayLike<number>): FrontEndOutput {
    for (let i = 0; i < chunk.length; i++) {
      this.sourceCount++;
      this.resampler.step(this.filter.step(chunk[i] as number), this.emitSample);
    }
    const out = { samples: Float32Array.from(this.samples), peaks: this.peaks, windows: this.windows };
    this.samples = [];
    this.peaks = [];
    this.windows = [];
    return out;
  }

  /** Forgets all signal history: after a gap the detector relearns rather than bridging it. */
  reset(): void {
    this.filter.reset();
    this.resampler.reset();
    this.detector.reset();
    this.cutter?.reset();
    this.sourceCount = 0;
  }
}
