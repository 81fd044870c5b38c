import { ALARM_PRIORITY, type AlarmType } from '../contracts/alarms.js';
import { type DecisionReason } from '../contracts/decisions.js';
import { aamiClass } from '../contracts/aami.js';
import { AlarmEngine } from '../alarms/engine.js';
import type { AlertMessage, BeatMessage } from '../contracts/messages.js';
import { isQrsCode, type Annotation } from '../wfdb/index.js';
import { addPair, Ec57Matcher, type ComparedLabel, type LabelPairs } from './ec57.js';
import { vfEpisodes } from './qrsEval.js';

/** A reference episode an alarm should have covered. */
export interface ReferenceEpisode {
  readonly type: AlarmType;
  readonly startS: number;
  readonly endS: number;
  /** Where it comes from: a rhythm annotation, or the engine run on the reference beats. */
  readonly origin: 'rhythm' | 'beats';
}

/** MIT-BIH rhythm labels and the alarm that should sound for them. */
const RHYTHM_ALARMS: Readonly<Record<string, AlarmType>> = {
  '(VT': 'ventricular-tachycardia',
  '(B': 'bigeminy',
  '(T': 'trigeminy',
  '(AFIB': 'irregular-rhythm',
  '(VFL': 'ventricular-fibrillation',
};

/** Alarm types the rhythm annotations do not mark: their reference is the engine on reference beats. */
const BEAT_DERIVED: readonly AlarmType[] = [
  'couplet',
  'ventricular-run',
  'pause',
  'extreme-bradycardia',
  'extreme-tachycardia',
  'asystole',
];

/** Beat-derived alarms whose evidence is the absence of beats. */
const SILENCE_TYPES: readonly AlarmType[] = ['pause', 'extreme-bradycardia', 'asystole'];

/**
 * Reference episodes of a record. VT counts only with five or more beats (the PhysioNet/CinC 2015
 * definition), counted from the reference beats inside the rhythm episode, or, in a record
 * without rhythm annotations, found by the alarm engine on the reference beats; flutter
 * only when it lasts 4 s or more. Episodes made of missing beats (SILENCE_TYPES) are not
 * derived across the ventricular flutter intervals (`[` to `]`): the cardiologists mark no QRS
 * there, and EC57 leaves those intervals out of beat scoring, so that silence is flutter, not
 * asystole, a pause or bradycardia.
 */
export function referenceEpisodes(annotations: readonly Annotation[], fs: number, lengthS: number): ReferenceEpisode[] {
  const out: ReferenceEpisode[] = [];
  const rhythm = annotations.filter((a) => a.symbol === '+' && a.aux.length > 0);
  const beats = annotations.filter((a) => isQrsCode(a.code));
  rhythm.forEach((a, i) => {
    const rhythmLabel = a.aux.replace(/\0/g, '').trim();
    if (!Object.hasOwn(RHYTHM_ALARMS, rhythmLabel)) return;
    const type = RHYTHM_ALARMS[rhythmLabel]!;
    const startS = a.sample / fs;
    const endS = (rhythm[i + 1]?.sample ?? lengthS * fs) / fs;
    const inside = beats.filter((b) => b.sample / fs >= startS && b.sample / fs < endS).length;
    if (type === 'ventricular-tachycardia' && inside < 5) return;
    if (type === 'ventricular-fibrillation' && endS - startS < 4) return; // the alarm's definition: 4 s or more
    out.push({ type, startS, endS, origin: 'rhythm' });
  });
  const flutter = vfEpisodes(annotations, lengthS * fs).map((v) => [v.start / fs, v.end / fs] as const);
  const duringFlutter = (startS: number, endS: number): boolean =>
    flutter.some(([from, to]) => startS < to && endS > from);
  // a database without rhythm annotations (svdb) marks VT by its beats alone: five or more V
  // above 100 bpm, as the alarm's definition says
  const derived: readonly AlarmType[] =
    rhythm.length === 0 ? [...BEAT_DERIVED, 'ventricular-tachycardia'] : BEAT_DERIVED;
  const engine = new AlarmEngine('reference');
  const open = new Map<string, number>();
  for (const b of beats) {
    const label = aamiClass(b.symbol) ?? 'Q';
    const t = b.sample / fs;
    // the clock reaches the beat before the beat itself is seen, as in a live stream
    for (const alarm of [
      ...engine.onTime(t),
      ...engine.onQrs(b.sample, t),
      ...engine.onBeat({ sample: b.sample, timeS: t, label }),
    ]) {
      if (!derived.includes(alarm.type)) continue;
      if (alarm.state === 'active') open.set(alarm.id, alarm.onsetS);
      else {
        const startS = open.get(alarm.id) ?? alarm.onsetS;
        const endS = alarm.endS ?? t;
        if (!(SILENCE_TYPES.includes(alarm.type) && duringFlutter(startS, endS)))
          out.push({ type: alarm.type, startS, endS, origin: 'beats' });
        open.delete(alarm.id);
      }
    }
  }
  return out;
}

