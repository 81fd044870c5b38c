import { monitoringLeadOf, secondLeadOf } from '../contracts/signals.js';
import type { Alarm, AlarmBeat } from '../alarms/types.js';
import { AlarmEngine, DEFAULT_ALARMS, type AlarmConfig } from '../alarms/engine.js';
import { looksLikeFlutter } from '../alarms/flutter.js';
import {
  DEFAULT_FLAT_LINE,
  DEFAULT_SIGNAL_QUALITY,
  EcgFrontEnd,
  FlatLineDetector,
  MODEL_HZ,
  QrsConfirmation,
  SignalQuality,
  DEFAULT_VF_DETECTOR,
  VfDetector,
  type BeatWindow,
  type EcgFrontEndConfig,
  type FlatLineConfig,
} from '../dsp/index.js';
import { leadMillivolts, type SampleFrame } from '../contracts/frame.js';

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
  /** When the monitoring lead is off (flat line). */
  readonly flatLine: FlatLineConfig;
  /**
   * Cut the second lead's beat windows too (`BeatWindow.secondLead`), for a classifier that
   * takes both leads. Its R peaks are detected either way (asystole needs them).
   */
  readonly secondLeadWindows: boolean;
}

export const DEFAULT_BED: BedConfig = { flatLine: DEFAULT_FLAT_LINE, secondLeadWindows: false };

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
   * The second lead, where the frame has one: its R peaks confirm QRS activity (QrsConfirmation)
   * and its beat windows go to a classifier that takes both leads.
   */
  private second: { lead: number; confirmation: QrsConfirmation } | undefined;
  private leadCount = 0;
  private sourceHz = 0;
  /** Stream sample index at which the current front end started (after a start or a gap). */
  private origin = 0;
  private expectedSample: number | undefined;
  readonly alarms: AlarmEngine;
  private readonly flatLine: FlatLineDetector;
  private quality: SignalQuality | undefined;
  private vf: VfDetector | undefined;
  private signalQuality = 1;
  private poorSignal = false;
  /** The latest frame's source and producer time: beats a cut stream leaves waiting go with them. */
  private lastFrame: Pick<SampleFrame, 'source' | 'producedAtMs'> | undefined;

  constructor(bedId: string, config: BedConfig = DEFAULT_BED) {
    this.bedId = bedId;
    this.config = config;
    this.flatLine = new FlatLineDetector(config.flatLine);
    this.alarms = new AlarmEngine(bedId, config.alarms ?? DEFAULT_ALARMS, (fromS, toS) =>
      this.quality === undefined || this.vf === undefined
        ? false
        : looksLikeFlutter({ vf: this.vf, quality: this.quality, originS: this.origin / this.sourceHz }, fromS, toS),
    );
  }

  /** An in-order frame: returns the beat windows it completed and the alarm changes. */
  onFrame(frame: SampleFrame): { beats: PendingBeat[]; alarms: Alarm[] } {
    this.alarms.atWallClock(frame.producedAtMs);
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
    alarms.push(...this.flatLineAlarms(mv, frame.firstSample / frame.sampleRate, endS));
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
    for (const peak of [...out.peaks, ...(this.second?.confirmation.push(out.secondPeaks) ?? [])].sort(
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
      quality: this.flatLine.flatNow ? 0 : this.signalQuality,
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

  /** A classified beat; `windowCompleteMs`: the producer time of the frame that completed its window. */
  onClassified(beat: AlarmBeat, windowCompleteMs: number): Alarm[] {
    this.alarms.atWallClock(windowCompleteMs);
    return this.alarms.onBeat(beat);
  }

  /** Where the bed's stream has got to, s (0 before its first usable frame). */
  private streamS(): number {
    return this.expectedSample === undefined ? 0 : this.expectedSample / this.sourceHz;
  }

  /**
   * A frame of the bed was refused before it reached the bed (`reason`, in words; produced at
   * `producedAtMs`): the invalid-input technical alarm.
   */
  onRejected(reason: string, producedAtMs: number): Alarm[] {
    this.alarms.atWallClock(producedAtMs);
    return this.alarms.onInvalidInput(reason, this.streamS());
  }

  /**
   * The bed's processing failed (`reason`): its signal analysis starts afresh with its next frame,
   * as after a gap, and the invalid-input alarm says why. Its alarms and where its stream had got
   * to stay.
   */
  quarantine(reason: string): Alarm[] {
    this.release();
    return this.alarms.onInvalidInput(reason, this.streamS());
  }

  /** The bed's input has been usable again for a while: ends the invalid-input alarm. */
  inputValid(): Alarm[] {
    return this.alarms.inputValid(this.streamS());
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
    this.second = other === undefined ? undefined : { lead: other, confirmation: new QrsConfirmation() };
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

  /** Lead off (flat line) and poor signal, to the alarm engine. */
  private flatLineAlarms(mv: Float32Array, startS: number, endS: number): Alarm[] {
    return this.alarms.onSignal(endS, this.flatLine.push(mv, startS, endS), this.poorSignal, startS);
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
