import type { AamiClass } from '../contracts/aami.js';
import type { AlarmPriority, AlarmStateName, AlarmType } from '../contracts/alarms.js';
import type { LeadFault } from '../dsp/leadCheck.js';

/**
 * What the signal path can tell the alarm engine about a stretch of signal (stream times, s):
 * whether it looks like flutter waves rather than QRS complexes.
 */
export type FlutterCheck = (fromS: number, toS: number) => boolean;

/** A classified beat as the alarm engine sees it; times are stream time (s) of the bed. */
export interface AlarmBeat {
  /** R-peak sample index at the bed's source rate: the beat's stable identity. */
  readonly sample: number;
  readonly timeS: number;
  readonly label: AamiClass;
  /**
   * How readable the signal was where the beat was found, 0 (unusable) to 1 (clean) (default 1):
   * a rate is not judged on beats found in noise.
   */
  readonly quality?: number;
}

/** Every state change of an alarm is published whole, so a consumer needs only the latest. */
export interface Alarm {
  /** Deterministic: bed, type and onset sample. A replayed frame recreates the same id. */
  readonly id: string;
  readonly bedId: string;
  readonly type: AlarmType;
  readonly priority: AlarmPriority;
  readonly state: AlarmStateName;
  readonly acknowledged: boolean;
  readonly onsetS: number;
  /** Stream time at which the alarm was raised: onset delay = raisedS - true onset. */
  readonly raisedS: number;
  readonly endS: number | undefined;
  /** R-peak samples of the beats that raised it (empty for asystole and technical alarms). */
  readonly evidence: readonly number[];
  /**
   * Producer wall clock (ms) of the frame or beat at which it was raised: the same whichever
   * worker raises it, so an acknowledgement older than it is not of this alarm.
   */
  readonly raisedAtMs: number;
  /** What a technical alarm is about, or what confirmed an arrhythmia alarm, in words. */
  readonly detail?: string;
  /** The lead a lead alarm (lead-off, flat-line, saturation) is about. */
  readonly lead?: string;
}

/** How each ECG lead of a bed can be read, as the signal path judges it. */
export interface LeadStatus {
  /** The lead's index among the bed's signals (its alarm ids carry it) and its name. */
  readonly index: number;
  readonly name: string;
  /** Why it cannot be read, or undefined when it can. */
  readonly fault: LeadFault | undefined;
}
