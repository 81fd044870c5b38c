import type { Alarm, AlarmBeat } from '../alarms/types.js';
import { AlarmEngine, DEFAULT_ALARMS, type AlarmConfig } from '../alarms/engine.js';
import {
  DEFAULT_SIGNAL_QUALITY,
  EcgFrontEnd,
  MODEL_HZ,
  SignalQuality,
  DEFAULT_VF_DETECTOR,
  VfDetector,
  type BeatWindow,
  type DetectedPeak,
  type EcgFrontEndConfig,
} from '../dsp/index.js';
import { leadMillivolts, type SampleFrame } from '../kafka/frame.js';
import { monitoringLeadOf, secondLeadOf } from '../wfdb/index.js';

/** A beat window cut for one bed, waiting for the classifier. */
export interface PendingBeat {
  readonly bedId: string;
  readonly source: string;
  readonly window: BeatWindow;
  /** R peak as a sample index of the bed's stream (source rate). */
  readonly rPeakSample: number;
  readonly timeS: number;
  readonly rrS: number | null;
  readonly quality: number;
  /**
   * Producer time of the last frame the beat's cut waited for, ms: the one that completed its
   * window and the interval after it (`BeatWindow.rrNext`), or the last before a gap or a stall
   * cut the stream.
   */
  readonly windowCompleteMs: number;
}

export interface BedConfig {
  readonly frontEnd?: Omit<EcgFrontEndConfig, 'sourceHz'>;
  readonly alarms?: AlarmConfig;
  /** A lead whose range stays below this (mV) for `flatS` seconds is off (flat line). */
  readonly flatMv: number;
  readonly flatS: number;
  /**
   * Cut the second lead's beat windows too (`BeatWindow.secondLead`), for a classifier that
   * takes both leads. Its R peaks are detected either way (asystole needs them).
   */
  readonly secondLeadWindows: boolean;
}

export const DEFAULT_BED: BedConfig = { flatMv: 0.02, flatS: 2, secondLeadWindows: false };

/**
 * VF filter leakage over a fast V run below which its complexes are flutter waves. Over the
 * first five fast V beats of MIT-BIH runs (shipped model): the reference VT episodes of 203,
 * 205, 210 and 223 measure 0.47 to 0.80, 207's flutter onsets 0.22 to 0.56 (three of six
 * under 0.42). Chosen on those same records, so the whole-database alarm figures are not an
 * independent test of it.
 */
const FLUTTER_RUN_LEAKAGE = 0.42;
/** The run's signal reaches this far (s) beyond its first and last R peaks: their whole QRS. */
const FLUTTER_RUN_MARGIN_S = { before: 0.1, after: 0.2 };
/** At most this much of a long run is looked at (s): well within the VF detector's history. */
const FLUTTER_RUN_MAX_S = 8;

/** Second-lead QRS amplitudes that make its typical one. */
const CONFIRMING_HISTORY = 8;

/**
 * Everything one bed needs between frames and classified beats: the front end on the
 * monitoring lead, flat-line detection and the alarm engine. No RxJS, no Kafka: the pipeline
 * feeds it ordered frames and classified beats.
 */
export class BedMonitor {
  readonly bedId: string;
  private readonly config: BedConfig;
  /** On the monitoring lead, and on a second lead where the frame has one. */
  private frontEnd: EcgFrontEnd | undefined;
  /**
   * The second lead, where the frame has one: its R peaks confirm QRS activity (and its beat
   * windows go to a classifier that takes both leads): asystole is called only when
   * neither lead shows a QRS (as in the PhysioNet/CinC 2015 challenge's multi-signal entries),
   * because a monitoring lead whose amplitude collapses (a loose electrode) loses its beats.
   */
  private second: { lead: number; amplitudes: number[] } | undefined;
  private leadCount = 0;
  private sourceHz = 0;
  /** Stream sample index at which the current front end started (after a start or a gap). */
  private origin = 0;
  private expectedSample: number | undefined;
  readonly alarms: AlarmEngine;
  private flatSince: number | undefined;
  private quality: SignalQuality | undefined;
  private vf: VfDetector | undefined;
  private signalQuality = 1;
  private poorSignal = false;
  /** The latest frame's source and producer time: beats a cut stream leaves waiting go with them. */
  private lastFrame: Pick<SampleFrame, 'source' | 'producedAtMs'> | undefined;

  constructor(bedId: string, config: BedConfig = DEFAULT_BED) {
    this.bedId = bedId;
    this.config = config;
    this.alarms = new AlarmEngine(bedId, config.alarms ?? DEFAULT_ALARMS, (fromS, toS) =>
      this.looksLikeFlutter(fromS, toS),
    );
  }

