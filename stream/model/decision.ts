import { AAMI_CLASSES } from './aami.js';

/**
 * How class probabilities become a label. `prematurityRatio`: a beat the network calls N whose
 * RR is below this share of the recent mean RR is labelled S: the clinical prematurity
 * criterion (a beat 20 % early is supraventricular-premature when its shape is normal), which
 * carries to unseen patients where learned S morphology does not. null: plain argmax.
 */
export interface DecisionRule {
  readonly prematurityRatio: number | null;
}

export const ARGMAX: DecisionRule = { prematurityRatio: null };

const K = AAMI_CLASSES.length;
const N = 0;
const S = 1;

/** Class index for beat `k` of row-major probabilities, given its RR ratio (RR / mean RR). */
export function decide(probabilities: Float32Array, k: number, rrRatio: number, rule: DecisionRule): number {
  let best = 0;
  for (let c = 1; c < K; c++) if (probabilities[k * K + c]! > probabilities[k * K + best]!) best = c;
  if (best === N && rule.prematurityRatio !== null && rrRatio < rule.prematurityRatio) return S;
  return best;
}

/** The rule saved in a model's metadata (`decisionRule`), or plain argmax. */
export function ruleOf(metadata: Record<string, unknown>): DecisionRule {
  const saved = metadata.decisionRule as Partial<DecisionRule> | undefined;
  const ratio = saved?.prematurityRatio;
  return { prematurityRatio: typeof ratio === 'number' && ratio > 0 && ratio < 1 ? ratio : null };
}
