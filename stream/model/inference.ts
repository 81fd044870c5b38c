import { AAMI_CLASSES } from '../contracts/aami.js';
import * as tf from '@tensorflow/tfjs';
import { DEFAULT_BEAT_WINDOW, type BeatWindow } from '../dsp/index.js';
import type { BeatSet } from './dataset.js';
import {
  normalizeWindow,
  beatRhythmOf,
  RR_FEATURES,
  rrFeatures,
  RULE_INPUTS,
  ruleInputsOf,
  templateDifference,
  type RuleInput,
} from './features.js';
import { BeatDecider, type BeatDecision } from './beatFamilies.js';
import { ARGMAX, ruleOf, type DecisionRule } from './decision.js';
import { loadModel, rIndicesOf } from './io.js';
import { ConfigError } from '../contracts/errors.js';

/**
 * The window channels, in the order a model takes them: the monitoring lead's beat, its
 * difference from the patient template, then the same two for the second lead.
 */
export const CHANNELS = ['window', 'diff', 'secondWindow', 'secondDiff'] as const;
export type Channel = (typeof CHANNELS)[number];

/**
 * Inputs of a batch, normalised exactly as in training; each channel is n x length. A row holds
 * one window of `width` samples per R index the model takes (`WindowLayout`), one after another:
 * `length` is `width` for every model but an ensemble of members trained at different R indices.
 */
export interface BatchInputs extends Readonly<Record<Channel, Float32Array>> {
  readonly rr: Float32Array; // n x RR_FEATURES
  /**
   * n baseline RRs (s), n rhythm irregularities, n intervals to the next beat (s) and n P-wave
   * agreements (`ruleInputsOf`): not model inputs, the decision rule's.
   */
  readonly rrBaseline: Float32Array;
  readonly rrIrregularity: Float32Array;
  readonly rrNext: Float32Array;
  readonly pWaveAgreement: Float32Array;
  readonly count: number;
  readonly length: number;
  /** Samples of one window block; block 0 is the window shown (model input, Grad-CAM). */
  readonly width: number;
}

/**
 * How the windows a model takes lie in the window a bed cuts for it. A model trained at one R
 * index takes the cut window whole. An ensemble of members trained at different R indices takes
 * one block of `width` samples per index: the bed cuts a window long enough for all of them
 * (`cut`), and block b starts `offsets[b]` samples into it. Each block is normalised and
 * compared with the patient's template on its own, as its member was trained, so the blocks
 * are cut from the same stream rather than shifted copies of one normalised window.
 */
export interface WindowLayout {
  readonly cut: { readonly length: number; readonly rIndex: number };
  readonly width: number;
  readonly rIndices: readonly number[];
  readonly offsets: readonly number[];
}

export function windowLayout(rIndices: readonly number[], width: number = DEFAULT_BEAT_WINDOW.length): WindowLayout {
  const first = Math.min(...rIndices);
  const last = Math.max(...rIndices);
  return {
    cut: { length: width + last - first, rIndex: last },
    width,
    rIndices,
    offsets: rIndices.map((r) => last - r),
  };
}

/** The windows a saved model takes, from its metadata (`rIndicesOf`). */
export function windowLayoutOf(metadata: Record<string, unknown>): WindowLayout {
  return windowLayout(rIndicesOf(metadata));
}

/** One array per rule input, made by `make`. */
function ruleInputs(make: (input: RuleInput) => Float32Array): Record<RuleInput, Float32Array> {
  return Object.fromEntries(RULE_INPUTS.map((r) => [r, make(r)])) as Record<RuleInput, Float32Array>;
}

/** Inputs for n beats of `blocks` windows of `width`, all zero: a missing second lead stays that way. */
export function emptyInputs(n: number, width: number, blocks = 1): BatchInputs {
  const L = width * blocks;
  return {
    window: new Float32Array(n * L),
    diff: new Float32Array(n * L),
    secondWindow: new Float32Array(n * L),
    secondDiff: new Float32Array(n * L),
    rr: new Float32Array(n * RR_FEATURES),
    ...ruleInputs(() => new Float32Array(n)),
    count: n,
    length: L,
    width,
  };
}

/**
 * Writes beat k's window channels from one lead's cut window and template, block by block (a
 * missing second lead stays zero, as a flat one normalises to).
 */
