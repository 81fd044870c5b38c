import { ALARM_PRIORITY, alarmId, type AlarmType } from '../contracts/alarms.js';
import { ConfigError } from '../contracts/errors.js';
import { type Alarm, type AlarmBeat, type FlutterCheck } from './types.js';

export interface AlarmConfig {
  /** No QRS for this long: asystole (CinC 2015: 4 s). */
  readonly asystoleS: number;
  /**
   * The R-peak detector reports a QRS up to this long after it occurred (its p99 delay on
   * MIT-BIH is under 0.4 s): the asystole clock only judges time the detector has finished
   * deciding, so a QRS still being decided never counts as absent.
   */
  readonly qrsDecisionS: number;
  /** Heart rate below this... */
  readonly bradycardiaBpm: number;
  /** ...for this many consecutive beats: extreme bradycardia (CinC 2015: < 40 for 5 beats). */
  readonly bradycardiaBeats: number;
  readonly tachycardiaBpm: number;
  /** CinC 2015: > 140 bpm for 17 beats. */
  readonly tachycardiaBeats: number;
  /** CinC 2015: >= 5 consecutive ventricular beats faster than 100 bpm. */
  readonly vtBeats: number;
  readonly vtBpm: number;
  /** An RR interval longer than this is a pause, s. */
  readonly pauseS: number;
  /** Bigeminy / trigeminy: this many consecutive cycles. */
  readonly geminyCycles: number;
  /** Irregular rhythm: RR intervals (non-ventricular beats) looked at... */
  readonly irregularWindow: number;
  /** ...and the mean absolute successive RR difference over mean RR that starts it... */
  readonly irregularOn: number;
  /** ...and the lower one that ends it (hysteresis). */
  readonly irregularOff: number;
  /**
   * Detected QRS complexes this regular and slower than this rate (bpm) are an organised
   * rhythm, which VF is not: the waveform's VF call waits while they last (a paced rhythm's
   * broad complexes can look VF-like to it).
   */
  readonly organisedBpm: number;
}

export const DEFAULT_ALARMS: AlarmConfig = {
  asystoleS: 4,
  qrsDecisionS: 0.4,
  bradycardiaBpm: 40,
  bradycardiaBeats: 5,
  tachycardiaBpm: 140,
  tachycardiaBeats: 17,
  vtBeats: 5,
  vtBpm: 100,
  pauseS: 2,
  geminyCycles: 4,
  irregularWindow: 32,
  irregularOn: 0.15,
  irregularOff: 0.1,
  organisedBpm: 100,
};

const HISTORY = 64;
/** QRS complexes looked at for an organised rhythm: those of the last this many seconds... */
const ORGANISED_WINDOW_S = 6;
/** ...at least this many... */
const ORGANISED_MIN_QRS = 4;
/** ...with RR intervals this regular (standard deviation over mean). */
const ORGANISED_MAX_CV = 0.15;
/** Detections closer than this (s) are one complex seen on both leads. */
const SAME_QRS_S = 0.2;
/**
 * Ended alarms a nurse can still acknowledge: events (a couplet, a pause) end as they are
 * raised, so the central station's list acknowledges them after the fact.
 */
const ACKNOWLEDGEABLE_ENDED = 16;

/**
 * The bedside alarm logic for one bed. It sees classified beats and the passage of stream
 * time (for alarms raised by the absence of beats) and reports every alarm state change.
 * Alarms that describe an episode stay active while it lasts; events (couplet, run, pause)
 * are reported active and ended at once.
 */
export class AlarmEngine {
  readonly bedId: string;
  readonly config: AlarmConfig;
  private beats: AlarmBeat[] = [];
  private readonly active = new Map<AlarmType, Alarm>();
  /** The last ACKNOWLEDGEABLE_ENDED ended alarms, oldest first. */
  private ended: Alarm[] = [];
  /** The last QRS the detector found: asystole follows detection, not (slower) classification. */
  private lastQrs: { sample: number; timeS: number } | undefined;
  /** Times of the QRS complexes of the last ORGANISED_WINDOW_S, one per complex. */
  private recentQrs: number[] = [];
  /** Onset of the VF the waveform analysis reports, while it does. */
  private fibrillationS: number | undefined;
  /**
   * Ends of gaps and lead-off episodes not yet passed by a beat. No rhythm history spans one.
   * Beats arrive after classification, so they may come after the signal path reported a
   * later break: each beat is placed against the breaks by its own time.
   */
  private breaks: number[] = [];
  private lastBeatS = -Infinity;
  /** Stream time of the input being processed: when an alarm raised now is raised. */
  private nowS = 0;
  /**
   * Where the stream's frames have got to (`onTime`): a stall begins there, not at the last
   * beat, which is classified after the frames that showed it.
   */
  private streamS = 0;