export interface AlarmTypeScore {
  readonly referenceEpisodes: number;
  readonly detected: number;
  /**
   * Episodes the alarm covered at some point, however late: how EC57 counts AF episodes, and what
   * tells a slow alarm (counted missed above) from an absent one.
   */
  readonly covered: number;
  readonly missed: number;
  readonly falseAlarms: number;
  /** Median seconds from reference onset to the alarm being raised, for detected episodes. */
  readonly medianOnsetDelayS: number | null;
  readonly maxOnsetDelayS: number | null;
  /** PhysioNet/CinC 2015 score (TP+TN)/(TP+TN+FP+5 FN), with TN = 0: episodes have no negatives. */
  readonly challengeScore: number | null;
  /**
   * For rhythms (the types the rhythm annotations mark), as EC57 scores AF: the share of the
   * reference rhythm's time under the alarm, and of the alarm's time on the reference rhythm
   * (percent, no tolerance). Null for events and where there is no such time.
   */
  readonly durationSe: number | null;
  readonly durationPpv: number | null;
}

/** Alarm onsets must be raised within this long of the reference onset (ANSI/AAMI EC13). */
const ONSET_WINDOW_S = 10;
/** An alarm that overlaps a reference episode padded by this much is not a false alarm. */
const OVERLAP_TOLERANCE_S = 2;

/** Whether an alarm's active time overlaps a reference episode (padded by the tolerance). */
const overlaps = (a: AlarmEpisode, e: ReferenceEpisode): boolean =>
  a.onsetS <= e.endS + OVERLAP_TOLERANCE_S && a.endS >= e.startS - OVERLAP_TOLERANCE_S;

/** An alarm over its life: the first (active) message carries onset and raise time, the last its end. */
export interface AlarmEpisode {
  readonly id: string;
  readonly bedId: string;
  readonly type: AlarmType;
  readonly onsetS: number;
  readonly raisedS: number;
  readonly endS: number;
}

export function alarmEpisodes(alerts: readonly AlertMessage[]): AlarmEpisode[] {
  const alarms = new Map<string, AlarmEpisode>();
  for (const a of alerts) {
    const known = alarms.get(a.id);
    alarms.set(a.id, {
      id: a.id,
      bedId: a.bedId,
      type: a.type,
      onsetS: known?.onsetS ?? a.onsetS,
      raisedS: known?.raisedS ?? a.raisedS,
      endS: a.endS ?? known?.endS ?? Infinity,
    });
  }
  return [...alarms.values()];
}

/** The alarms of the episode's type raised from 2 s before its onset to 10 s after (EC13's window). */
function onsetHits(e: ReferenceEpisode, alarms: readonly AlarmEpisode[]): AlarmEpisode[] {
  return alarms.filter(
    (a) => a.type === e.type && a.raisedS >= e.startS - OVERLAP_TOLERANCE_S && a.raisedS <= e.startS + ONSET_WINDOW_S,
  );
}

/** Reference episodes of a type that no alarm of that type announced within the onset window. */
export function missedEpisodes(
  reference: readonly ReferenceEpisode[],
  alarms: readonly AlarmEpisode[],
  type: AlarmType,
): ReferenceEpisode[] {
  return reference.filter((e) => e.type === type && onsetHits(e, alarms).length === 0);
}