export function writeLead(
  inputs: BatchInputs,
  k: number,
  lead: 'first' | 'second',
  samples: Float32Array,
  template: Float32Array,
  offsets: readonly number[] = [0],
): void {
  const W = inputs.width;
  offsets.forEach((from, block) => {
    const offset = k * inputs.length + block * W;
    const window = samples.subarray(from, from + W);
    normalizeWindow(window, lead === 'first' ? inputs.window : inputs.secondWindow, offset);
    templateDifference(
      window,
      template.subarray(from, from + W),
      lead === 'first' ? inputs.diff : inputs.secondDiff,
      offset,
    );
  });
}

/** The blocks to read from windows of `length` samples: `layout`'s, or without one each window whole. */
function blocksOf(
  length: number,
  layout: WindowLayout | undefined,
  what: string,
): Pick<WindowLayout, 'width' | 'offsets'> {
  if (layout === undefined) return { width: length, offsets: [0] };
  if (layout.cut.length !== length)
    throw new ConfigError(`${what}: windows of ${length} samples, the model's layout needs ${layout.cut.length}`);
  return layout;
}

/**
 * Builds model inputs for beats of a BeatSet (training, validation, evaluation), laid out as
 * `layout` says (default: each window whole); the set must be cut as the layout's `cut`.
 */
export function beatSetInputs(set: BeatSet, indices: ArrayLike<number>, layout?: WindowLayout): BatchInputs {
  const L = set.windowLength;
  const { width, offsets } = blocksOf(L, layout, 'beatSetInputs');
  if (layout !== undefined && layout.cut.rIndex !== set.rIndex)
    throw new ConfigError(
      `beatSetInputs: windows cut at R index ${set.rIndex}, the model's layout needs ${layout.cut.rIndex}`,
    );
  const inputs = emptyInputs(indices.length, width, offsets.length);
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k]!;
    const row = (a: Float32Array): Float32Array => a.subarray(i * L, (i + 1) * L);
    writeLead(inputs, k, 'first', row(set.windows), row(set.templates), offsets);
    writeLead(inputs, k, 'second', row(set.secondWindows), row(set.secondTemplates), offsets);
    inputs.rr.set(set.rr.subarray(i * RR_FEATURES, (i + 1) * RR_FEATURES), k * RR_FEATURES);
    for (const r of RULE_INPUTS) inputs[r][k] = set[r][i]!;
  }
  return inputs;
}

/** Beats [start, end) of a batch, sharing memory. */
export function sliceInputs(inputs: BatchInputs, start: number, end: number): BatchInputs {
  const L = inputs.length;
  const channels = Object.fromEntries(CHANNELS.map((c) => [c, inputs[c].subarray(start * L, end * L)]));
  return {
    ...(channels as Record<Channel, Float32Array>),
    rr: inputs.rr.subarray(start * RR_FEATURES, end * RR_FEATURES),
    ...ruleInputs((r) => inputs[r].subarray(start, end)),
    count: end - start,
    length: L,
    width: inputs.width,
  };
}

/** Window block `block` of every beat of a batch, copied: what one member of an ensemble reads. */
export function blockInputs(inputs: BatchInputs, block: number): BatchInputs {
  const { length: L, width: W } = inputs;
  if (L === W) return inputs;
  const out = emptyInputs(inputs.count, W);
  for (let k = 0; k < inputs.count; k++)
    for (const c of CHANNELS) out[c].set(inputs[c].subarray(k * L + block * W, k * L + (block + 1) * W), k * W);
  out.rr.set(inputs.rr);
  for (const r of RULE_INPUTS) out[r].set(inputs[r]);
  return out;
}

/** Beats picked by index from a batch, copied. */
export function pickInputs(inputs: BatchInputs, picks: readonly number[]): BatchInputs {
  const L = inputs.length;
  const out = emptyInputs(picks.length, inputs.width, L / inputs.width);
  picks.forEach((i, k) => {
    for (const c of CHANNELS) out[c].set(inputs[c].subarray(i * L, (i + 1) * L), k * L);
    out.rr.set(inputs.rr.subarray(i * RR_FEATURES, (i + 1) * RR_FEATURES), k * RR_FEATURES);
    for (const r of RULE_INPUTS) out[r][k] = inputs[r][i]!;
  });
  return out;
}