  private readonly flutter: FlutterCheck;
  /** Producer wall clock of the input being processed (`atWallClock`): stamped on the alarms it raises. */
  private wallMs = 0;

  constructor(bedId: string, config: AlarmConfig = DEFAULT_ALARMS, flutter: FlutterCheck = () => false) {
    if (!(config.irregularOff < config.irregularOn))
      throw new ConfigError('AlarmEngine: irregularOff must be below irregularOn');
    if (config.vtBeats < 3) throw new ConfigError('AlarmEngine: vtBeats must be at least 3');
    this.bedId = bedId;
    this.config = config;
    this.flutter = flutter;
  }

  /**
   * The producer wall clock (ms) of the frame or beat the next calls come from: alarms raised by
   * them carry it as `raisedAtMs`.
   */
  atWallClock(ms: number): void {
    this.wallMs = ms;
  }

  /**
   * The bed's input cannot be used (`reason`, in words): the invalid-input technical alarm, at
   * stream time `nowS`, until `inputValid` ends it.
   */
  onInvalidInput(reason: string, nowS: number): Alarm[] {
    this.nowS = nowS;
    const out: Alarm[] = [];
    this.startIfNew('invalid-input', nowS, [], out, reason);
    return out;
  }

  /** The bed's input has been usable again for a while: ends the invalid-input alarm. */
  inputValid(nowS: number): Alarm[] {
    const out: Alarm[] = [];
    this.endIf('invalid-input', true, nowS, out);
    return out;
  }

  /** A classified beat (in time order); returns the alarm changes it causes. */
  onBeat(beat: AlarmBeat): Alarm[] {
    if (beat.timeS <= this.lastBeatS) return []; // duplicate or out of order: already seen
    this.lastBeatS = beat.timeS;
    this.nowS = beat.timeS;
    const out: Alarm[] = [];
    let crossed = false;
    while (this.breaks.length > 0 && this.breaks[0]! <= beat.timeS) {
      this.breaks.shift();
      crossed = true;
    }
    if (crossed) this.beats = []; // no pause, rate or run measured across the hole
    const previous = this.beats.at(-1);
    this.beats.push(beat);
    if (this.beats.length > HISTORY) this.beats.shift();
    if (previous !== undefined && beat.timeS - previous.timeS > this.config.pauseS) {
      this.event('pause', previous.timeS, beat.timeS, [previous.sample, beat.sample], out);
    }
    this.rateAlarms(beat, out);
    this.ventricularAlarms(beat, out);
    this.geminy('bigeminy', ['N', 'V'], beat, out);
    this.geminy('trigeminy', ['N', 'N', 'V'], beat, out);
    this.irregularRhythm(beat, out);
    return out;
  }

  /** The detector found a QRS (before classification): ends an asystole. */
  onQrs(sample: number, timeS: number): Alarm[] {
    if (this.lastQrs !== undefined && timeS <= this.lastQrs.timeS) return [];
    if (this.lastQrs === undefined || timeS - this.lastQrs.timeS > SAME_QRS_S) this.recentQrs.push(timeS);
    while (this.recentQrs[0] !== undefined && this.recentQrs[0] <= timeS - ORGANISED_WINDOW_S) this.recentQrs.shift();
    const out: Alarm[] = [];
    // a silence of asystole length that this QRS ends before the clock had judged it (the QRS
    // was decided quickly): it was asystole all the same
    this.asystoleUpTo(timeS, out);
    this.lastQrs = { sample, timeS };
    this.nowS = timeS;
    this.endIf('asystole', true, timeS, out);
    return out;
  }

  /** Stream time has reached `nowS` (called even when no beat arrives). */
  onTime(nowS: number): Alarm[] {
    this.nowS = nowS;
    this.streamS = nowS;
    const out: Alarm[] = [];
    // with the lead off there is no ECG to call asystole on: the technical alarm speaks instead
    if (this.active.has('lead-off')) return out;
    this.asystoleUpTo(nowS - this.config.qrsDecisionS, out);
    this.callFibrillation(out);
    return out;
  }

