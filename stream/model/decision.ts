import { DEFAULT_BEAT_WINDOW } from '../dsp/index.js';
import { ConfigError } from '../errors.js';
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

export const ARGMAX: DecisionRule = {
  prematurityRatio: null,
  prematurityReference: 'recent',
  irregularityLimit: null,
  irregularOverridesS: false,
  notEarlySRatio: null,
  familyVote: null,
};

/** What the rule needs of a beat's rhythm: its RR as a share of each reference, and the irregularity before it. */
export interface BeatRhythm {
  readonly recent: number;
  readonly baseline: number;
  readonly irregularity: number;
}

const N = 0;
const S = 1;

/**
 * What set a beat's label, carried on every beat event so that a label the network's
 * probabilities do not show is explained: `network` its most probable class; `family` the
 * most probable class once the beat's morphology family voted on its p(V), where that differs
 * from the network's own; `premature` an N beat relabelled S by its RR in a regular rhythm;
 * `irregular-rhythm` an S call relabelled N because the rhythm is irregular (AF's beats are N);
 * `not-premature` an S call relabelled N because the beat is not early in a regular rhythm.
 */
export const DECISION_REASONS = ['network', 'family', 'premature', 'irregular-rhythm', 'not-premature'] as const;
export type DecisionReason = (typeof DECISION_REASONS)[number];

/** Class index for beat `k` of row-major probabilities, given its rhythm, and which step of the rule set it. */
export function decide(
  probabilities: Float32Array,
  k: number,
  rhythm: BeatRhythm,
  rule: DecisionRule,
): { label: number; reason: Exclude<DecisionReason, 'family'> } {
  const best = argmax(probabilities, k);
  const premature = rule.prematurityRatio !== null && rhythm[rule.prematurityReference] < rule.prematurityRatio;
  const regular = rule.irregularityLimit === null || rhythm.irregularity <= rule.irregularityLimit;
  if (best === N && premature && regular) return { label: S, reason: 'premature' };
  if (best === S && !regular && rule.irregularOverridesS) return { label: N, reason: 'irregular-rhythm' };
  if (best === S && regular && rule.notEarlySRatio !== null && rhythm.baseline >= rule.notEarlySRatio)
    return { label: N, reason: 'not-premature' };
  return { label: best, reason: 'network' };
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
  const regular =
    rule.irregularityLimit === null ? '' : `, while the rhythm irregularity is at most ${rule.irregularityLimit}`;
  const notEarly =
    rule.notEarlySRatio === null
      ? ''
      : `; S -> N when RR >= ${rule.notEarlySRatio} x the mean of the previous ${rrBaselineBeats} RR${regular}`;
  if (rule.prematurityRatio === null) return `argmax${notEarly}`;
  const intervals = rule.prematurityReference === 'baseline' ? rrBaselineBeats : rrHistory;
  const overrides = rule.irregularityLimit !== null && rule.irregularOverridesS ? '; S -> N above it' : '';
  return `argmax, then N -> S when RR < ${rule.prematurityRatio} x the mean of the previous ${intervals} RR${regular}${overrides}${notEarly}`;
}

/**
 * The rule saved in a model's metadata (`decisionRule`), or plain argmax. Models saved before
 * the baseline and the irregularity limit existed measured against `recent`, always, and
 * before `irregularOverridesS` kept the network's S calls, before `notEarlySRatio` kept every S
 * call in a regular rhythm, and before `familyVote` judged each beat alone.
 */
export function ruleOf(metadata: Record<string, unknown>): DecisionRule {
  const saved = metadata.decisionRule as Partial<DecisionRule> | undefined;
  const ratio = saved?.prematurityRatio;
  const limit = saved?.irregularityLimit;
  const notEarly = saved?.notEarlySRatio;
  return {
    prematurityRatio: typeof ratio === 'number' && ratio > 0 && ratio < 1 ? ratio : null,
    prematurityReference: saved?.prematurityReference === 'baseline' ? 'baseline' : 'recent',
    irregularityLimit: typeof limit === 'number' && limit > 0 ? limit : null,
    irregularOverridesS: saved?.irregularOverridesS === true,
    notEarlySRatio: typeof notEarly === 'number' && notEarly > 0 ? notEarly : null,
    familyVote: familyVoteOf(saved?.familyVote),
  };
}

function familyVoteOf(saved: unknown): FamilyVote | null {
  if (typeof saved !== 'object' || saved === null) return null;
  const { minCorrelation, weight } = saved as Partial<Record<keyof FamilyVote, unknown>>;
  return typeof minCorrelation === 'number' &&
    minCorrelation > 0 &&
    minCorrelation <= 1 &&
    typeof weight === 'number' &&
    weight > 0 &&
    weight < 1
    ? { minCorrelation, weight }
    : null;
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
