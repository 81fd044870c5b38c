import { ALARM_PRIORITY, alarmId, type AlarmType } from '../contracts/alarms.js';
import { ConfigError } from '../contracts/errors.js';
import { LEAD_FAULTS, type LeadFault } from '../dsp/leadCheck.js';
import { Witness, type WitnessedBeat } from './witness.js';
import { type Alarm, type AlarmBeat, type FlutterCheck, type LeadStatus } from './types.js';

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
  /** ...over this many consecutive beats: extreme bradycardia (CinC 2015: < 40 for 5 beats; their mean rate). */
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
 * Extreme bradycardia and tachycardia end when the rate is back this far inside the limit (bpm):
 * a rate that wavers about the limit raises one alarm, not one every few beats.
 */
const RATE_HYSTERESIS_BPM = 5;
/** Beats found where the signal quality was below this (a noisy window) give no interval to a rate... */
const RATE_QUALITY = 0.5;
/** ...and a rate needs this share of its intervals readable. */
const RATE_READABLE_SHARE = 0.75;
/** The share of a rate's intervals left out at each end (one at least): the longest and the shortest. */
const RATE_TRIM = 0.125;

/**
 * The pulse withholds extreme bradycardia at a pulse rate this far above the limit (bpm), and
 * the second lead extreme tachycardia at a rate this far below it: a rate counted wrong by a few
 * does not.
 */
const WITNESS_RATE_MARGIN = { bradycardia: 10, tachycardia: 40 };
/** The pulse travels from the heart to the cuff or the finger in this long, s, about. */
const PULSE_DELAY_S = 0.5;
/** A VF call is judged on the pulses of the last this many seconds. */
const VF_PULSE_S = 4;

/**
 * The second lead witnesses a rhythm alarm where, over some SECOND_LEAD_BASELINE_S (s) of the
 * last SECOND_LEAD_TRUSTED_S, its rate was within SECOND_LEAD_AGREES of the analysed lead's
 * beats: it follows the same heart, and was seen to while the analysed lead was clean (noise on
 * that lead lasts minutes).
 */
const SECOND_LEAD_BASELINE_S = 20;
const SECOND_LEAD_AGREES = 0.2;
const SECOND_LEAD_TRUSTED_S = 180;
/** A withheld alarm of a type is said again after this long (stream time, s) while it stays withheld. */
const WITHHELD_REPEAT_S = 30;

/** An alarm the pulse held back, and why, in words. */
export interface WithheldAlarm {
  readonly type: AlarmType;
  readonly atS: number;
  readonly reason: string;
}

/** What each lead fault is, in the words of its alarm. */
const FAULT_WORDS: Readonly<Record<LeadFault, string>> = {
  'lead-off': 'off (samples invalid)',
  'flat-line': 'flat',
  saturation: 'saturated',
};