  /** Raises asystole if no QRS was found from the last one up to `decidedS` (a time the detector has decided). */
  private asystoleUpTo(decidedS: number, out: Alarm[]): void {
    const last = this.lastQrs;
    if (last === undefined || this.active.has('asystole') || this.active.has('lead-off')) return;
    if (decidedS - last.timeS >= this.config.asystoleS)
      this.start('asystole', last.timeS, [last.sample], out, String(last.sample));
  }

  /**
   * Signal-quality report from the front end; technical alarms follow it. `resumedS`: where the
   * signal came back when a lead-off ends now (the start of the frame that was not flat): a beat
   * after it is never measured against one from before the lead went off.
   */
  onSignal(nowS: number, leadOff: boolean, poorSignal: boolean, resumedS = nowS): Alarm[] {
    this.nowS = nowS;
    const out: Alarm[] = [];
    if (leadOff) {
      this.startIfNew('lead-off', nowS, [], out);
      this.endIf('asystole', true, nowS, out);
    } else if (this.active.has('lead-off')) {
      this.endIf('lead-off', true, nowS, out);
      this.restartRhythm(resumedS); // no pause or rate alarm across the time the lead was off
    }
    if (poorSignal && !leadOff) this.startIfNew('poor-signal', nowS, [], out);
    else this.endIf('poor-signal', true, nowS, out);
    return out;
  }

  /**
   * The signal analysis called ventricular flutter/fibrillation (from `onsetS`) or saw it end.
   * Beat detection is unreliable in VF, so this comes from the waveform, not from beats.
   */
  onFibrillation(active: boolean, onsetS: number, nowS: number): Alarm[] {
    this.nowS = nowS;
    const out: Alarm[] = [];
    this.fibrillationS = active ? onsetS : undefined;
    if (active) this.callFibrillation(out);
    else this.endIf('ventricular-fibrillation', true, nowS, out);
    return out;
  }

  /** Raises the VF the waveform reports, unless the detected complexes are an organised rhythm. */
  private callFibrillation(out: Alarm[]): void {
    if (this.fibrillationS === undefined || this.active.has('ventricular-fibrillation')) return;
    if (!this.organisedRhythm()) this.startIfNew('ventricular-fibrillation', this.fibrillationS, [], out);
  }

  private organisedRhythm(): boolean {
    const qrs = this.recentQrs.filter((t) => t > this.nowS - ORGANISED_WINDOW_S);
    if (qrs.length < ORGANISED_MIN_QRS) return false;
    const rr = qrs.slice(1).map((t, i) => t - qrs[i]!);
    const mean = rr.reduce((a, b) => a + b, 0) / rr.length;
    const sd = Math.sqrt(rr.reduce((a, b) => a + (b - mean) ** 2, 0) / rr.length);
    return 60 / mean < this.config.organisedBpm && sd / mean < ORGANISED_MAX_CV;
  }

  /**
   * The bed's stream stopped (`stalled`, judged on the wall clock by the pipeline) or resumed.
   * The alarm's onset is the stream time of the last sample seen.
   */
  onStall(stalled: boolean): Alarm[] {
    const out: Alarm[] = [];
    if (stalled) this.startIfNew('stream-stalled', this.streamS, [], out);
    else this.endIf('stream-stalled', true, this.streamS, out);
    return out;
  }

  /** An alarm of the bed that is active, or ended and still acknowledgeable, by its id. */
  find(id: string): Alarm | undefined {
    for (const alarm of this.active.values()) if (alarm.id === id) return alarm;
    return this.ended.find((a) => a.id === id);
  }

  /**
   * A nurse acknowledged an alarm: an active one stays active, marked acknowledged (and ends so);
   * a recently ended one is marked too. Returns the alarm's new state, or undefined where there
   * is nothing to change (unknown, long ended, or acknowledged already).
   */
  acknowledge(id: string): Alarm | undefined {
    for (const [type, alarm] of this.active) {
      if (alarm.id !== id) continue;
      if (alarm.acknowledged) return undefined;
      const updated = { ...alarm, acknowledged: true };
      this.active.set(type, updated);
      return updated;
    }
    const k = this.ended.findIndex((a) => a.id === id);
    if (k < 0 || this.ended[k]!.acknowledged) return undefined;
    const updated = { ...this.ended[k]!, acknowledged: true };
    this.ended[k] = updated;
    return updated;
  }

  /**
   * Frames were lost from `fromS` to `toS`: a technical event, and the beat history is
   * forgotten so no rhythm alarm is computed across the hole.
   */
  onGap(fromS: number, toS: number): Alarm[] {
    this.nowS = toS;
    this.restartRhythm(toS);
    const out: Alarm[] = [];
    this.endIf('asystole', true, toS, out);
    this.event('signal-gap', fromS, toS, [], out);
    return out;
  }

