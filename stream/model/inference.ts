import * as tf from '@tensorflow/tfjs';
import type { BeatWindow } from '../dsp/index.js';
import { AAMI_CLASSES } from './aami.js';
import type { BeatSet } from './dataset.js';
import { normalizeWindow, RR_FEATURES, rrFeatures, templateDifference } from './features.js';
import { ARGMAX, decide, ruleOf, type DecisionRule } from './decision.js';
import { loadModel } from './io.js';

/** Inputs of a batch, normalised exactly as in training. */
export interface BatchInputs {
  readonly window: Float32Array; // n x length
  /** n x length: window minus patient template, the second channel of two-channel models. */
  readonly diff: Float32Array;
  readonly rr: Float32Array; // n x RR_FEATURES
  readonly count: number;
  readonly length: number;
}

/** Builds model inputs for beats of a BeatSet (training, validation, evaluation). */
export function beatSetInputs(set: BeatSet, indices: ArrayLike<number>): BatchInputs {
  const n = indices.length;
  const L = set.windowLength;
  const window = new Float32Array(n * L);
  const diff = new Float32Array(n * L);
  const rr = new Float32Array(n * RR_FEATURES);
  for (let k = 0; k < n; k++) {
    const i = indices[k]!;
    const samples = set.windows.subarray(i * L, (i + 1) * L);
    normalizeWindow(samples, window, k * L);
    templateDifference(samples, set.templates.subarray(i * L, (i + 1) * L), diff, k * L);
    rr.set(set.rr.subarray(i * RR_FEATURES, (i + 1) * RR_FEATURES), k * RR_FEATURES);
  }
  return { window, diff, rr, count: n, length: L };
}

/** Beats [start, end) of a batch, sharing memory. */
export function sliceInputs(inputs: BatchInputs, start: number, end: number): BatchInputs {
  const L = inputs.length;
  return {
    window: inputs.window.subarray(start * L, end * L),
    diff: inputs.diff.subarray(start * L, end * L),
    rr: inputs.rr.subarray(start * RR_FEATURES, end * RR_FEATURES),
    count: end - start,
    length: L,
  };
}

/** Beats picked by index from a batch, copied. */
export function pickInputs(inputs: BatchInputs, picks: readonly number[]): BatchInputs {
  const L = inputs.length;
  const out = {
    window: new Float32Array(picks.length * L),
    diff: new Float32Array(picks.length * L),
    rr: new Float32Array(picks.length * RR_FEATURES),
    count: picks.length,
    length: L,
  };
  picks.forEach((i, k) => {
    out.window.set(inputs.window.subarray(i * L, (i + 1) * L), k * L);
    out.diff.set(inputs.diff.subarray(i * L, (i + 1) * L), k * L);
    out.rr.set(inputs.rr.subarray(i * RR_FEATURES, (i + 1) * RR_FEATURES), k * RR_FEATURES);
  });
  return out;
}

/** Builds model inputs for live beat windows (the pipeline). */
export function beatWindowInputs(windows: readonly BeatWindow[]): BatchInputs {
  const L = windows[0]?.samples.length ?? 0;
  const window = new Float32Array(windows.length * L);
  const diff = new Float32Array(windows.length * L);
  const rr = new Float32Array(windows.length * RR_FEATURES);
  windows.forEach((w, k) => {
    normalizeWindow(w.samples, window, k * L);
    templateDifference(w.samples, w.template, diff, k * L);
    rrFeatures(w, rr, k * RR_FEATURES);
  });
  return { window, diff, rr, count: windows.length, length: L };
}

/** What a model takes: one or two window channels, with or without the RR features. */
export interface InputShape {
  readonly channels: 1 | 2;
  readonly usesRr: boolean;
}

export function inputShapeOf(model: tf.LayersModel): InputShape {
  return { channels: model.inputs[0]!.shape[2] === 2 ? 2 : 1, usesRr: model.inputs.length > 1 };
}

export function toTensors(inputs: BatchInputs, shape: InputShape): tf.Tensor | tf.Tensor[] {
  let values = inputs.window;
  if (shape.channels === 2) {
    values = new Float32Array(inputs.count * inputs.length * 2);
    for (let i = 0; i < inputs.count * inputs.length; i++) {
      values[2 * i] = inputs.window[i]!;
      values[2 * i + 1] = inputs.diff[i]!;
    }
  }
  const window = tf.tensor3d(values, [inputs.count, inputs.length, shape.channels]);
  return shape.usesRr ? [window, tf.tensor2d(inputs.rr, [inputs.count, RR_FEATURES])] : window;
}

/** Class probabilities (n x 5, row-major), in batches to bound memory. */
export async function predictProbabilities(
  model: tf.LayersModel,
  inputs: BatchInputs,
  batchSize = 256,
): Promise<Float32Array> {
  const shape = inputShapeOf(model);
  const K = AAMI_CLASSES.length;
  const out = new Float32Array(inputs.count * K);
  for (let start = 0; start < inputs.count; start += batchSize) {
    const end = Math.min(inputs.count, start + batchSize);
    const x = toTensors(sliceInputs(inputs, start, end), shape);
    const y = model.predict(x) as tf.Tensor;
    out.set(await y.data(), start * K);
    tf.dispose([x, y]);
  }
  return out;
}

/** The classifier the pipeline holds: a loaded model plus its identity. */
export class BeatClassifier {
  readonly model: tf.LayersModel;
  readonly modelId: string;
  readonly rule: DecisionRule;

  constructor(model: tf.LayersModel, modelId: string, rule: DecisionRule = ARGMAX) {
    this.model = model;
    this.modelId = modelId;
    this.rule = rule;
  }

  static async load(dir: string): Promise<BeatClassifier> {
    const { model, metadata } = await loadModel(dir);
    return new BeatClassifier(model, typeof metadata.modelId === 'string' ? metadata.modelId : dir, ruleOf(metadata));
  }

  /** Class index per beat of a batch, by this classifier's decision rule. */
  labels(inputs: BatchInputs, probabilities: Float32Array): number[] {
    return Array.from({ length: inputs.count }, (_, k) =>
      decide(probabilities, k, inputs.rr[k * RR_FEATURES + 2]!, this.rule),
    );
  }
}
