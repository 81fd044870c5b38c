import { type DecisionReason } from '../contracts/decisions.js';
import { AAMI_CLASSES, type AamiClass } from '../contracts/aami.js';
import * as tf from '@tensorflow/tfjs';
import { argmax } from './aami.js';
import { addPair, ectopicFigures, type LabelPairs } from '../eval/ec57.js';
import { decideBeatSet, withVotedV } from './beatFamilies.js';
import { ARGMAX, decide, type DecisionRule } from './decision.js';
import type { BeatSet } from './dataset.js';
import { beatRhythmOf } from './features.js';
import { GradCam } from './gradcam.js';
import { beatSetInputs, pickInputs, predictProbabilities, type BatchInputs, type WindowLayout } from './inference.js';
import { classificationMetrics, rocCurve, type ClassificationMetrics } from './metrics.js';
import { seededRandom, shuffle } from './random.js';

const K = AAMI_CLASSES.length;

export interface FaithfulnessResult {
  readonly beats: number;
  readonly fraction: number;
  /** Mean drop of the predicted class's probability when its top Grad-CAM samples are deleted. */
  readonly topDrop: number;
  /** The same when as many random samples are deleted. */
  readonly randomDrop: number;
}

export interface ModelEvaluation {
  readonly metrics: ClassificationMetrics;
  /**
   * Sensitivity and positive predictivity (percent): V and S counted as EC57 counts ectopic
   * beats (`ectopicFigures`: an F beat called V is not a false V), N and F as plain class
   * recall and precision, which the standard does not define.
   */
  readonly ec57: Record<'N' | 'S' | 'V' | 'F', { se: number; ppv: number }>;
  readonly roc: Record<AamiClass, [number, number][]>;
  readonly faithfulness: FaithfulnessResult;
  /**
   * S Se and +P (EC57) with the rule's prematurity criterion at other ratios, the rest of the
   * rule as it is; empty for a rule without one. The rule's ratio is one of the points.
   */
  readonly prematurityCurve: readonly PrematurityPoint[];
  readonly examples: { label: AamiClass; predicted: AamiClass; window: number[]; cam: number[] }[];
  /**
   * Every scored beat: its index in the beat set, its class probabilities (row-major, one row
   * per beat), the p(V) the rule decided with (its family's vote, or the network's own), the
   * rule's label and the step that set it, so that a validation engineer can study the errors
   * or a new rule beat by beat without running the networks again.
   */
  readonly predictions: {
    readonly beats: Int32Array;
    readonly probabilities: Float32Array;
    readonly votedV: Float32Array;
    readonly predicted: Uint8Array;
    readonly reasons: readonly DecisionReason[];
  };
}

/** S figures (EC57, percent) had the prematurity criterion been set at `ratio`. */
export interface PrematurityPoint {
  readonly ratio: number;
  readonly se: number;
  readonly ppv: number;
  /** Whether this is the evaluated rule's own ratio (its figures are `ec57.S`). */
  readonly isRule: boolean;
}

/**
 * The ratios the prematurity curve is drawn at. The shipped 0.8 is the clinical criterion (a
 * beat 20 % early), fixed before any figure; the curve shows what S detection would cost or
 * gain elsewhere, for reading, not for picking a ratio on the beats it is drawn from.
 */
export const PREMATURITY_RATIOS = [0.7, 0.75, 0.8, 0.85, 0.9, 0.95];

/**
 * Deletion means replacing samples by the window's mean, the flattest neutral value, in every
 * channel (the template difference becomes 0 there: no deviation from the patient's beat).
 */
function deleteSamples(inputs: BatchInputs, beat: number, samples: readonly number[]): void {
  const { length: L, width: W } = inputs;
  const channels = [
    ['window', 'diff'],
    ['secondWindow', 'secondDiff'],
  ] as const;
  for (const [windowChannel, diffChannel] of channels) {
    const row = inputs[windowChannel].subarray(beat * L, (beat + 1) * L);
    const diff = inputs[diffChannel].subarray(beat * L, (beat + 1) * L);
    // each window block is a window of its own (WindowLayout), with its own mean
    const means = Array.from(
      { length: L / W },
      (_, b) => row.subarray(b * W, (b + 1) * W).reduce((a, v) => a + v, 0) / W,
    );
    for (const i of samples) {
      row[i] = means[Math.floor(i / W)]!;
      diff[i] = 0;
    }
  }
}

const DELETED_FRACTION = 0.2;

