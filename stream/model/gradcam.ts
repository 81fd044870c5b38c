import * as tf from '@tensorflow/tfjs';
import { CAM_LAYER, LOGITS_LAYER } from './architectures.js';
import { blockInputs, inputShapeOf, toTensors, type BatchInputs, type InputShape } from './inference.js';
import { MEMBER_PREFIX, WindowBlock } from './io.js';

type LayerLike = tf.layers.Layer;

/**
 * Grad-CAM for 1-D beats (Selvaraju et al. 2017): the gradient of a class's pre-softmax score
 * with respect to the last residual block's feature maps, averaged over time to weight each
 * channel; the weighted sum, rectified, upsampled to the input samples and scaled to 0..1.
 * It shows which part of the beat drove the class, for the nurse looking at an alarm.
 * For an ensemble (`loadModel` of an ensemble directory) it is the mean of its members'
 * curves, scaled to 0..1 again. Members trained at different R indices each explain their own
 * window block; their curves are summed where they cover the same instant of the beat.
 */
export class GradCam {
  private readonly members: { readonly cam: SingleGradCam; readonly block: WindowBlock | undefined }[];
  /** R index of each window block, where an ensemble's members take different ones. */
  private readonly rIndices: number[];
  /** Samples of the window each network reads. */
  private readonly width: number;

  constructor(model: tf.LayersModel) {
    const members = model.layers.filter(
      (l): l is tf.LayersModel => l instanceof tf.LayersModel && l.name.startsWith(MEMBER_PREFIX),
    );
    // node 0 is the member's own input; the ensemble's call on it comes after
    const blockOf = (member: tf.LayersModel): WindowBlock | undefined =>
      member.inboundNodes.flatMap((node) => node.inboundLayers).find((l): l is WindowBlock => l instanceof WindowBlock);
    this.members =
      members.length > 0
        ? members.map((m) => ({ cam: new SingleGradCam(m), block: blockOf(m) }))
        : [{ cam: new SingleGradCam(model), block: undefined }];
    this.width = (members[0] ?? model).inputs[0]!.shape[1]!;
    this.rIndices = model.layers
      .filter((l): l is WindowBlock => l instanceof WindowBlock)
      .sort((a, b) => a.block - b.block)
      .map((l) => l.rIndex);
  }

  /**
   * One curve per beat (row-major, count x the inputs' row length: a curve per window block) for
   * the given class of each beat (usually the predicted one), each block's scaled to 0..1.
   */
  explain(inputs: BatchInputs, classes: readonly number[]): Float32Array {
    const { length: L, width: W } = inputs;
    const blocks = Math.max(1, this.rIndices.length);
    if (W !== this.width || L !== W * blocks)
      throw new Error(`Grad-CAM: inputs in rows of ${L} samples, the model reads ${blocks} windows of ${this.width}`);
    const [only, ...others] = this.members;
    if (others.length === 0 && only!.block === undefined) return only!.cam.explain(inputs, classes);
    // members of one window block read the same copy of it
    const blockCopies = new Map<number, BatchInputs>();
    const inputsOf = (block: WindowBlock | undefined): BatchInputs => {
      if (block === undefined) return inputs;
      let copy = blockCopies.get(block.block);
      if (copy === undefined) blockCopies.set(block.block, (copy = blockInputs(inputs, block.block)));
      return copy;
    };
    const out = new Float32Array(inputs.count * L);
    for (const { cam, block } of this.members) {
      const curves = cam.explain(inputsOf(block), classes);
      // a member's sample i is the instant i - rIndex of the beat; block b shows it at j
      const rows = block === undefined ? [0] : this.rIndices.map((r) => block.rIndex - r);
      for (let b = 0; b < inputs.count; b++)
        rows.forEach((shift, row) => {
          for (let j = Math.max(0, -shift); j < Math.min(W, W - shift); j++)
            out[b * L + row * W + j]! += curves[b * W + j + shift]!;
        });
    }
    if (this.members.length > 1)
      for (let s = 0; s < out.length / W; s++) {
        const curve = out.subarray(s * W, (s + 1) * W);
        const max = Math.max(...curve);
        if (max > 0) for (let i = 0; i < W; i++) curve[i]! /= max;
      }
    return out;
  }
}