  /** An in-order frame: returns the beat windows it completed and the alarm changes. */
  onFrame(frame: SampleFrame): { beats: PendingBeat[]; alarms: Alarm[] } {
    const alarms: Alarm[] = [];
    const beats: PendingBeat[] = [];
    const sameSignal = frame.sampleRate === this.sourceHz && frame.leads.length === this.leadCount;
    if (sameSignal && this.expectedSample !== undefined && frame.firstSample !== this.expectedSample) {
      // samples missing (or repeated) although the sequence numbers were contiguous, or frames
      // lost while the bed was released
      beats.push(...this.flush());
      alarms.push(...this.onGap(this.expectedSample / frame.sampleRate, frame.firstSample / frame.sampleRate));
      this.restart(frame);
    } else if (this.frontEnd === undefined || !sameSignal) {
      beats.push(...this.flush());
      this.restart(frame);
    }
    this.lastFrame = frame;
    const lead = monitoringLead(frame);
    const mv = leadMillivolts(frame, lead);
    const perLead = mv.length;
    this.expectedSample = frame.firstSample + perLead;
    const endS = this.expectedSample / frame.sampleRate;
    const skip = Math.max(0, this.origin - frame.firstSample);
    const out = this.frontEnd!.push(
      mv.subarray(skip),
      this.second === undefined ? undefined : leadMillivolts(frame, this.second.lead).subarray(skip),
    );
    for (const w of this.quality!.push(
      out.samples,
      out.peaks.map((p) => p.index),
    )) {
      this.signalQuality = w.quality;
      this.poorSignal = w.poor;
    }
    alarms.push(...this.flatLine(mv, frame.firstSample / frame.sampleRate, endS));
    const modelSecondsToStream = (i: number): number => this.origin / frame.sampleRate + i / MODEL_HZ;
    for (const change of this.vf!.push(out.samples)) {
      alarms.push(
        ...this.alarms.onFibrillation(
          change.active,
          modelSecondsToStream(change.onset),
          modelSecondsToStream(change.at),
        ),
      );
    }
    for (const peak of [...out.peaks, ...this.confirmingPeaks(out.secondPeaks)].sort(
      (a, b) => a.sourceSample - b.sourceSample,
    )) {
      const sample = this.origin + Math.round(peak.sourceSample);
      alarms.push(...this.alarms.onQrs(sample, sample / frame.sampleRate));
    }
    beats.push(...out.windows.map((window) => this.pending(window, frame)));
    alarms.push(...this.alarms.onTime(endS), ...this.alarms.onStall(false));
    return { beats, alarms };
  }

  private pending(window: BeatWindow, frame: Pick<SampleFrame, 'source' | 'producedAtMs'>): PendingBeat {
    const rPeakSample = this.origin + Math.round((window.rPeak * this.sourceHz) / MODEL_HZ);
    return {
      bedId: this.bedId,
      source: frame.source,
      window,
      rPeakSample,
      timeS: rPeakSample / this.sourceHz,
      rrS: window.rrPrevious ?? null,
      quality: this.flatSince === undefined ? this.signalQuality : 0,
      windowCompleteMs: frame.producedAtMs,
    };
  }

  /**
   * The beats whose windows are complete but still wait for the beat after them: the stream was
   * cut (a gap, a new signal, a stall), and a beat it showed is not lost for the want of the next.
   */
  private flush(): PendingBeat[] {
    const frame = this.lastFrame;
    if (this.frontEnd === undefined || frame === undefined) return [];
    return this.frontEnd.flush().map((window) => this.pending(window, frame));
  }

  /**
   * Whether the run of fast complexes from `fromS` to `toS` looks like flutter waves. Either the
   * signal over the run itself is nearly sinusoidal (VF filter leakage under FLUTTER_RUN_LEAKAGE:
   * at a flutter onset the 4-s windows still hold the rhythm before it), or the VF detector's
   * latest window is VF-like and there is the fast activity between the detected complexes of
   * poor signal (judged now rather than at the quality window's end). The window or the activity
   * alone also fits some real VT (MIT-BIH 205 is VF-like, 203's noisy VT has the activity);
   * flutter has both.
   */
  private looksLikeFlutter(fromS: number, toS: number): boolean {
    if (this.quality === undefined || this.vf === undefined) return false;
    const index = (s: number): number => Math.round((s - this.origin / this.sourceHz) * MODEL_HZ);
    const from = Math.max(fromS - FLUTTER_RUN_MARGIN_S.before, toS - FLUTTER_RUN_MAX_S);
    const leakage = this.vf.leakageOver(index(from), index(toS + FLUTTER_RUN_MARGIN_S.after));
    if (leakage !== undefined && leakage < FLUTTER_RUN_LEAKAGE) return true;
    if (!this.vf.vfLike) return false;
    return (this.quality.ratioOver(index(fromS), index(toS)) ?? 0) > DEFAULT_SIGNAL_QUALITY.noisyRatio;
  }