/** Builds model inputs for live beat windows (the pipeline), laid out as `layout` says. */
export function beatWindowInputs(windows: readonly BeatWindow[], layout?: WindowLayout): BatchInputs {
  const length = windows[0]?.samples.length ?? layout?.cut.length ?? 0;
  const { width, offsets } = blocksOf(length, layout, 'beatWindowInputs');
  const inputs = emptyInputs(windows.length, width, offsets.length);
  windows.forEach((w, k) => {
    writeLead(inputs, k, 'first', w.samples, w.template, offsets);
    if (w.secondLead !== undefined)
      writeLead(inputs, k, 'second', w.secondLead.samples, w.secondLead.template, offsets);
    rrFeatures(w, inputs.rr, k * RR_FEATURES);
    const rule = ruleInputsOf(w);
    for (const r of RULE_INPUTS) inputs[r][k] = rule[r];
  });
  return inputs;
}

/**
 * What a model takes: the first 1, 2 or 4 of CHANNELS (the beat; and its template difference;
 * and both again for the second lead), with or without the RR features.
 */
export interface InputShape {
  readonly channels: 1 | 2 | 4;
  readonly usesRr: boolean;
}

export function inputShapeOf(model: tf.LayersModel): InputShape {
  const channels = model.inputs[0]!.shape[2];
  if (channels !== 1 && channels !== 2 && channels !== 4) {
    throw new ConfigError(`model takes ${channels} window channels; the monitor provides 1, 2 or 4`);
  }
  return { channels, usesRr: model.inputs.length > 1 };
}

export function toTensors(inputs: BatchInputs, shape: InputShape): tf.Tensor | tf.Tensor[] {
  const C = shape.channels;
  const n = inputs.count * inputs.length;
  let values = inputs.window;
  if (C > 1) {
    values = new Float32Array(n * C);
    for (let c = 0; c < C; c++) {
      const channel = inputs[CHANNELS[c]!];
      for (let i = 0; i < n; i++) values[C * i + c] = channel[i]!;
    }
  }
  const window = tf.tensor3d(values, [inputs.count, inputs.length, C]);
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

/**
 * The classifier the pipeline holds: a loaded model, its identity and its decision rule. The
 * rule's per-bed state (beat families), carried from batch to batch, is the caller's
 * (`ruleState`): each pipeline ward holds its own.
 */
export class BeatClassifier {
  readonly model: tf.LayersModel;
  readonly modelId: string;
  readonly rule: DecisionRule;
  /** The windows this model takes (`rIndicesOf`): beds cut `layout.cut`. */
  readonly layout: WindowLayout;

  constructor(
    model: tf.LayersModel,
    modelId: string,
    rule: DecisionRule = ARGMAX,
    layout: WindowLayout = windowLayout([DEFAULT_BEAT_WINDOW.rIndex]),
  ) {
    this.model = model;
    this.modelId = modelId;
    this.rule = rule;
    this.layout = layout;
  }

  /** Fresh per-bed rule state (beat families) for `decide`. */
  ruleState(): BeatDecider {
    // the families compare QRS shapes in block 0, the window shown with the beat
    return new BeatDecider(this.rule, this.layout.rIndices[0]!);
  }

  static async load(dir: string): Promise<BeatClassifier> {
    const { model, metadata } = await loadModel(dir);
    const modelId = typeof metadata.modelId === 'string' ? metadata.modelId : dir;
    return new BeatClassifier(model, modelId, ruleOf(metadata), windowLayoutOf(metadata));
  }

  /**
   * The decision on each beat of a batch, by this classifier's rule; `beds[k]` is beat k's bed,
   * whose beats must come in time order from one call to the next with the same `state`.
   */
  decide(
    state: BeatDecider,
    inputs: BatchInputs,
    probabilities: Float32Array,
    beds: readonly string[],
  ): BeatDecision[] {
    const { length: L, width: W } = inputs;
    return Array.from({ length: inputs.count }, (_, k) =>
      state.decide(
        beds[k]!,
        [inputs.window.subarray(k * L, k * L + W), inputs.secondWindow.subarray(k * L, k * L + W)],
        probabilities,
        k,
        beatRhythmOf(inputs, k),
      ),
    );
  }
}