  /**
   * The signal path's analysis stopped at `s` and will start afresh (a bed released while
   * silent): not a technical event, but a detector started again has beats yet to find, so
   * rhythm and the asystole clock start afresh as after a gap, and the beat history goes; so do
   * the ended alarms, ten minutes old and more (what a released bed keeps must not grow with
   * admissions): they can no longer be acknowledged.
   */
  onRelease(s: number): void {
    this.nowS = s;
    this.restartRhythm(s);
    this.beats = [];
    this.ended = [];
  }

  /** Signal resumes at `s` after a hole: rhythm and the asystole clock start afresh. */
  private restartRhythm(s: number): void {
    this.breaks.push(s);
    this.recentQrs = [];
    this.lastQrs = { sample: this.lastQrs?.sample ?? 0, timeS: s };
  }

  private rateAlarms(beat: AlarmBeat, out: Alarm[]): void {
    const c = this.config;
    const bpm = this.recentRates(Math.max(c.bradycardiaBeats, c.tachycardiaBeats));
    const lastN = (n: number) => (bpm.length >= n ? bpm.slice(-n) : undefined);
    const brady = lastN(c.bradycardiaBeats);
    if (brady !== undefined && brady.every((r) => r < c.bradycardiaBpm))
      this.startIfNew('extreme-bradycardia', this.beatTime(c.bradycardiaBeats), this.evidence(c.bradycardiaBeats), out);
    else if (bpm.at(-1) !== undefined && bpm.at(-1)! >= c.bradycardiaBpm)
      this.endIf('extreme-bradycardia', true, beat.timeS, out);
    const tachy = lastN(c.tachycardiaBeats);
    if (tachy !== undefined && tachy.every((r) => r > c.tachycardiaBpm))
      this.startIfNew('extreme-tachycardia', this.beatTime(c.tachycardiaBeats), this.evidence(c.tachycardiaBeats), out);
    else if (bpm.at(-1) !== undefined && bpm.at(-1)! <= c.tachycardiaBpm)
      this.endIf('extreme-tachycardia', true, beat.timeS, out);
  }

  private ventricularAlarms(beat: AlarmBeat, out: Alarm[]): void {
    const c = this.config;
    // the run of V beats ending at this beat. CinC 2015 asks for five consecutive V beats at a
    // ventricular rate above 100 bpm: a rate over beats, not in every interval (MIT-BIH 223's VT
    // alternates 0.5 and 0.7 s intervals), over the whole run or over its latest five (a slow
    // idioventricular run that speeds up is VT from then on: 205 at 1466 s)
    let run = 0;
    for (let i = this.beats.length - 1; i >= 0 && this.beats[i]!.label === 'V'; i--) run++;
    const rate = (beats: number): number => {
      const first = this.beats[this.beats.length - beats]!;
      return (60 * (beats - 1)) / (beat.timeS - first.timeS);
    };
    const fast = run >= c.vtBeats && (rate(run) > c.vtBpm || rate(c.vtBeats) > c.vtBpm);
    if (fast) {
      // flutter waves are detected as fast V beats too: the run is VT only where the signal over
      // it does not look like flutter (which is the VF detector's to call, a few seconds later)
      if (this.active.has('ventricular-tachycardia') || !this.flutter(this.beatTime(run), beat.timeS))
        this.startIfNew('ventricular-tachycardia', this.beatTime(run), this.evidence(run), out);
      return;
    }
    if (beat.label === 'V') return;
    this.endIf('ventricular-tachycardia', true, beat.timeS, out);
    // the run just ended: classify it by length
    let ended = 0;
    for (let i = this.beats.length - 2; i >= 0 && this.beats[i]!.label === 'V'; i--) ended++;
    const evidence = this.beats.slice(-1 - ended, -1).map((b) => b.sample);
    const onset = this.beats.at(-1 - ended)?.timeS ?? beat.timeS;
    if (ended === 2) this.event('couplet', onset, beat.timeS, evidence, out);
    else if (ended >= 3 && ended < c.vtBeats) this.event('ventricular-run', onset, beat.timeS, evidence, out);
  }