  /** Frames were lost between `fromS` and `toS`; the next frame restarts the front end. */
  onGap(fromS: number, toS: number): Alarm[] {
    this.frontEnd = undefined;
    return this.alarms.onGap(fromS, toS);
  }

  /**
   * The bed has been silent so long (`ReleaseConfig`) that its signal analysis is dropped: the
   * memory of a ward whose beds come and go (bed ids given per admission) stays that of the
   * beds streaming. What a later frame needs stays: its alarms (the active stream-stalled among
   * them) and the sample it must start at (else a gap).
   */
  release(): void {
    if (this.expectedSample !== undefined) this.alarms.onRelease(this.expectedSample / this.sourceHz);
    this.frontEnd = undefined;
    this.second = undefined;
    this.quality = undefined;
    this.vf = undefined;
  }

  /** No frame has come for the pipeline's stall time. */
  onStalled(): { beats: PendingBeat[]; alarms: Alarm[] } {
    return { beats: this.flush(), alarms: this.alarms.onStall(true) };
  }

  onClassified(beat: AlarmBeat): Alarm[] {
    return this.alarms.onBeat(beat);
  }

  /**
   * A new front end, started on the resampler's phase grid of the whole stream: a bed restarted
   * mid-stream (after a gap, or by the worker that took its partition over) then cuts the same
   * windows at the same samples as one that ran from the start, once its history is rebuilt.
   */
  private restart(frame: SampleFrame): void {
    this.sourceHz = frame.sampleRate;
    this.leadCount = frame.leads.length;
    const other = secondLead(frame);
    this.second = other === undefined ? undefined : { lead: other, amplitudes: [] };
    this.frontEnd = new EcgFrontEnd({
      ...this.config.frontEnd,
      sourceHz: frame.sampleRate,
      secondLead: other === undefined ? undefined : this.config.secondLeadWindows ? 'windows' : 'peaks',
    });
    this.quality = new SignalQuality({ ...DEFAULT_SIGNAL_QUALITY, fs: MODEL_HZ });
    this.vf = new VfDetector({ ...DEFAULT_VF_DETECTOR, fs: MODEL_HZ });
    this.signalQuality = 1;
    this.poorSignal = false;
    const grid = this.frontEnd.resampler.alignment;
    this.origin = Math.ceil(frame.firstSample / grid) * grid;
  }

  /**
   * The second lead's QRS complexes that may end an asystole: those of the polarity of its
   * recent ones and at least half as large (a blip of noise in a long pause must not hide it).
   */
  private confirmingPeaks(peaks: readonly DetectedPeak[]): DetectedPeak[] {
    const c = this.second;
    if (c === undefined) return [];
    return peaks.filter((peak) => {
      const sorted = [...c.amplitudes].sort((a, b) => a - b);
      const typical = sorted[Math.floor(sorted.length / 2)];
      c.amplitudes.push(peak.amplitude);
      if (c.amplitudes.length > CONFIRMING_HISTORY) c.amplitudes.shift();
      return typical !== undefined && peak.amplitude / typical >= 0.5;
    });
  }

  /** Lead off: consecutive frames whose range stays below `flatMv` for `flatS` seconds. */
  private flatLine(mv: Float32Array, startS: number, endS: number): Alarm[] {
    let min = Infinity;
    let max = -Infinity;
    for (const v of mv) {
      if (v < min) min = v;
      if (v > max) max = v;
    }
    if (max - min < this.config.flatMv) this.flatSince ??= startS;
    else this.flatSince = undefined;
    const flat = this.flatSince !== undefined && endS - this.flatSince >= this.config.flatS;
    return this.alarms.onSignal(endS, flat, this.poorSignal, startS);
  }
}

/** `monitoringLeadOf` a frame's leads. */
export function monitoringLead(frame: SampleFrame): number {
  return monitoringLeadOf(frame.leads.map((l) => l.name));
}

/** `secondLeadOf` a frame's leads. */
export function secondLead(frame: SampleFrame): number | undefined {
  return secondLeadOf(frame.leads.map((l) => l.name));
}
