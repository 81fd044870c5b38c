import { AAMI_CLASSES, type AamiClass } from '../contracts/aami.js';
import { argmax } from './aami.js';

export interface ClassMetrics {
  readonly support: number;
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
  readonly specificity: number;
  /** One-vs-rest ROC AUC; NaN when the class is absent from the labels. */
  readonly auc: number;
}

export interface ClassificationMetrics {
  readonly count: number;
  readonly accuracy: number;
  readonly weightedF1: number;
  readonly macroF1: number;
  readonly perClass: Record<AamiClass, ClassMetrics>;
  /** confusion[true][predicted] */
  readonly confusion: number[][];
}

const K = AAMI_CLASSES.length;
const safe = (num: number, den: number): number => (den === 0 ? 0 : num / den);

/** Area under the ROC curve by the rank-sum (Mann–Whitney) statistic, ties averaged. */
export function rocAuc(scores: Float32Array | number[], positive: boolean[]): number {
  const order = Array.from(scores, (s, i) => [s, i] as const).sort((a, b) => a[0] - b[0]);
  let rankSum = 0;
  let positives = 0;
  for (let i = 0; i < order.length;) {
    let j = i;
    while (j + 1 < order.length && order[j + 1]![0] === order[i]![0]) j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) {
      if (positive[order[k]![1]]) {
        rankSum += rank;
        positives++;
      }
    }
    i = j + 1;
  }
  const negatives = order.length - positives;
  if (positives === 0 || negatives === 0) return Number.NaN;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/** ROC curve points (FPR, TPR) for a class, at most `points` of them, for reports. */
export function rocCurve(scores: Float32Array, positive: boolean[], points = 200): [number, number][] {
  const order = Array.from(scores, (s, i) => [s, i] as const).sort((a, b) => b[0] - a[0]);
  const P = positive.filter(Boolean).length;
  const N = positive.length - P;
  const out: [number, number][] = [[0, 0]];
  let tp = 0;
  let fp = 0;
  const every = Math.max(1, Math.floor(order.length / points));
  order.forEach(([, i], k) => {
    if (positive[i]) tp++;
    else fp++;
    if (k % every === 0) out.push([safe(fp, N), safe(tp, P)]);
  });
  out.push([1, 1]);
  return out;
}

/**
 * Standard multi-class figures from labels and the class probabilities (count x 5, row-major).
 * The prediction is `predicted` when given (a decision rule), else the most probable class;
 * ROC AUC always ranks the probabilities.
 */
export function classificationMetrics(
  labels: ArrayLike<number>,
  probabilities: Float32Array,
  predicted?: ArrayLike<number>,
): ClassificationMetrics {
  const n = labels.length;
  const confusion = AAMI_CLASSES.map(() => new Array<number>(K).fill(0));
  for (let i = 0; i < n; i++) {
    confusion[labels[i]!]![predicted === undefined ? argmax(probabilities, i) : predicted[i]!]!++;
  }
  const perClass = {} as Record<AamiClass, ClassMetrics>;
  let weightedF1 = 0;
  let macroF1 = 0;
  let presentClasses = 0;
  AAMI_CLASSES.forEach((name, c) => {
    const tp = confusion[c]![c]!;
    const support = confusion[c]!.reduce((a, b) => a + b, 0);
    const predictedCount = confusion.reduce((a, row) => a + row[c]!, 0);
    const fp = predictedCount - tp;
    const fn = support - tp;
    const tn = n - tp - fp - fn;
    const precision = safe(tp, tp + fp);
    const recall = safe(tp, tp + fn);
    const f1 = safe(2 * precision * recall, precision + recall);
    const scores = new Float32Array(n);
    const positive: boolean[] = new Array<boolean>(n);
    for (let i = 0; i < n; i++) {
      scores[i] = probabilities[i * K + c]!;
      positive[i] = labels[i] === c;
    }
    perClass[name] = { support, precision, recall, f1, specificity: safe(tn, tn + fp), auc: rocAuc(scores, positive) };
    weightedF1 += safe(support, n) * f1;
    if (support > 0) {
      macroF1 += f1;
      presentClasses++;
    }
  });
  let correct = 0;
  for (let c = 0; c < K; c++) correct += confusion[c]![c]!;
  return {
    count: n,
    accuracy: safe(correct, n),
    weightedF1,
    macroF1: safe(macroF1, presentClasses),
    perClass,
    confusion,
  };
}