/** Which of `count` test beats (positions) the evaluation's faithfulness check deletes from. */
export function faithfulnessSample(count: number, beats: number, seed = 11): number[] {
  return shuffle(
    Array.from({ length: count }, (_, i) => i),
    seededRandom(seed),
  ).slice(0, beats);
}

/**
 * Deleting the 20 % of samples Grad-CAM ranks highest must lower the predicted class's
 * probability more than deleting 20 % at random, or the explanation explains nothing.
 */
export async function gradCamFaithfulness(
  model: tf.LayersModel,
  inputs: BatchInputs,
  fraction = DELETED_FRACTION,
  seed = 7,
  batchSize = 128,
): Promise<FaithfulnessResult> {
  const cam = new GradCam(model);
  const L = inputs.length;
  const k = Math.round(fraction * L);
  const random = seededRandom(seed);
  let topDrop = 0;
  let randomDrop = 0;
  for (let start = 0; start < inputs.count; start += batchSize) {
    const n = Math.min(batchSize, inputs.count - start);
    const slice = (): BatchInputs =>
      pickInputs(
        inputs,
        Array.from({ length: n }, (_, k) => start + k),
      );
    const base = slice();
    const p0 = await predictProbabilities(model, base);
    const predicted = Array.from({ length: n }, (_, b) => argmax(p0, b));
    const curves = cam.explain(base, predicted);
    const top = slice();
    const rnd = slice();
    for (let b = 0; b < n; b++) {
      const order = Array.from({ length: L }, (_, i) => i).sort((x, y) => curves[b * L + y]! - curves[b * L + x]!);
      deleteSamples(top, b, order.slice(0, k));
      deleteSamples(
        rnd,
        b,
        shuffle(
          Array.from({ length: L }, (_, i) => i),
          random,
        ).slice(0, k),
      );
    }
    const pTop = await predictProbabilities(model, top);
    const pRnd = await predictProbabilities(model, rnd);
    predicted.forEach((c, b) => {
      topDrop += p0[b * K + c]! - pTop[b * K + c]!;
      randomDrop += p0[b * K + c]! - pRnd[b * K + c]!;
    });
  }
  return { beats: inputs.count, fraction, topDrop: topDrop / inputs.count, randomDrop: randomDrop / inputs.count };
}

/**
 * A model and the beats it is scored on: the test beats of a split, or in a cross-validation
 * one fold model and the held-out patients' beats it never trained on.
 */
export interface ScoredPart {
  readonly model: tf.LayersModel;
  /** Labelled beats, sorted. */
  readonly test: Int32Array;
  /**
   * The beats the decision rule hears while it decides `test`, sorted: where the test takes
   * whole records, every detection of them, the unlabelled ones included (a family vote hears
   * those live too). Default: `test`.
   */
  readonly heard?: Int32Array;
}

/**
 * Everything the evaluation CLI reports, pooled over the parts: each beat is labelled by its
 * own part's model, so fold models give out-of-fold figures for every held-out patient.
 */