/** Alarms of a type that overlap no reference episode of that type (the episodes of one bed). */
export function falseAlarms(
  reference: readonly ReferenceEpisode[],
  alarms: readonly AlarmEpisode[],
  type: AlarmType,
): AlarmEpisode[] {
  const episodes = reference.filter((e) => e.type === type);
  return alarms.filter((a) => a.type === type && !episodes.some((e) => overlaps(a, e)));
}

/**
 * The type of the reference high-priority episode that an alarm (false for its own type)
 * overlaps, if any. A VT alarm at the onset of ventricular flutter names the wrong ventricular
 * rhythm, and is counted false for VT, but the nurse it calls finds a life-threatening one: a
 * validation engineer tells it from an alarm over a harmless rhythm by this.
 */
export function highPriorityEpisodeDuring(
  reference: readonly ReferenceEpisode[],
  alarm: AlarmEpisode,
): AlarmType | null {
  return reference.find((e) => HIGH_PRIORITY_TYPES.includes(e.type) && overlaps(alarm, e))?.type ?? null;
}

/** Total length of the union of intervals. */
function unionLength(intervals: readonly (readonly [number, number])[]): number {
  const sorted = [...intervals].sort((a, b) => a[0] - b[0]);
  let total = 0;
  let end = -Infinity;
  for (const [a, b] of sorted) {
    if (b <= end) continue;
    total += b - Math.max(a, end);
    end = b;
  }
  return total;
}

/** Length of the intersection of two unions of intervals. */
function overlapLength(x: readonly (readonly [number, number])[], y: readonly (readonly [number, number])[]): number {
  const pieces: [number, number][] = [];
  for (const [a, b] of x)
    for (const [c, d] of y) if (Math.min(b, d) > Math.max(a, c)) pieces.push([Math.max(a, c), Math.min(b, d)]);
  return unionLength(pieces);
}

const RHYTHM_TYPES = new Set(Object.values(RHYTHM_ALARMS));

/**
 * Scores each alarm type against the reference episodes. `streamEndS` bounds an alarm still
 * active when its bed's stream ended (its duration counts up to there).
 */
export function scoreAlarms(
  reference: readonly ReferenceEpisode[],
  alerts: readonly AlertMessage[],
  types: readonly AlarmType[],
  streamEndS: (bedId: string) => number = () => Infinity,
): Record<string, AlarmTypeScore> {
  const alarms = alarmEpisodes(alerts);
  const result: Record<string, AlarmTypeScore> = {};
  for (const type of types) {
    const episodes = reference.filter((e) => e.type === type);
    const live = alarms.filter((a) => a.type === type);
    const delays: number[] = [];
    let detected = 0;
    for (const e of episodes) {
      const hit = onsetHits(e, live);
      if (hit.length > 0) {
        detected++;
        delays.push(Math.max(0, Math.min(...hit.map((a) => a.raisedS)) - e.startS));
      }
    }
    const falseCount = falseAlarms(episodes, live, type).length;
    const missed = episodes.length - detected;
    const covered = episodes.filter((e) => live.some((a) => overlaps(a, e))).length;
    delays.sort((x, y) => x - y);
    const denominator = detected + falseCount + 5 * missed;
    // time is scored for rhythms only (events have none), and the overlap is worked out only for them
    const referenceTime = RHYTHM_TYPES.has(type) ? episodes.map((e) => [e.startS, e.endS] as const) : [];
    const alarmTime = RHYTHM_TYPES.has(type)
      ? live.map((a) => [a.onsetS, Math.min(a.endS, streamEndS(a.bedId))] as const)
      : [];
    const overlap = overlapLength(referenceTime, alarmTime);
    const percent = (part: number, whole: number): number | null =>
      whole > 0 && Number.isFinite(whole) ? Number(((100 * part) / whole).toFixed(1)) : null;
    result[type] = {
      referenceEpisodes: episodes.length,
      detected,
      covered,
      missed,
      falseAlarms: falseCount,
      medianOnsetDelayS: delays.length === 0 ? null : Number(delays[Math.floor(delays.length / 2)]!.toFixed(2)),
      maxOnsetDelayS: delays.length === 0 ? null : Number(delays.at(-1)!.toFixed(2)),
      challengeScore: denominator === 0 ? null : Number((detected / denominator).toFixed(3)),
      durationSe: percent(overlap, unionLength(referenceTime)),
      durationPpv: percent(overlap, unionLength(alarmTime)),
    };
  }
  return result;
}

