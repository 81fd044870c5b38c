import { monitoringLeadOf, pulseSignalOf } from '../contracts/signals.js';
import type { Alarm, AlarmBeat, LeadStatus } from '../alarms/types.js';
import { AlarmEngine, DEFAULT_ALARMS, type AlarmConfig } from '../alarms/engine.js';
import { looksLikeFlutter } from '../alarms/flutter.js';
import {
  DEFAULT_LEAD_CHECK,
  DEFAULT_SIGNAL_QUALITY,
  isCredibleQrs,
  EcgFrontEnd,
  LeadCheck,
  MODEL_HZ,
  DEFAULT_PULSE_DETECTOR,
  PulseDetector,
  QrsConfirmation,
  SignalQuality,
  DEFAULT_VF_DETECTOR,
  VfDetector,
  type BeatWindow,
  type EcgFrontEndConfig,
  type LeadCheckConfig,
} from '../dsp/index.js';
import { leadPhysical, type SampleFrame } from '../contracts/frame.js';

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
  /** When an ECG lead cannot be read (off, flat, saturated). */
  readonly leadCheck: LeadCheckConfig;
  /**
   * Cut the second lead's beat windows too (`BeatWindow.secondLead`), for a classifier that
   * takes both leads. Its R peaks are detected either way (asystole needs them).
   */
  readonly secondLeadWindows: boolean;
}

export const DEFAULT_BED: BedConfig = { leadCheck: DEFAULT_LEAD_CHECK, secondLeadWindows: false };

/** What the bed's signal analysis reads: the analysis lead, and a second ECG lead where there is one. */
interface Roles {
  readonly lead: number;
  readonly second: number | undefined;
}

/**
 * Everything one bed needs between frames and classified beats: a check of every ECG lead, the
 * front end on the analysis lead (the monitoring lead, or another ECG lead while it cannot be
 * read), VF analysis on both analysed leads and the alarm engine. No RxJS, no Kafka: the pipeline
 * feeds it ordered frames and classified beats.
 */
export class BedMonitor {
  readonly bedId: string;
  private readonly config: BedConfig;
  /** On the analysis lead, and on a second lead where the frame has one. */
  private frontEnd: EcgFrontEnd | undefined;
  private roles: Roles | undefined;
  /** The second lead's R peaks that confirm QRS activity (asystole needs every readable lead silent). */
  private confirmation: QrsConfirmation | undefined;
  /** The frame's signature (rate, signals): another one restarts the analysis. */
  private signature = '';
  private sourceHz = 0;
  /** Stream sample index at which the current front end started (after a start or a gap). */
  private origin = 0;
  private expectedSample: number | undefined;
  readonly alarms: AlarmEngine;
  /** One per ECG lead of the frame, by signal index; and each lead's last valid sample. */
  private leadChecks = new Map<number, { check: LeadCheck; held: number }>();
  private quality: SignalQuality | undefined;
  /** VF analysis of the analysis lead (the second lead's QRS complexes witness it in the alarm engine). */
  private vf: VfDetector | undefined;
  private signalQuality = 1;
  private poorSignal = false;
  /**
   * The bed's pulsatile signal (arterial pressure, else the pleth), where it sends one: its
   * pulses witness the ECG's alarms. `origin`: the stream sample its detector started at.
   */
  private pulse:
    { readonly index: number; readonly check: LeadCheck; detector: PulseDetector; origin: number } | undefined;
  /** The latest frame's source and producer time: beats a cut stream leaves waiting go with them. */
  private lastFrame: Pick<SampleFrame, 'source' | 'producedAtMs'> | undefined;