  private geminy(type: 'bigeminy' | 'trigeminy', cycle: readonly ('N' | 'V')[], beat: AlarmBeat, out: Alarm[]): void {
    const needed = cycle.length * this.config.geminyCycles;
    const labels = this.beats.slice(-needed).map((b) => (b.label === 'V' ? 'V' : 'N'));
    // the pattern must line up with a cycle ending in V at its last complete cycle
    const matches = (offset: number): boolean =>
      labels.length === needed && labels.every((l, i) => l === cycle[(i + offset) % cycle.length]);
    const matching = cycle.some((_, offset) => matches(offset));
    if (matching) this.startIfNew(type, this.beatTime(needed), this.evidence(needed), out);
    else this.endIf(type, true, beat.timeS, out);
  }

  private irregularRhythm(beat: AlarmBeat, out: Alarm[]): void {
    const c = this.config;
    // only intervals between adjacent supraventricular beats: a PVC and its compensatory pause
    // are ectopy, not an irregular underlying rhythm, and a pause has its own alarm
    const rr: number[] = [];
    for (let i = this.beats.length - 1; i > 0 && rr.length < c.irregularWindow; i--) {
      const [a, b] = [this.beats[i - 1]!, this.beats[i]!];
      const interval = b.timeS - a.timeS;
      if (a.label !== 'V' && a.label !== 'F' && b.label !== 'V' && b.label !== 'F' && interval <= c.pauseS)
        rr.push(interval);
    }
    if (rr.length < c.irregularWindow) return;
    const meanRr = rr.reduce((x, y) => x + y, 0) / rr.length;
    let successive = 0;
    for (let i = 1; i < rr.length; i++) successive += Math.abs(rr[i]! - rr[i - 1]!);
    const irregularity = successive / (rr.length - 1) / meanRr;
    if (irregularity > c.irregularOn)
      this.startIfNew('irregular-rhythm', this.beatTime(c.irregularWindow), this.evidence(c.irregularWindow), out);
    else if (irregularity < c.irregularOff) this.endIf('irregular-rhythm', true, beat.timeS, out);
  }

  private recentRates(n: number): number[] {
    const b = this.beats.slice(-(n + 1));
    return b.slice(1).map((x, i) => 60 / (x.timeS - b[i]!.timeS));
  }

  private beatTime(n: number): number {
    return this.beats[Math.max(0, this.beats.length - n)]!.timeS;
  }

  private evidence(n: number): number[] {
    return this.beats.slice(-n).map((b) => b.sample);
  }

  private startIfNew(type: AlarmType, onsetS: number, evidence: number[], out: Alarm[], detail?: string): void {
    if (this.active.has(type)) return;
    this.start(type, onsetS, evidence, out, String(evidence[0] ?? Math.round(onsetS * 1000)), detail);
  }

  /** Whether a new alarm of this type is held back while the signal is poor. */
  private suppressed(type: AlarmType): boolean {
    // artefact: beats found in noise (and beats lost in it) are not a rhythm, and the poor-signal
    // alarm tells the nurse the monitor cannot judge one. VF is judged on the waveform itself
    // (whose chaotic activity also reads as poor signal), so it is never held back.
    return (
      ALARM_PRIORITY[type] !== 'technical' && type !== 'ventricular-fibrillation' && this.active.has('poor-signal')
    );
  }

  private start(
    type: AlarmType,
    onsetS: number,
    evidence: readonly number[],
    out: Alarm[],
    onsetKey: string,
    detail?: string,
  ): void {
    if (this.suppressed(type)) return;
    const alarm: Alarm = {
      id: alarmId(this.bedId, type, onsetKey),
      bedId: this.bedId,
      type,
      priority: ALARM_PRIORITY[type],
      state: 'active',
      acknowledged: false,
      onsetS,
      raisedS: Math.max(onsetS, this.nowS),
      endS: undefined,
      evidence,
      raisedAtMs: this.wallMs,
      ...(detail === undefined ? {} : { detail }),
    };
    this.active.set(type, alarm);
    out.push(alarm);
  }

  private endIf(type: AlarmType, condition: boolean, endS: number, out: Alarm[]): void {
    const alarm = this.active.get(type);
    if (alarm === undefined || !condition) return;
    this.active.delete(type);
    const ended: Alarm = { ...alarm, state: 'ended', endS };
    this.ended = [...this.ended.filter((a) => a.id !== ended.id).slice(1 - ACKNOWLEDGEABLE_ENDED), ended];
    out.push(ended);
  }

  private event(type: AlarmType, onsetS: number, endS: number, evidence: number[], out: Alarm[]): void {
    this.start(type, onsetS, evidence, out, String(evidence[0] ?? Math.round(onsetS * 1000)));
    this.endIf(type, true, endS, out);
  }
}
