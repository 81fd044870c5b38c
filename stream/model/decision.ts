import type { DecisionReason } from '../contracts/decisions.js';
import { DEFAULT_BEAT_WINDOW } from '../dsp/index.js';
import { z } from 'zod';
import { ConfigError, MonitorError } from '../contracts/errors.js';
import { argmax } from './aami.js';

/**
 * How class probabilities become a label. `prematurityRatio`: a beat the network calls N whose
 * RR is below this share of the reference RR is labelled S: the clinical prematurity
 * criterion (a beat 20 % early is supraventricular-premature when its shape is normal), which
 * carries to unseen patients where learned S morphology does not. null: plain argmax.
 */
export interface DecisionRule {
  readonly prematurityRatio: number | null;
  /**
   * What "early" is measured against: the mean of the previous 8 intervals (`recent`), or the
   * baseline of the previous 200 (`baseline`), which a run of ectopic beats does not take over.
   */
  readonly prematurityReference: 'recent' | 'baseline';
  /**
   * The criterion holds only while the rhythm irregularity (BeatWindow.rrIrregularity) is at
   * most this: in atrial fibrillation short intervals are the rhythm, not premature beats.
   * null: always.
   */
  readonly irregularityLimit: number | null;
  /**
   * The rhythm counts as regular, whatever its irregularity, while the recent beats' P-wave
   * agreement (`BeatWindow.pWaveAgreement`) is at least this: intervals made irregular by atrial
   * premature beats and the pauses after them come with the patient's P waves; atrial
   * fibrillation's do not, and only there do the rule's irregular-rhythm steps belong. null:
   * irregularity alone decides.
   */
  readonly sinusPWaves: number | null;
  /**
   * While the rhythm is irregular (above `irregularityLimit`), a beat the network itself calls S
   * is labelled N too. AAMI labels the beats of atrial fibrillation N, and a network that has
   * seen AF in two training patients calls many of them S on a new one.
   */
  readonly irregularOverridesS: boolean;
  /**
   * In a regular rhythm (at most `irregularityLimit`), a beat labelled S whose RR is at least this
   * share of the baseline is labelled N: AAMI's S beats are premature (A a J S), so an S call on
   * a beat that is not early is the network's confusion, not the patient's ectopy. null: never.
   */
  readonly notEarlySRatio: number | null;
  /**
   * A beat the rest of the rule leaves N is labelled S when it is early and the interval after
   * it is a pause (`BeatRhythm.next`): an atrial premature beat resets the sinus node, so the
   * beat after it comes late, which a sinus-arrhythmia beat or a beat of atrial fibrillation
   * does not do systematically. null: never.
   */
  readonly pausedPremature: PausedPremature | null;
  /**
   * Before the rest of the rule, a beat's p(V) is averaged with what the network said of the
   * earlier beats of its morphology family in the same patient (`BeatFamilies`). null: each
   * beat alone.
   */
  readonly familyVote: FamilyVote | null;
}

/**
 * How a beat's family votes on its ventricular probability (`BeatFamilies`): a beat joins the
 * family whose QRS it correlates with best when the correlation is at least `minCorrelation` in
 * each lead, and once the family has three earlier members its p(V) becomes (1 - weight) x its
 * own plus weight x the family's mean.
 */
export interface FamilyVote {
  readonly minCorrelation: number;
  readonly weight: number;
}

/**
 * `DecisionRule.pausedPremature`: an N beat whose RR is below `ratio` x the 200-beat baseline and
 * whose next interval is at least `pause` x its RR is S; one pair for a regular rhythm, a stricter
 * one while the rhythm is irregular (above `irregularityLimit`), where short and long intervals
 * follow each other by chance.
 */
export interface PausedPremature {
  readonly regular: PauseCriterion;
  readonly irregular: PauseCriterion;
}

export interface PauseCriterion {
  readonly ratio: number;
  readonly pause: number;
}

export const ARGMAX: DecisionRule = {
  prematurityRatio: null,
  prematurityReference: 'recent',
  irregularityLimit: null,
  sinusPWaves: null,
  irregularOverridesS: false,
  notEarlySRatio: null,
  pausedPremature: null,
  familyVote: null,
};

/**
 * What the rule needs of a beat's rhythm: its RR as a share of each reference, the irregularity
 * before it, the interval after it as a share of its RR (Infinity: no beat came within the
 * wait; NaN: not known, the stream was cut), and the P-wave agreement before it (NaN: not known).
 */
export interface BeatRhythm {
  readonly recent: number;
  readonly baseline: number;
  readonly irregularity: number;
  readonly next: number;
  readonly pWaves: number;
}

const N = 0;
const S = 1;

