import * as tf from '@tensorflow/tfjs';
import type { BeatWindow } from '../dsp/index.js';
import { AAMI_CLASSES, type AamiClass } from './aami.js';
import type { BeatSet } from './dataset.js';
import { normalizeWindow, RR_FEATURES, rrFeatures } from './features.js';
import { loadModel } from './io.js';

/** Inputs of a batch, normalised exactly as in training. */
export interface BatchInputs {
  readonly window: Float32Array; // n x length
  readonly rr: Float32Array; // n x RR_FEATURES
  readonly count: number;
  readonly length: number;
}

/** Builds model inputs for beats of a BeatSet (training, validation, evaluation). */
export function beatSetInputs(set: BeatSet, indices: ArrayLike<number>): BatchInputs {
  const n = indices.length;
  const L = set.windowLength;
  const window = new Float32Array(n * L);
  const rr = new Float32Array(n * RR_FEATURES);
  for (let k = 0; k < n; k++) {
    const i = indices[k]!;
    normalizeWindow(set.windows.subarray(i * L, (i + 1) * L), window, k * L);
    rr.set(set.rr.subarray(i * RR_FEATURES, (i + 1) * RR_FEATURES), k * RR_FEATURES);
  }
  return { window, rr, count: n, length: L };
}

/** Builds model inputs for live beat windows (the pipeline). */
export function beatWindowInputs(windows: readonly BeatWindow[]): BatchInputs {
  const L = windows[0]?.samples.length ?? 0;
  const window = new Float32Array(windows.length * L);
  const rr = new Float32Array(windows.length * RR_FEATURES);
  windows.forEach((w, k) => {
    normalizeWindow(w.samples, window, k * L);
    rrFeatures(w, rr, k * RR_FEATURES);
  });
  return { window, rr, count: windows.length, length: L };
}

export function toTensors(inputs: BatchInputs, usesRr: boolean): tf.Tensor | tf.Tensor[] {
  const window = tf.tensor3d(inputs.window, [inputs.count, inputs.length, 1]);
  return usesRr ? [window, tf.tensor2d(inputs.rr, [inputs.count, RR_FEATURES])] : window;
}

/** Whether a model takes the RR features: it has a second input. */
export function modelUsesRr(model: tf.LayersModel): boolean {
  return model.inputs.length > 1;
}

/** Class probabilities (n x 5, row-major), in batches to bound memory. */
export async function predictProbabilities(
  model: tf.LayersModel,
  inputs: BatchInputs,
  batchSize = 256,
): Promise<Float32Array> {
  const usesRr = modelUsesRr(model);
  const K = AAMI_CLASSES.length;
  const out = new Float32Array(inputs.count * K);
  for (let start = 0; start < inputs.count; start += batchSize) {
    const end = Math.min(inputs.count, start + batchSize);
    const slice: BatchInputs = {
      window: inputs.window.subarray(start * inputs.length, end * inputs.length),
      rr: inputs.rr.subarray(start * RR_FEATURES, end * RR_FEATURES),
      count: end - start,
      length: inputs.length,
    };
    const x = toTensors(slice, usesRr);
    const y = model.predict(x) as tf.Tensor;
    out.set(await y.data(), start * K);
    tf.dispose([x, y]);
  }
  return out;
}

export interface BeatClassification {
  readonly label: AamiClass;
  readonly probabilities: Record<AamiClass, number>;
}

/** The classifier the pipeline holds: a loaded model plus its identity. */
export class BeatClassifier {
  readonly model: tf.LayersModel;
  readonly modelId: string;

  constructor(model: tf.LayersModel, modelId: string) {
    this.model = model;
    this.modelId = modelId;
  }

  static async load(dir: string): Promise<BeatClassifier> {
    const { model, metadata } = await loadModel(dir);
    return new BeatClassifier(model, typeof metadata.modelId === 'string' ? metadata.modelId : dir);
  }

  async classify(windows: readonly BeatWindow[]): Promise<BeatClassification[]> {
    if (windows.length === 0) return [];
    const p = await predictProbabilities(this.model, beatWindowInputs(windows));
    const K = AAMI_CLASSES.length;
    return windows.map((_, i) => {
      const probabilities = Object.fromEntries(AAMI_CLASSES.map((c, k) => [c, p[i * K + k]!])) as Record<
        AamiClass,
        number
      >;
      let best: AamiClass = 'N';
      for (const c of AAMI_CLASSES) if (probabilities[c] > probabilities[best]) best = c;
      return { label: best, probabilities };
    });
  }
}