  constructor(bedId: string, config: BedConfig = DEFAULT_BED) {
    this.bedId = bedId;
    this.config = config;
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
    const sameSignal = signatureOf(frame) === this.signature;
    if (sameSignal && this.expectedSample !== undefined && frame.firstSample !== this.expectedSample) {
      // samples missing (or repeated) although the sequence numbers were contiguous, or frames
      // lost while the bed was released
      beats.push(...this.flush());
      alarms.push(...this.onGap(this.expectedSample / frame.sampleRate, frame.firstSample / frame.sampleRate));
    } else if (!sameSignal) {
      beats.push(...this.flush());
      this.frontEnd = undefined;
      this.signature = signatureOf(frame);
      this.leadChecks = new Map(
        ecgLeadsOf(frame).map((l) => [l, { check: new LeadCheck(this.config.leadCheck), held: 0 }]),
      );
      const pulse = pulseSignalOf(frame.leads);
      this.pulse =
        pulse === undefined
          ? undefined
          : {
              index: pulse,
              check: new LeadCheck(this.config.leadCheck),
              detector: new PulseDetector({ ...DEFAULT_PULSE_DETECTOR, fs: frame.sampleRate }),
              origin: frame.firstSample,
            };
    }
    this.lastFrame = frame;
    const perLead = frame.samples.length / frame.leads.length;
    const startS = frame.firstSample / frame.sampleRate;
    this.expectedSample = frame.firstSample + perLead;
    const endS = this.expectedSample / frame.sampleRate;
    const leads = new Map<number, Float32Array>();
    const statuses: LeadStatus[] = [];
    for (const [l, state] of this.leadChecks) {
      const x = leadPhysical(frame, l);
      statuses.push({ index: l, name: frame.leads[l]!.name, fault: state.check.push(x, startS, endS) });
      // the filters must not meet a missing sample: it holds the lead's last valid one (the lead's
      // check calls it off, and its QRS complexes no longer count)
      for (let i = 0; i < x.length; i++) {
        if (Number.isNaN(x[i]!)) x[i] = state.held;
        else state.held = x[i]!;
      }
      leads.set(l, x);
    }
    const readable = (l: number | undefined): boolean =>
      l !== undefined && statuses.find((s) => s.index === l)?.fault === undefined;
    const roles = this.chooseRoles(frame, readable);
    if (this.frontEnd === undefined || roles.lead !== this.roles?.lead || roles.second !== this.roles.second) {
      if (this.frontEnd !== undefined) {
        // the analysis moves to a lead that can be read: what was cut goes on, the rhythm starts afresh
        beats.push(...this.flush());
        this.alarms.onAnalysisRestart(startS);
      }
      this.restart(frame, roles);
    }
    const skip = Math.max(0, this.origin - frame.firstSample);
    const out = this.frontEnd!.push(
      leads.get(roles.lead)!.subarray(skip),
      roles.second === undefined ? undefined : leads.get(roles.second)!.subarray(skip),
    );
    for (const w of this.quality!.push(
      out.samples,
      out.peaks.map((p) => p.index),
    )) {
      this.signalQuality = w.quality;
      this.poorSignal = w.poor;
    }
    alarms.push(...this.alarms.onSignal(endS, statuses, this.poorSignal, startS));
    this.pulseWitness(frame, startS, endS);
    alarms.push(...this.fibrillationAlarms(out.samples));
    // the second lead's own QRS complexes witness the rate the analysis lead's beats give
    this.alarms.onSecondLead(
      roles.second === undefined ? undefined : frame.leads[roles.second]!.name,
      out.secondPeaks
        .filter(isCredibleQrs)
        .map((p) => ({ timeS: (this.origin + p.sourceSample) / frame.sampleRate, strength: Math.abs(p.amplitude) })),
      readable(roles.second),
      endS,
    );
    const peaks = [
      ...(readable(roles.lead) ? out.peaks.filter(isCredibleQrs) : []),
      ...((readable(roles.second) ? this.confirmation?.push(out.secondPeaks) : undefined) ?? []),
    ].sort((a, b) => a.sourceSample - b.sourceSample);
    for (const peak of peaks) {
      const sample = this.origin + Math.round(peak.sourceSample);
      alarms.push(...this.alarms.onQrs(sample, sample / frame.sampleRate));
    }
    beats.push(...out.windows.map((window) => this.pending(window, frame)));
    alarms.push(...this.alarms.onTime(endS), ...this.alarms.onStall(false));
    return { beats, alarms };
  }

  /** The frame's pulsatile signal to the alarm engine's pulse witness. */
  private pulseWitness(frame: SampleFrame, startS: number, endS: number): void {
    const pulse = this.pulse;
    if (pulse === undefined) {
      this.alarms.onPulse(undefined, [], false, endS);
      return;
    }
    const x = leadPhysical(frame, pulse.index);
    const readable = pulse.check.push(x, startS, endS) === undefined && !pulse.check.faultyNow;
    const found = pulse.detector.push(x).map((p) => ({
      timeS: (pulse.origin + p.sample) / frame.sampleRate,
      strength: p.strength,
    }));
    this.alarms.onPulse(frame.leads[pulse.index]!.name, found, readable, endS);
  }

  /**
   * The leads to analyse: the current analysis lead while it can be read, else the first ECG lead
   * that can (the monitoring lead first), with the next ECG lead as the second.
   */
  private chooseRoles(frame: SampleFrame, readable: (l: number) => boolean): Roles {
    const ecg = ecgLeadsOf(frame);
    const current = this.roles?.lead;
    const lead =
      this.frontEnd !== undefined && current !== undefined && readable(current)
        ? current
        : (ecg.find(readable) ?? (current !== undefined && ecg.includes(current) ? current : ecg[0]!));
    if (lead === current && this.frontEnd !== undefined) return this.roles!;
    return { lead, second: ecg.find((l) => l !== lead) };
  }