/** Class index for beat `k` of row-major probabilities, given its rhythm, and which step of the rule set it. */
export function decide(
  probabilities: Float32Array,
  k: number,
  rhythm: BeatRhythm,
  rule: DecisionRule,
): { label: number; reason: Exclude<DecisionReason, 'family'> } {
  const best = argmax(probabilities, k);
  const premature = rule.prematurityRatio !== null && rhythm[rule.prematurityReference] < rule.prematurityRatio;
  const regular = regularRhythm(rhythm, rule);
  if (best === N && premature && regular) return { label: S, reason: 'premature' };
  const paused =
    rule.pausedPremature !== null && pausedPremature(rhythm, rule.pausedPremature[regular ? 'regular' : 'irregular']);
  if (best === S && !regular && rule.irregularOverridesS)
    return paused ? { label: S, reason: 'premature-pause' } : { label: N, reason: 'irregular-rhythm' };
  if (best === S && regular && rule.notEarlySRatio !== null && rhythm.baseline >= rule.notEarlySRatio)
    return { label: N, reason: 'not-premature' };
  if (best === N && paused) return { label: S, reason: 'premature-pause' };
  return { label: best, reason: 'network' };
}

/** Whether the rule's regular-rhythm steps apply: a calm rhythm, or an irregular one with the patient's P waves. */
function regularRhythm(rhythm: BeatRhythm, rule: DecisionRule): boolean {
  if (rule.irregularityLimit === null || rhythm.irregularity <= rule.irregularityLimit) return true;
  // NaN (no beat before) is not at least the limit
  return rule.sinusPWaves !== null && rhythm.pWaves >= rule.sinusPWaves;
}

/**
 * The share of the baseline RR below which the rule reads a beat's next interval (0: never), for
 * the cutter's `nextBeatWaitBelow`: the other beats need not wait for the next one. 0.1 % to
 * spare, since the rule reads RR features stored as float32 and the cutter decides on float64.
 */
export function nextIntervalReadBelow(rule: DecisionRule): number {
  const paused = rule.pausedPremature;
  return paused === null ? 0 : Math.max(paused.regular.ratio, paused.irregular.ratio) * 1.001;
}

/** Early against the baseline and followed by a pause (NaN, an unknown next interval, is not one). */
function pausedPremature(rhythm: BeatRhythm, criterion: PauseCriterion): boolean {
  return rhythm.baseline < criterion.ratio && rhythm.next >= criterion.pause;
}

/** Whether two rules decide alike (compare rules as `ruleOf` reads them, not as saved). */
export function sameRule(a: DecisionRule, b: DecisionRule): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** The rule in words, for reports. */
export function describeRule(rule: DecisionRule): string {
  const vote =
    rule.familyVote === null
      ? ''
      : `p(V) voted by the beat's QRS family (r >= ${rule.familyVote.minCorrelation}, weight ${rule.familyVote.weight}), then `;
  return vote + describePrematurity(rule);
}

function describePrematurity(rule: DecisionRule): string {
  const { rrBaselineBeats, rrHistory } = DEFAULT_BEAT_WINDOW;
  const sinus =
    rule.sinusPWaves === null ? '' : ` or the recent beats' P waves agree (median r >= ${rule.sinusPWaves})`;
  const regular =
    rule.irregularityLimit === null
      ? ''
      : `, while the rhythm irregularity is at most ${rule.irregularityLimit}${sinus}`;
  const notEarly =
    rule.notEarlySRatio === null
      ? ''
      : `; S -> N when RR >= ${rule.notEarlySRatio} x the mean of the previous ${rrBaselineBeats} RR${regular}`;
  const paused = rule.pausedPremature;
  const pause =
    paused === null
      ? ''
      : `; N -> S when RR < ${paused.regular.ratio} x that mean and the next RR >= ${paused.regular.pause} x RR` +
        ` (irregular rhythm: ${paused.irregular.ratio} and ${paused.irregular.pause})`;
  if (rule.prematurityRatio === null) return `argmax${notEarly}${pause}`;
  const intervals = rule.prematurityReference === 'baseline' ? rrBaselineBeats : rrHistory;
  const overrides = rule.irregularityLimit !== null && rule.irregularOverridesS ? '; S -> N above it' : '';
  return `argmax, then N -> S when RR < ${rule.prematurityRatio} x the mean of the previous ${intervals} RR${regular}${overrides}${notEarly}${pause}`;
}

/** A saved decision rule holds a value no rule step accepts. */
export class DecisionRuleError extends MonitorError {}