/** The key of an active alarm: its type, and for a lead alarm its lead. */
const keyOf = (type: AlarmType, leadIndex?: number): string =>
  leadIndex === undefined ? type : `${type}:${leadIndex}`;

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
  /** Active alarms by `keyOf` (one per type, and one per type and lead for lead alarms). */
  private readonly active = new Map<string, Alarm>();
  /** No ECG lead can be read: asystole cannot be judged (the lead alarms speak instead). */
  private unreadable = false;
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
  /** The bed's pulse, where it sends a pulsatile signal. */
  private pulse: Witness | undefined;
  /** The QRS complexes of the bed's second ECG lead, where it has one... */
  private secondLead: Witness | undefined;
  /** ...and when its rate last agreed with the analysed lead's (stream time, s). */
  private leadsAgreedS = -Infinity;
  /** Alarms the pulse held back since the last `drainWithheld`, and when each type was last said. */
  private held: WithheldAlarm[] = [];
  private readonly heldSaid = new Map<AlarmType, number>();
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

  /**
   * The bed's pulsatile signal (`signal`: its name; undefined: it has none): pulses found up to
   * `nowS`, and whether the signal can be read.
   */
  onPulse(signal: string | undefined, pulses: readonly WitnessedBeat[], readable: boolean, nowS: number): void {
    this.pulse = witnessed(this.pulse, signal, pulses, readable, nowS);
  }

  /**
   * The bed's second ECG lead (`signal`: its name; undefined: it has none): the QRS complexes its
   * own detector found up to `nowS`, and whether it can be read.
   */
  onSecondLead(signal: string | undefined, qrs: readonly WitnessedBeat[], readable: boolean, nowS: number): void {
    const previous = this.secondLead;
    this.secondLead = witnessed(previous, signal, qrs, readable, nowS);
    if (this.secondLead !== previous) this.leadsAgreedS = -Infinity;
  }

  /** The alarms the witnesses held back since the last call (each type at most every WITHHELD_REPEAT_S). */
  drainWithheld(): WithheldAlarm[] {
    const out = this.held;
    this.held = [];
    return out;
  }

  /**
   * What the second ECG lead says of a rhythm alarm about to be raised for `fromS` to `toS`: it
   * withholds one whose rate it does not show (extra detections in artefact on the analysed lead,
   * beats the analysed lead lost), where it has followed the same heart before.
   */
  private secondLeadWithholds(type: AlarmType, fromS: number, toS: number): boolean {
    const c = this.config;
    const lead = this.secondLead;
    const during = lead?.account(fromS, toS)?.rateBpm;
    if (lead === undefined || during === undefined || !(this.nowS - this.leadsAgreedS <= SECOND_LEAD_TRUSTED_S))
      return false;
    const shows = `lead ${lead.signal} shows ${Math.round(during)} bpm`;
    // VF has no rate; QRS complexes the second lead goes on showing at a rate a heart beats at
    // say the first lead's waves are artefact. A VT it contradicts only below the VT rate and
    // further from the analysed lead's than the two leads agree by (a run just over 100 bpm whose
    // one beat the second lead lost is still VT)
    const contradicts =
      type === 'extreme-bradycardia'
        ? during >= c.bradycardiaBpm + WITNESS_RATE_MARGIN.bradycardia
        : type === 'extreme-tachycardia'
          ? during <= c.tachycardiaBpm - WITNESS_RATE_MARGIN.tachycardia
          : type === 'ventricular-fibrillation'
            ? during >= c.bradycardiaBpm + WITNESS_RATE_MARGIN.bradycardia && during < c.vtBpm
            : type === 'ventricular-tachycardia' &&
              during < c.vtBpm &&
              during < (1 - SECOND_LEAD_AGREES) * (this.rateBetween(fromS, toS) ?? Infinity);
    return contradicts && this.withhold(type, shows);
  }

  /** Notes when the second lead's rate over the last SECOND_LEAD_BASELINE_S agrees with the analysed lead's. */
  private checkLeadsAgree(nowS: number): void {
    const theirs = this.secondLead?.account(nowS - SECOND_LEAD_BASELINE_S, nowS)?.rateBpm;
    const ours = this.rateBetween(nowS - SECOND_LEAD_BASELINE_S, nowS);
    if (theirs !== undefined && ours !== undefined && Math.abs(theirs - ours) <= SECOND_LEAD_AGREES * ours)
      this.leadsAgreedS = nowS;
  }

  /** The rate of the analysed lead's beats from `fromS` to `toS` (bpm, median interval), if there were three. */
  private rateBetween(fromS: number, toS: number): number | undefined {
    const times = this.beats.filter((b) => b.timeS >= fromS && b.timeS <= toS).map((b) => b.timeS);
    if (times.length < 3) return undefined;
    const rr = times
      .slice(1)
      .map((t, i) => t - times[i]!)
      .sort((a, b) => a - b);
    return 60 / rr[Math.floor(rr.length / 2)]!;
  }

  /**
   * What the pulse says of an alarm about to be raised for `fromS` to `toS`: withheld (the alarm
   * is not raised, and is judged again with the next input), or the words that confirm it, or
   * nothing where there is no pulse to witness.
   */
  private pulseSays(type: AlarmType, fromS: number, toS: number): { withheld: boolean; detail?: string } {
    const c = this.config;
    const pulse = this.pulse?.account(fromS, toS);
    if (pulse === undefined) return { withheld: false };
    const rate = pulse.rateBpm === undefined ? undefined : Math.round(pulse.rateBpm);
    const present = `pulse present in ${pulse.signal}${rate === undefined ? '' : ` at ${rate} bpm`}`;
    const withhold = (why: string): { withheld: boolean } => ({ withheld: this.withhold(type, why) });
    switch (type) {
      case 'asystole':
      case 'ventricular-fibrillation':
        return pulse.beats >= 2
          ? withhold(present)
          : { withheld: false, detail: `no pulse in ${pulse.signal} for ${(toS - fromS).toFixed(0)} s` };
      case 'extreme-bradycardia':
        if (rate !== undefined && rate >= c.bradycardiaBpm + WITNESS_RATE_MARGIN.bradycardia) return withhold(present);
        break;
      // a fast rhythm fills the heart too little for every beat to reach the cuff or the finger
      // (the pulse deficit of fast AF, of VT): a slower pulse does not contradict it
      case 'extreme-tachycardia':
      case 'ventricular-tachycardia':
        break;
      default:
        return { withheld: false };
    }
    return {
      withheld: false,
      detail: rate === undefined ? `no steady pulse in ${pulse.signal}` : `pulse in ${pulse.signal} at ${rate} bpm`,
    };
  }

  /** Notes an alarm held back (`why`, in words); always true. */
  private withhold(type: AlarmType, why: string): true {
    // said once per episode, about: a withheld alarm is judged again at every input
    const last = this.heldSaid.get(type);
    if (last === undefined || this.nowS - last >= WITHHELD_REPEAT_S) {
      this.heldSaid.set(type, this.nowS);
      this.held.push({ type, atS: this.nowS, reason: `${why}: ${type} withheld` });
    }
    return true;
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
    this.checkLeadsAgree(beat.timeS);
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
    // with no lead to read there is no ECG to call asystole on: the lead alarms speak instead
    if (this.unreadable) return out;
    this.asystoleUpTo(nowS - this.config.qrsDecisionS, out);
    this.callFibrillation(out);
    return out;
  }

  /** Raises asystole if no QRS was found from the last one up to `decidedS` (a time the detector has decided). */
  private asystoleUpTo(decidedS: number, out: Alarm[]): void {
    const last = this.lastQrs;
    if (last === undefined || this.active.has('asystole') || this.unreadable) return;
    if (decidedS - last.timeS >= this.config.asystoleS) {
      const pulse = this.pulseSays('asystole', last.timeS + PULSE_DELAY_S, decidedS);
      if (!pulse.withheld) this.start('asystole', last.timeS, [last.sample], out, String(last.sample), pulse.detail);
    }
  }

  /**
   * How the bed's ECG leads can be read, and whether the signal analysed is poor; technical
   * alarms follow it, one per faulty lead. While no lead can be read there is no asystole to
   * call. `resumedS`: where the signal came back when a lead becomes readable again after none
   * was (the start of the frame that could be read): a beat after it is never measured against
   * one from before.
   */
  onSignal(nowS: number, leads: readonly LeadStatus[], poorSignal: boolean, resumedS = nowS): Alarm[] {
    this.nowS = nowS;
    const out: Alarm[] = [];
    for (const lead of leads) {
      for (const fault of LEAD_FAULTS) {
        if (lead.fault === fault)
          this.startIfNew(fault, nowS, [], out, `lead ${lead.name} ${FAULT_WORDS[fault]}`, lead);
        else this.endIf(fault, true, nowS, out, lead.index);
      }
    }
    const unreadable = leads.length > 0 && leads.every((l) => l.fault !== undefined);
    if (unreadable) this.endIf('asystole', true, nowS, out);
    else if (this.unreadable) this.restartRhythm(resumedS); // no pause or rate alarm across the time no lead could be read
    this.unreadable = unreadable;
    if (poorSignal && !unreadable) this.startIfNew('poor-signal', nowS, [], out);
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
    if (this.organisedRhythm()) return;
    if (
      this.secondLeadWithholds(
        'ventricular-fibrillation',
        Math.max(this.fibrillationS, this.nowS - VF_PULSE_S),
        this.nowS,
      )
    )
      return;
    const pulse = this.pulseSays(
      'ventricular-fibrillation',
      Math.max(this.fibrillationS, this.nowS - VF_PULSE_S),
      this.nowS,
    );
    if (!pulse.withheld) this.startIfNew('ventricular-fibrillation', this.fibrillationS, [], out, pulse.detail);
  }

  /**
   * Whether the complexes of the last ORGANISED_WINDOW_S are an organised rhythm, not VF: regular
   * and at a rate a heart conducts (below `organisedBpm`), or regular and classified
   * supraventricular, whatever their rate (a fast SVT; flutter waves are not taken for N or S
   * beats).
   */
  private organisedRhythm(): boolean {
    const regular = (times: readonly number[]): number | undefined => {
      if (times.length < ORGANISED_MIN_QRS) return undefined;
      const rr = times.slice(1).map((t, i) => t - times[i]!);
      const mean = rr.reduce((a, b) => a + b, 0) / rr.length;
      const sd = Math.sqrt(rr.reduce((a, b) => a + (b - mean) ** 2, 0) / rr.length);
      return sd / mean < ORGANISED_MAX_CV ? 60 / mean : undefined;
    };
    const qrsRate = regular(this.recentQrs.filter((t) => t > this.nowS - ORGANISED_WINDOW_S));
    if (qrsRate !== undefined && qrsRate < this.config.organisedBpm) return true;
    const beats = this.beats.filter((b) => b.timeS > this.nowS - ORGANISED_WINDOW_S);
    return beats.every((b) => b.label === 'N' || b.label === 'S') && regular(beats.map((b) => b.timeS)) !== undefined;
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
    for (const [key, alarm] of this.active) {
      if (alarm.id !== id) continue;
      if (alarm.acknowledged) return undefined;
      const updated = { ...alarm, acknowledged: true };
      this.active.set(key, updated);
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

  /**
   * The signal analysis started afresh at `s` on other leads (the analysis lead could no longer be
   * read): its detector has beats yet to find, so rhythm and the asystole clock start afresh.
   */
  onAnalysisRestart(s: number): void {
    this.nowS = s;
    this.restartRhythm(s);
    this.beats = [];
  }

  /** Signal resumes at `s` after a hole: rhythm and the asystole clock start afresh. */
  private restartRhythm(s: number): void {
    this.breaks.push(s);
    this.recentQrs = [];
    this.lastQrs = { sample: this.lastQrs?.sample ?? 0, timeS: s };
  }

  private rateAlarms(beat: AlarmBeat, out: Alarm[]): void {
    const c = this.config;
    const slow = this.rateOver(c.bradycardiaBeats);
    if (slow !== undefined && slow < c.bradycardiaBpm)
      this.startWitnessed('extreme-bradycardia', c.bradycardiaBeats, out);
    else if (slow !== undefined && slow > c.bradycardiaBpm + RATE_HYSTERESIS_BPM)
      this.endIf('extreme-bradycardia', true, beat.timeS, out);
    const fast = this.rateOver(c.tachycardiaBeats);
    // a pause among the beats parts two fast stretches: not a rate sustained over them
    const b = this.beats.slice(-c.tachycardiaBeats);
    const paused = b.some((x, i) => i > 0 && x.timeS - b[i - 1]!.timeS > c.pauseS);
    // flutter waves are counted as fast beats too: where the signal under the newest beats looks
    // like flutter, the fast rate is the VF detector's to call
    if (
      fast !== undefined &&
      fast > c.tachycardiaBpm &&
      !paused &&
      (this.active.has('extreme-tachycardia') || !this.flutter(this.beatTime(c.vtBeats), beat.timeS))
    )
      this.startWitnessed('extreme-tachycardia', c.tachycardiaBeats, out);
    else if (fast !== undefined && fast < c.tachycardiaBpm - RATE_HYSTERESIS_BPM)
      this.endIf('extreme-tachycardia', true, beat.timeS, out);
  }

  /**
   * Raises a rhythm alarm over the last `beats` beats unless active already, or the second lead
   * or the pulse withholds it: they judge the last `judged` beats (the ones whose rate raised it).
   */
  private startWitnessed(type: AlarmType, beats: number, out: Alarm[], judged = beats): void {
    if (this.active.has(type)) return;
    const onsetS = this.beatTime(beats);
    const judgedS = this.beatTime(judged);
    if (this.secondLeadWithholds(type, judgedS, this.nowS)) return;
    const pulse = this.pulseSays(type, judgedS + PULSE_DELAY_S, this.nowS + PULSE_DELAY_S);
    if (!pulse.withheld) this.startIfNew(type, onsetS, this.evidence(beats), out, pulse.detail);
  }

  /**
   * The heart rate over the last `beats` beats, bpm: beats per minute over their intervals, the
   * longest and shortest eighth (one at least) left out (a beat the detector missed, or one extra
   * detection, does not decide it; an irregular rhythm such as fast AF is judged by its mean rate,
   * not by whether each interval is beyond the limit), counting only intervals between beats found
   * in readable signal; undefined where there are not that many beats, or too few of their
   * intervals are readable to judge a rate by (noise, whose extra detections look like a fast
   * rate, before the poor-signal alarm is called on it).
   */
  private rateOver(beats: number): number | undefined {
    const b = this.beats.slice(-beats);
    if (b.length < beats) return undefined;
    const intervals: number[] = [];
    for (let i = 1; i < b.length; i++) {
      if ((b[i]!.quality ?? 1) < RATE_QUALITY || (b[i - 1]!.quality ?? 1) < RATE_QUALITY) continue;
      intervals.push(b[i]!.timeS - b[i - 1]!.timeS);
    }
    if (intervals.length < RATE_READABLE_SHARE * (b.length - 1)) return undefined;
    intervals.sort((x, y) => x - y);
    const trim = intervals.length < 3 ? 0 : Math.max(1, Math.floor(intervals.length * RATE_TRIM));
    const kept = intervals.slice(trim, intervals.length - trim);
    return (60 * kept.length) / kept.reduce((sum, rr) => sum + rr, 0);
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
      // the witnesses judge the beats whose rate made it VT: the whole run, or its latest five
      if (this.active.has('ventricular-tachycardia') || !this.flutter(this.beatTime(run), beat.timeS))
        this.startWitnessed('ventricular-tachycardia', run, out, rate(run) > c.vtBpm ? run : c.vtBeats);
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

  private beatTime(n: number): number {
    return this.beats[Math.max(0, this.beats.length - n)]!.timeS;
  }

  private evidence(n: number): number[] {
    return this.beats.slice(-n).map((b) => b.sample);
  }

  private startIfNew(
    type: AlarmType,
    onsetS: number,
    evidence: number[],
    out: Alarm[],
    detail?: string,
    lead?: Pick<LeadStatus, 'index' | 'name'>,
  ): void {
    if (this.active.has(keyOf(type, lead?.index))) return;
    this.start(type, onsetS, evidence, out, String(evidence[0] ?? Math.round(onsetS * 1000)), detail, lead);
  }

  /** Whether a new alarm of this type is held back while the signal is poor. */
  private suppressed(type: AlarmType): boolean {
    // artefact: beats found in noise (and beats lost in it) are not a rhythm, and the poor-signal
    // alarm tells the nurse the monitor cannot judge one. VF is judged on the waveform itself
    // (whose chaotic activity also reads as poor signal), and asystole on the absence of any QRS
    // of a size the heart makes (a stopped heart leaves the baseline's noise): neither is held back.
    return (
      ALARM_PRIORITY[type] !== 'technical' &&
      type !== 'ventricular-fibrillation' &&
      type !== 'asystole' &&
      this.active.has('poor-signal')
    );
  }

  private start(
    type: AlarmType,
    onsetS: number,
    evidence: readonly number[],
    out: Alarm[],
    onsetKey: string,
    detail?: string,
    lead?: Pick<LeadStatus, 'index' | 'name'>,
  ): void {
    if (this.suppressed(type)) return;
    const alarm: Alarm = {
      id: alarmId(this.bedId, type, onsetKey, lead?.index),
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
      ...(lead === undefined ? {} : { lead: lead.name }),
    };
    this.active.set(keyOf(type, lead?.index), alarm);
    out.push(alarm);
  }

  private endIf(type: AlarmType, condition: boolean, endS: number, out: Alarm[], leadIndex?: number): void {
    const key = keyOf(type, leadIndex);
    const alarm = this.active.get(key);
    if (alarm === undefined || !condition) return;
    this.active.delete(key);
    const ended: Alarm = { ...alarm, state: 'ended', endS };
    this.ended = [...this.ended.filter((a) => a.id !== ended.id).slice(1 - ACKNOWLEDGEABLE_ENDED), ended];
    out.push(ended);
  }

  private event(type: AlarmType, onsetS: number, endS: number, evidence: number[], out: Alarm[]): void {
    this.start(type, onsetS, evidence, out, String(evidence[0] ?? Math.round(onsetS * 1000)));
    this.endIf(type, true, endS, out);
  }
}

/** A witness's next state: gone without a signal, a new one for another signal, else fed. */
function witnessed(
  witness: Witness | undefined,
  signal: string | undefined,
  beats: readonly WitnessedBeat[],
  readable: boolean,
  nowS: number,
): Witness | undefined {
  if (signal === undefined) return undefined;
  const w = witness?.signal === signal ? witness : new Witness(signal);
  w.onSignal(readable, nowS);
  w.onBeats(beats, nowS);
  return w;
}