export interface BeatScore {
  readonly tp: number;
  readonly fn: number;
  readonly fp: number;
  /** Beats per (reference class, live class), with `O` for a missed beat or an extra detection. */
  readonly classPairs: LabelPairs;
  readonly duplicateBeats: number;
  /** Matched beats by the step of the decision rule that set their label, and how many of them the reference agrees with. */
  readonly decisions: DecisionCounts;
  /** Beat by beat, in time order: each reference beat with the live beat matched to it (none: missed), then each extra detection. */
  readonly beats: readonly ScoredBeat[];
}

/** One reference beat and its live beat, or a live beat the reference does not have. */
export interface ScoredBeat {
  /** The reference annotation's sample; null for an extra detection. */
  readonly referenceSample: number | null;
  /** Its AAMI class (Q for a beat code no class takes), or O for an extra detection. */
  readonly reference: ComparedLabel;
  /** The live beat; null for a missed reference beat. */
  readonly beat: BeatMessage | null;
}

export type DecisionCounts = Partial<Record<DecisionReason, { beats: number; agreeing: number }>>;

export function addDecisionCounts(into: DecisionCounts, from: DecisionCounts): void {
  for (const [reason, n] of Object.entries(from) as [DecisionReason, { beats: number; agreeing: number }][]) {
    const sum = (into[reason] ??= { beats: 0, agreeing: 0 });
    sum.beats += n.beats;
    sum.agreeing += n.agreeing;
  }
}

/** Live beats of one bed against the reference beats of its record (EC57, VF episodes excluded). */
export function scoreBeats(
  annotations: readonly Annotation[],
  fs: number,
  lengthSamples: number,
  beats: readonly BeatMessage[],
): BeatScore {
  const reference = annotations.filter((a) => isQrsCode(a.code));
  const unique = [...new Map(beats.map((b) => [b.rPeakSample, b])).values()].sort(
    (a, b) => a.rPeakSample - b.rPeakSample,
  );
  const matcher = new Ec57Matcher({ fs, windowS: 0.15, excluded: vfEpisodes(annotations, lengthSamples) });
  const score = matcher.match(
    reference.map((a) => a.sample),
    unique.map((b) => b.rPeakSample),
  );
  const truth = (i: number): ComparedLabel => aamiClass(reference[i]!.symbol) ?? 'Q';
  const classPairs: LabelPairs = {};
  const decisions: DecisionCounts = {};
  const scored: ScoredBeat[] = [];
  for (const m of score.matches) {
    const beat = unique[m.detection]!;
    addPair(classPairs, truth(m.reference), beat.label);
    scored.push({ referenceSample: reference[m.reference]!.sample, reference: truth(m.reference), beat });
    const step = (decisions[beat.decision.reason] ??= { beats: 0, agreeing: 0 });
    step.beats++;
    if (truth(m.reference) === beat.label) step.agreeing++;
  }
  for (const i of score.missed) {
    addPair(classPairs, truth(i), 'O');
    scored.push({ referenceSample: reference[i]!.sample, reference: truth(i), beat: null });
  }
  for (const i of score.extra) {
    addPair(classPairs, 'O', unique[i]!.label);
    scored.push({ referenceSample: null, reference: 'O', beat: unique[i]! });
  }
  const at = (b: ScoredBeat): number => b.referenceSample ?? b.beat!.rPeakSample;
  return {
    tp: score.tp,
    fn: score.fn,
    fp: score.fp,
    classPairs,
    duplicateBeats: beats.length - unique.length,
    decisions,
    beats: scored.sort((a, b) => at(a) - at(b)),
  };
}

/** Every alarm type the validation scores: rhythm-annotated ones first, then beat-derived ones. */
export const SCORED_ALARMS: readonly AlarmType[] = [...new Set(Object.values(RHYTHM_ALARMS)), ...BEAT_DERIVED];

export const HIGH_PRIORITY_TYPES = (Object.keys(ALARM_PRIORITY) as AlarmType[]).filter(
  (t) => ALARM_PRIORITY[t] === 'high',
);