const ratioIn01 = z.number().gt(0).lt(1);
const savedRule = z
  .object({
    prematurityRatio: ratioIn01.nullable(),
    prematurityReference: z.enum(['baseline', 'recent']),
    irregularityLimit: z.number().gt(0).nullable(),
    sinusPWaves: z.number().gt(0).lte(1).nullable(),
    irregularOverridesS: z.boolean(),
    notEarlySRatio: z.number().gt(0).nullable(),
    pausedPremature: z
      .object({
        regular: z.object({ ratio: ratioIn01, pause: z.number().gt(1) }),
        irregular: z.object({ ratio: ratioIn01, pause: z.number().gt(1) }),
      })
      .nullable(),
    familyVote: z.object({ minCorrelation: z.number().gt(0).lte(1), weight: ratioIn01 }).nullable(),
  })
  .partial()
  .strict();

/**
 * The rule saved in a model's metadata (`decisionRule`), or plain argmax. A step the rule does
 * not name is off: models saved before the baseline and the irregularity limit existed
 * measured against `recent`, always, and before `irregularOverridesS` kept the network's S
 * calls, before `notEarlySRatio` kept every S call in a regular rhythm, before
 * `pausedPremature` ignored the interval after a beat, before `familyVote` judged each beat
 * alone, and before `sinusPWaves` counted every irregular rhythm as irregular. A value no step
 * accepts is a DecisionRuleError naming `file` and the field: a model is never run with a
 * step silently turned off.
 */
export function ruleOf(metadata: Record<string, unknown>, file = 'model metadata'): DecisionRule {
  const parsed = savedRule.safeParse(metadata.decisionRule ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = ['decisionRule', ...issue.path].join('.');
    throw new DecisionRuleError(`${file}: ${field}: ${issue.message}`);
  }
  const saved = parsed.data;
  const irregularityLimit = saved.irregularityLimit ?? null;
  return {
    prematurityRatio: saved.prematurityRatio ?? null,
    prematurityReference: saved.prematurityReference ?? 'recent',
    irregularityLimit,
    // without an irregularity limit every rhythm is regular already
    sinusPWaves: irregularityLimit === null ? null : (saved.sinusPWaves ?? null),
    irregularOverridesS: saved.irregularOverridesS ?? false,
    notEarlySRatio: saved.notEarlySRatio ?? null,
    pausedPremature: saved.pausedPremature ?? null,
    familyVote: saved.familyVote ?? null,
  };
}

/** A criterion of an early beat (0 < ratio < 1) followed by a longer interval (pause > 1), or null. */
function pauseCriterion(ratio: unknown, pause: unknown): PauseCriterion | null {
  return typeof ratio === 'number' && ratio > 0 && ratio < 1 && typeof pause === 'number' && pause > 1
    ? { ratio, pause }
    : null;
}

/**
 * `--paused-premature R,P,RI,PI`: an N beat whose RR is below R x the baseline and whose next
 * interval is at least P x its RR is S; RI and PI apply while the rhythm is irregular.
 */
export function parsePausedPremature(command: string, value: string): PausedPremature {
  const numbers = value.split(',').map((x) => (x.trim() === '' ? NaN : Number(x)));
  const regular = pauseCriterion(numbers[0], numbers[1]);
  const irregular = pauseCriterion(numbers[2], numbers[3]);
  if (numbers.length !== 4 || regular === null || irregular === null) {
    throw new ConfigError(
      `${command}: --paused-premature takes RATIO,PAUSE,IRREGULAR_RATIO,IRREGULAR_PAUSE (0 < ratio < 1, pause > 1), e.g. 0.9,1.2,0.5,2; got "${value}"`,
    );
  }
  return { regular, irregular };
}

/**
 * `--family-vote R,W` of the commands that write a rule: families of QRS correlation at least R,
 * the family's mean p(V) weighted W.
 */
export function parseFamilyVote(command: string, value: string): FamilyVote {
  const [r, w, extra] = value.split(',').map((x) => (x.trim() === '' ? NaN : Number(x)));
  if (r === undefined || w === undefined || extra !== undefined || !(r > 0 && r <= 1) || !(w > 0 && w < 1)) {
    throw new ConfigError(
      `${command}: --family-vote takes MIN_CORRELATION,WEIGHT (0 < r <= 1, 0 < w < 1), e.g. 0.9,0.8; got "${value}"`,
    );
  }
  return { minCorrelation: r, weight: w };
}

/** `--sinus-p-waves X` of the commands that write a rule: the P-wave agreement (0 < X <= 1) that keeps a rhythm regular. */
export function parseSinusPWaves(command: string, value: string): number {
  const x = value.trim() === '' ? NaN : Number(value);
  if (!(x > 0 && x <= 1))
    throw new ConfigError(
      `${command}: --sinus-p-waves takes a median P-wave correlation in (0, 1], e.g. 0.6; got "${value}"`,
    );
  return x;
}