export async function evaluateModel(
  parts: readonly ScoredPart[],
  set: BeatSet,
  options: { faithfulnessBeats?: number; seed?: number; rule?: DecisionRule; layout?: WindowLayout } = {},
): Promise<ModelEvaluation> {
  const inputsOf = (beats: ArrayLike<number>): BatchInputs => beatSetInputs(set, beats, options.layout);
  const test = Int32Array.from(parts.flatMap((part) => Array.from(part.test)));
  const partOf = parts.flatMap((part) => Array.from(part.test, () => part));
  const heardOf = parts.map((part) => part.heard ?? part.test);
  const heard = Int32Array.from(heardOf.flatMap((beats) => Array.from(beats)));
  const heardProbabilities = new Float32Array(heard.length * K);
  let offset = 0;
  for (const [p, part] of parts.entries()) {
    heardProbabilities.set(await predictProbabilities(part.model, inputsOf(heardOf[p]!)), offset * K);
    offset += heardOf[p]!.length;
  }
  // Each record's beats are decided in time order (indices are sorted within a part), so a
  // family vote hears what it would have heard live. On the intra-patient split the test beats
  // are a random fifth of each record, and a family hears only those.
  const rule = options.rule ?? ARGMAX;
  const heardDecisions = decideBeatSet(rule, set, heard, heardProbabilities);
  const rowOfBeat = new Map(Array.from(heard, (i, k) => [i, k]));
  const rows = Array.from(test, (i) => {
    const row = rowOfBeat.get(i);
    // a test beat its part does not hear would be scored on a row of zeros
    if (row === undefined) throw new Error(`evaluateModel: test beat ${i} is not among the beats its part hears`);
    return row;
  });
  const probabilities = new Float32Array(test.length * K);
  rows.forEach((row, k) => probabilities.set(heardProbabilities.subarray(row * K, (row + 1) * K), k * K));
  const decisions = rows.map((row) => heardDecisions[row]!);
  const labels = Array.from(test, (i) => set.labels[i]!);
  const predicted = Uint8Array.from(decisions, (d) => d.label);
  const votedV = Float32Array.from(decisions, (d) => d.votedV);
  const reasons = decisions.map((d) => d.reason);
  const metrics = classificationMetrics(labels, probabilities, predicted);
  const pairsOf = (predicted: ArrayLike<number>): LabelPairs => {
    const pairs: LabelPairs = {};
    labels.forEach((l, k) => addPair(pairs, AAMI_CLASSES[l]!, AAMI_CLASSES[predicted[k]!]!));
    return pairs;
  };
  const pairs = pairsOf(predicted);
  const plain = (c: AamiClass) => ({ se: 100 * metrics.perClass[c].recall, ppv: 100 * metrics.perClass[c].precision });
  const ectopic = (c: 'V' | 'S') => {
    const f = ectopicFigures(pairs, c);
    return { se: f.se, ppv: f.ppv };
  };
  const ec57 = { N: plain('N'), S: ectopic('S'), V: ectopic('V'), F: plain('F') };
  const ratios = rule.prematurityRatio === null ? [] : [...new Set([...PREMATURITY_RATIOS, rule.prematurityRatio])];
  // the family vote does not depend on the ratio: each beat's voted probabilities are decided
  // again, and the rule's own ratio is the evaluation's labels
  const voted = new Float32Array(K);
  const rowOf = (k: number): Float32Array => {
    const own = probabilities.subarray(k * K, (k + 1) * K);
    return rule.familyVote === null ? own : withVotedV(own, votedV[k]!, voted);
  };
  const prematurityCurve = ratios
    .sort((a, b) => a - b)
    .map((ratio) => {
      const other = { ...rule, prematurityRatio: ratio };
      const labels =
        ratio === rule.prematurityRatio
          ? predicted
          : Array.from(test, (i, k) => decide(rowOf(k), 0, beatRhythmOf(set, i), other).label);
      const { se, ppv } = ectopicFigures(pairsOf(labels), 'S');
      return { ratio, se, ppv, isRule: ratio === rule.prematurityRatio };
    });
  const roc = Object.fromEntries(
    AAMI_CLASSES.map((c, k) => [
      c,
      rocCurve(
        Float32Array.from(labels, (_, i) => probabilities[i * K + k]!),
        labels.map((l) => l === k),
      ),
    ]),
  ) as Record<AamiClass, [number, number][]>;

  // faithfulness on a fixed random sample of test beats, every class included, each beat
  // explained by its own part's model; the mean drops are weighted by the beats of each part
  const sample = faithfulnessSample(test.length, options.faithfulnessBeats ?? 1000, options.seed);
  let topDrop = 0;
  let randomDrop = 0;
  for (const part of parts) {
    const mine = sample.filter((j) => partOf[j] === part).map((j) => test[j]!);
    if (mine.length === 0) continue;
    const f = await gradCamFaithfulness(part.model, inputsOf(mine));
    topDrop += f.topDrop * mine.length;
    randomDrop += f.randomDrop * mine.length;
  }
  const faithfulness = {
    beats: sample.length,
    fraction: DELETED_FRACTION,
    topDrop: topDrop / sample.length,
    randomDrop: randomDrop / sample.length,
  };

  // one example of each abnormal class for the report, with its Grad-CAM curve
  const cams = new Map<ScoredPart, GradCam>();
  const camOf = (part: ScoredPart): GradCam => cams.get(part) ?? cams.set(part, new GradCam(part.model)).get(part)!;
  const examples: ModelEvaluation['examples'] = [];
  for (const k of [1, 2, 3]) {
    const j = labels.findIndex((label, b) => label === k && probabilities[b * K + k]! > 0.5);
    if (j < 0) continue;
    const one = inputsOf([test[j]!]);
    examples.push({
      label: AAMI_CLASSES[k]!,
      predicted: AAMI_CLASSES[k]!,
      window: Array.from(one.window.subarray(0, one.width)),
      cam: Array.from(camOf(partOf[j]!).explain(one, [k]).subarray(0, one.width)),
    });
  }
  return {
    metrics,
    ec57,
    roc,
    faithfulness,
    prematurityCurve,
    examples,
    predictions: { beats: test, probabilities, votedV, predicted, reasons },
  };
}
