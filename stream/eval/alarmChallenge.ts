import type { AlarmType } from '../contracts/alarms.js';
import type { WfdbHeader } from '../wfdb/index.js';

/**
 * The PhysioNet/Computing in Cardiology Challenge 2015 ("Reducing false arrhythmia alarms in the
 * ICU"): each record holds what a bedside monitor recorded up to an alarm it raised at 5:00 (and
 * for `…l` records 30 s more), with the experts' verdict on that alarm. A monitor under test
 * decides whether it raises the same alarm; the challenge scores those decisions.
 */

/** The challenge's alarm names (header comments, `ALARMS`) and the monitor's alarm types. */
export const CHALLENGE_ALARMS = {
  Asystole: 'asystole',
  Bradycardia: 'extreme-bradycardia',
  Tachycardia: 'extreme-tachycardia',
  Ventricular_Tachycardia: 'ventricular-tachycardia',
  Ventricular_Flutter_Fib: 'ventricular-fibrillation',
} as const satisfies Record<string, AlarmType>;
export type ChallengeAlarmType = (typeof CHALLENGE_ALARMS)[keyof typeof CHALLENGE_ALARMS];
export const CHALLENGE_ALARM_TYPES = Object.values(CHALLENGE_ALARMS);

/** The alarm of a challenge record and the experts' verdict on it. */
export interface ChallengeAlarm {
  readonly type: ChallengeAlarmType;
  /** Whether the experts judged the bedside monitor's alarm true. */
  readonly truth: boolean;
  /** Stream time of the alarm, s (5:00 in every challenge record). */
  readonly atS: number;
}

/** When the bedside monitors raised the alarm, s. */
export const CHALLENGE_ALARM_S = 300;
/**
 * The stretch before the alarm in which its event lies: the monitor under test raises the alarm
 * when it has the same alarm active at some moment from this long before the alarm to the alarm.
 */
export const CHALLENGE_WINDOW_S = 16;

/**
 * The record's alarm from its header's last two comment lines (`#Asystole`, `#True alarm`), or
 * undefined for a record that is not a challenge record (the reason says why).
 */
export function challengeAlarmOf(header: WfdbHeader): ChallengeAlarm | { readonly problem: string } {
  const [name, verdict] = header.comments.slice(-2).map((c) => c.trim());
  if (name === undefined || !Object.hasOwn(CHALLENGE_ALARMS, name))
    return {
      problem: `its header's comments name no challenge alarm (${Object.keys(CHALLENGE_ALARMS).join(', ')})`,
    };
  if (verdict !== 'True alarm' && verdict !== 'False alarm')
    return { problem: `its header's last comment is "${verdict ?? ''}", not "True alarm" or "False alarm"` };
  return {
    type: CHALLENGE_ALARMS[name as keyof typeof CHALLENGE_ALARMS],
    truth: verdict === 'True alarm',
    atS: CHALLENGE_ALARM_S,
  };
}

/** An alarm as the monitor raised it: when it was raised and, if it ended, when. */
export interface RaisedAlarm {
  readonly type: AlarmType;
  readonly raisedS: number;
  readonly endS: number | undefined;
}

/**
 * Whether the monitor raised `type` in time: active at some moment from `fromS` to `toS` (raised
 * by `toS`, and not ended before `fromS`).
 */
export function raisedWithin(alarms: readonly RaisedAlarm[], type: AlarmType, fromS: number, toS: number): boolean {
  return alarms.some((a) => a.type === type && a.raisedS <= toS && (a.endS === undefined || a.endS >= fromS));
}

/** The challenge's counts and score over some records. */
export interface ChallengeScore {
  readonly records: number;
  /** True alarms raised, false alarms raised, false alarms withheld, true alarms withheld. */
  readonly tp: number;
  readonly fp: number;
  readonly tn: number;
  readonly fn: number;
  /** Percent, null where there is nothing to divide by. */
  readonly tpr: number | null;
  readonly tnr: number | null;
  /** 100 (TP + TN) / (TP + TN + FP + 5 FN): a true alarm withheld costs five false ones kept. */
  readonly score: number | null;
}

/** One record's verdict against the monitor's decision. */
export interface ChallengeDecision {
  readonly type: ChallengeAlarmType;
  readonly truth: boolean;
  readonly raised: boolean;
}

const percent = (a: number, b: number): number | null => (b === 0 ? null : Number(((100 * a) / b).toFixed(2)));

export function challengeScore(decisions: readonly ChallengeDecision[]): ChallengeScore {
  const count = (truth: boolean, raised: boolean): number =>
    decisions.filter((d) => d.truth === truth && d.raised === raised).length;
  const [tp, fp, tn, fn] = [count(true, true), count(false, true), count(false, false), count(true, false)];
  return {
    records: decisions.length,
    tp,
    fp,
    tn,
    fn,
    tpr: percent(tp, tp + fn),
    tnr: percent(tn, tn + fp),
    score: percent(tp + tn, tp + tn + fp + 5 * fn),
  };
}

/** Overall and per alarm type (types without records left out). */
export function challengeScores(
  decisions: readonly ChallengeDecision[],
): ChallengeScore & { readonly byType: Partial<Record<ChallengeAlarmType, ChallengeScore>> } {
  const byType: Partial<Record<ChallengeAlarmType, ChallengeScore>> = {};
  for (const type of CHALLENGE_ALARM_TYPES) {
    const of = decisions.filter((d) => d.type === type);
    if (of.length > 0) byType[type] = challengeScore(of);
  }
  return { ...challengeScore(decisions), byType };
}