class SingleGradCam {
  private readonly features: tf.LayersModel;
  private readonly headLayers: LayerLike[];
  private readonly inputNames: string[];
  private readonly shape: InputShape;
  private readonly model: tf.LayersModel;

  constructor(model: tf.LayersModel) {
    this.model = model;
    const cam = model.getLayer(CAM_LAYER);
    this.features = tf.model({ inputs: model.inputs, outputs: cam.output as tf.SymbolicTensor });
    const layers = model.layers;
    const camAt = layers.indexOf(cam);
    const logitsAt = layers.findIndex((l) => l.name === LOGITS_LAYER);
    if (camAt < 0 || logitsAt < camAt)
      throw new Error(`model ${model.name} has no ${CAM_LAYER} before ${LOGITS_LAYER}`);
    this.inputNames = model.inputLayers.map((l) => l.name);
    // input layers can be listed after the block (the RR input is); their values are given
    this.headLayers = layers.slice(camAt + 1, logitsAt + 1).filter((l) => !this.inputNames.includes(l.name));
    this.shape = inputShapeOf(model);
  }

  explain(inputs: BatchInputs, classes: readonly number[]): Float32Array {
    return tf.tidy(() => {
      const x = toTensors(inputs, this.shape);
      const xs = Array.isArray(x) ? x : [x];
      const maps = this.features.predict(x) as tf.Tensor3D; // [n, T, C]
      const mask = tf.oneHot(tf.tensor1d(Int32Array.from(classes), 'int32'), this.model.outputs[0]!.shape[1] as number);
      const score = (a: tf.Tensor): tf.Scalar => tf.sum(tf.mul(this.logitsFrom(a, xs), mask));
      const grads = tf.grad(score)(maps) as tf.Tensor3D;
      const weights = tf.mean(grads, 1, true); // [n, 1, C]
      const cam = tf.relu(tf.sum(tf.mul(maps, weights), 2)) as tf.Tensor2D; // [n, T]
      return upsampleAndScale(cam.arraySync(), inputs.length, inputs.count);
    });
  }

  /** Replays the layers after the CAM block on (possibly perturbed) feature maps. */
  private logitsFrom(maps: tf.Tensor, inputs: tf.Tensor[]): tf.Tensor {
    const values = new Map<string, tf.Tensor>(this.inputNames.map((name, i) => [name, inputs[i]!]));
    values.set(CAM_LAYER, maps);
    let last = maps;
    for (const layer of this.headLayers) {
      const inbound = layer.inboundNodes[0]!.inboundLayers.map((l) => values.get(l.name));
      if (inbound.some((v) => v === undefined))
        throw new Error(`Grad-CAM: layer ${layer.name} depends on layers before ${CAM_LAYER}`);
      last = layer.apply(inbound.length === 1 ? inbound[0]! : (inbound as tf.Tensor[])) as tf.Tensor;
      values.set(layer.name, last);
    }
    return last;
  }
}

/** Linear interpolation of each T-point curve onto `length` samples, then scaling to max 1. */
function upsampleAndScale(cams: number[][], length: number, count: number): Float32Array {
  const out = new Float32Array(count * length);
  cams.forEach((cam, b) => {
    const T = cam.length;
    const stride = length / T; // each feature point covers `stride` input samples
    let max = 0;
    for (let i = 0; i < length; i++) {
      const pos = Math.min(T - 1, Math.max(0, (i + 0.5) / stride - 0.5));
      const lo = Math.floor(pos);
      const hi = Math.min(T - 1, lo + 1);
      const v = cam[lo]! + (cam[hi]! - cam[lo]!) * (pos - lo);
      out[b * length + i] = v;
      if (v > max) max = v;
    }
    if (max > 0) for (let i = 0; i < length; i++) out[b * length + i]! /= max;
  });
  return out;
}