  /**
   * VF analysis of both analysed leads: VF is called while the analysis lead's and, where it can
   * be read, the second lead's detector both see it (artefact on one lead is not VF), from the
   * later of their onsets.
   */
  private fibrillationAlarms(samples: Float32Array): Alarm[] {
    const at = (i: number): number => this.origin / this.sourceHz + i / MODEL_HZ;
    return this.vf!.push(samples).flatMap((change) =>
      this.alarms.onFibrillation(change.active, at(change.onset), at(change.at)),
    );
  }

  private pending(window: BeatWindow, frame: Pick<SampleFrame, 'source' | 'producedAtMs'>): PendingBeat {
    const rPeakSample = this.origin + Math.round((window.rPeak * this.sourceHz) / MODEL_HZ);
    const lead = this.roles === undefined ? undefined : this.leadChecks.get(this.roles.lead);
    return {
      bedId: this.bedId,
      source: frame.source,
      window,
      rPeakSample,
      timeS: rPeakSample / this.sourceHz,
      rrS: window.rrPrevious ?? null,
      quality: lead?.check.faultyNow === true ? 0 : this.signalQuality,
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
    this.startAfresh(toS);
    return this.alarms.onGap(fromS, toS);
  }

  /** The signal resumes at `s` after a hole: every stage that reads it learns it again. */
  private startAfresh(s: number): void {
    this.frontEnd = undefined;
    for (const { check } of this.leadChecks.values()) check.reset();
    if (this.pulse !== undefined) {
      this.pulse.check.reset();
      this.pulse.detector = new PulseDetector(this.pulse.detector.config);
      this.pulse.origin = Math.round(s * this.sourceHz);
    }
  }

  /**
   * The bed has been silent so long (`ReleaseConfig`) that its signal analysis is dropped: the
   * memory of a ward whose beds come and go (bed ids given per admission) stays that of the
   * beds streaming. What a later frame needs stays: its alarms (the active stream-stalled among
   * them) and the sample it must start at (else a gap).
   */
  release(): void {
    const s = this.streamS();
    if (this.expectedSample !== undefined) this.alarms.onRelease(s);
    this.startAfresh(s);
    this.roles = undefined;
    this.confirmation = undefined;
    this.quality = undefined;
    this.vf = undefined;
  }

  /** No frame has come for the pipeline's stall time. */
  onStalled(): { beats: PendingBeat[]; alarms: Alarm[] } {
    return { beats: this.flush(), alarms: this.alarms.onStall(true) };
  }

  /** A beat this bed cut, classified (`label`). */
  onClassified(beat: PendingBeat & { readonly label: AlarmBeat['label'] }): Alarm[] {
    this.alarms.atWallClock(beat.windowCompleteMs);
    return this.alarms.onBeat({
      sample: beat.rPeakSample,
      timeS: beat.timeS,
      label: beat.label,
      quality: beat.quality,
    });
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
  private restart(frame: SampleFrame, roles: Roles): void {
    this.sourceHz = frame.sampleRate;
    this.roles = roles;
    this.confirmation = roles.second === undefined ? undefined : new QrsConfirmation();
    this.frontEnd = new EcgFrontEnd({
      ...this.config.frontEnd,
      sourceHz: frame.sampleRate,
      secondLead: roles.second === undefined ? undefined : this.config.secondLeadWindows ? 'windows' : 'peaks',
    });
    this.quality = new SignalQuality({ ...DEFAULT_SIGNAL_QUALITY, fs: MODEL_HZ });
    this.vf = new VfDetector({ ...DEFAULT_VF_DETECTOR, fs: MODEL_HZ });
    this.signalQuality = 1;
    this.poorSignal = false;
    const grid = this.frontEnd.resampler.alignment;
    this.origin = Math.ceil(frame.firstSample / grid) * grid;
  }
}

/** A frame's rate and signals: frames that share it continue one another. */
function signatureOf(frame: SampleFrame): string {
  return JSON.stringify([frame.sampleRate, frame.leads.map((l) => [l.name, l.kind])]);
}

/** A frame's ECG leads, the monitoring lead first. */
export function ecgLeadsOf(frame: SampleFrame): number[] {
  const monitoring = monitoringLeadOf(frame.leads);
  const rest = frame.leads.flatMap((l, i) => (l.kind === 'ecg' && i !== monitoring ? [i] : []));
  return monitoring < 0 ? rest : [monitoring, ...rest];
}
