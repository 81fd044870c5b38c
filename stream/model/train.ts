import { AAMI_CLASSES } from '../contracts/aami.js';
import * as tf from '@tensorflow/tfjs';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { architecture, type ArchitectureName } from './architectures.js';
import type { BeatSet, Split } from './dataset.js';
import { RR_FEATURES } from './features.js';
import {
  beatSetInputs,
  emptyInputs,
  predictProbabilities,
  toTensors,
  writeLead,
  type BatchInputs,
} from './inference.js';
import { ENSEMBLE_NAME, loadModel, loadOptimizer, ModelFileError, saveModel, saveOptimizer } from './io.js';
import { ConfigError } from '../contracts/errors.js';
import { classificationMetrics } from './metrics.js';
import { gaussian, seededRandom, shuffle } from './random.js';

export type Balance = 'oversample' | 'class-weights' | 'none';

export interface TrainOptions {
  readonly architecture: ArchitectureName;
  readonly outDir: string;
  readonly epochs: number;
  readonly batchSize: number;
  readonly seed: number;
  /** Epochs without a better validation macro-F1 before stopping (keep = 'best' only). */
  readonly patience: number;
  /**
   * Which epoch's weights are saved: 'best' by validation macro F1 (with early stopping), or
   * 'last' after exactly `epochs` epochs: a refit on all training patients for an epoch count
   * chosen earlier on held-out patients, where the beat-wise validation must not choose.
   */
  readonly keep: 'best' | 'last';
  readonly balance: Balance;
  /** Show every training beat as another patient's (`augmentBeat`); validation beats never. */
  readonly augment: boolean;
  /**
   * For models that take the second lead: the fraction of training beats shown without it
   * (zeros, as a missing or flat lead reaches the model), so the model still serves
   * one-lead beds.
   */
  readonly secondLeadDropout: number;
  readonly learningRate?: number;
  /** Steps between checkpoints (a checkpoint is also written at every epoch end). */
  readonly checkpointEvery: number;
  /** Cap on steps per epoch (CI's smoke run); undefined = whole epochs. */
  readonly maxStepsPerEpoch?: number;
  readonly resume: boolean;
  /** Start from this saved model's weights (same architecture): fine-tuning at a lower rate. */
  readonly initFrom?: string;
  /** Facts copied into the saved model's metadata (split, records, window...). */
  readonly metadata: Record<string, unknown>;
}

export interface TrainProgress {
  readonly epoch: number;
  readonly epochs: number;
  readonly step: number;
  readonly steps: number;
  readonly loss: number;
  readonly beatsPerSecond: number;
  readonly etaSeconds: number;
}

export interface EpochRecord {
  readonly epoch: number;
  readonly trainLoss: number;
  readonly validationLoss: number;
  readonly validationAccuracy: number;
  readonly validationMacroF1: number;
  readonly seconds: number;
  readonly beatsPerSecond: number;
}

interface TrainState {
  epoch: number;
  step: number;
  bestMacroF1: number;
  bestEpoch: number;
  stale: number;
  history: EpochRecord[];
  trainSeconds: number;
  lossSum: number;
  lossCount: number;
}

/** The seed notebook's oversampling factors per AAMI class (N S V F Q). */
const OVERSAMPLE = [1, 3, 1, 9, 1] as const;
const JITTER_SD = 0.005;

interface Entry {
  readonly index: number;
  readonly copy: number;
}

export function epochEntries(set: BeatSet, train: Int32Array, balance: Balance, seed: number, epoch: number): Entry[] {
  const entries: Entry[] = [];
  for (const index of train) {
    const copies = balance === 'oversample' ? OVERSAMPLE[set.labels[index]!]! : 1;
    for (let copy = 0; copy < copies; copy++) entries.push({ index, copy });
  }
  return shuffle(entries, seededRandom(seed * 7919 + epoch));
}

/** sklearn's 'balanced' weights, n / (K n_c), for the classes present. */
function classWeights(set: BeatSet, train: Int32Array): number[] {
  const counts = AAMI_CLASSES.map(() => 0);
  for (const i of train) counts[set.labels[i]!]!++;
  const present = counts.filter((c) => c > 0).length;
  return counts.map((c) => (c === 0 ? 0 : train.length / (present * c)));
}

/** How far `augmentBeat` varies a beat (fractions). */
const AUGMENT = { stretch: 0.1, tilt: 0.05, noise: 0.01, rate: 0.1 } as const;

/**
 * The beat as another patient's heart and electrodes might show it, for inter-patient
 * generalisation: the window and its patient template stretched alike in time about the R peak
 * (QRS width and QT differ more between patients than within one) so the template difference
 * keeps its meaning; the window alone given a residual baseline tilt and noise (the template is
 * a median, clean); both RR intervals scaled alike (another heart rate, the same prematurity).
 * Writes beat k's inputs whole: its window channels (the second lead's only for a model that
 * takes it) and its RR features.
 */
export function augmentBeat(
  set: BeatSet,
  index: number,
  random: () => number,
  inputs: BatchInputs,
  k: number,
  secondLead: boolean,
): void {
  const L = set.windowLength;
  const r = set.rIndex;
  const stretch = 1 + AUGMENT.stretch * (2 * random() - 1);
  const warp = (x: Float32Array): Float32Array =>
    Float32Array.from({ length: L }, (_, i) => {
      const t = Math.min(L - 1, Math.max(0, r + (i - r) / stretch));
      const lo = Math.floor(t);
      const hi = Math.min(L - 1, lo + 1);
      return x[lo]! + (t - lo) * (x[hi]! - x[lo]!);
    });
  const lead = (windows: Float32Array, templates: Float32Array, which: 'first' | 'second'): void => {
    const window = warp(windows.subarray(index * L, (index + 1) * L));
    const template = warp(templates.subarray(index * L, (index + 1) * L));
    let min = Infinity;
    let max = -Infinity;
    for (const v of window) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    const range = max - min;
    const tilt = AUGMENT.tilt * (2 * random() - 1) * range;
    for (let i = 0; i < L; i++)
      window[i] = window[i]! + tilt * (i / (L - 1) - 0.5) + AUGMENT.noise * range * gaussian(random);
    writeLead(inputs, k, which, window, template);
  };
  lead(set.windows, set.templates, 'first');
  const rate = 1 + AUGMENT.rate * (2 * random() - 1);
  inputs.rr[k * RR_FEATURES] = set.rr[index * RR_FEATURES]! * rate;
  inputs.rr[k * RR_FEATURES + 1] = set.rr[index * RR_FEATURES + 1]! * rate;
  inputs.rr[k * RR_FEATURES + 2] = set.rr[index * RR_FEATURES + 2]!;
  // drawn last, so a one-lead model's augmentation is what it was before two-lead models
  if (secondLead) lead(set.secondWindows, set.secondTemplates, 'second');
}

/** A training batch's inputs: augmented, jittered and second-lead-dropped as configured. */
export function trainingInputs(
  set: BeatSet,
  entries: readonly Entry[],
  jitterSeed: number,
  options: Pick<TrainOptions, 'augment' | 'secondLeadDropout'> & { secondLead: boolean },
): BatchInputs {
  // augmented beats are written whole by augmentBeat: no need to normalise the originals first
  const inputs = options.augment
    ? emptyInputs(entries.length, set.windowLength)
    : beatSetInputs(
        set,
        entries.map((e) => e.index),
      );
  const random = seededRandom(jitterSeed);
  if (options.augment) entries.forEach((e, k) => augmentBeat(set, e.index, random, inputs, k, options.secondLead));
  // the seed's augmentation for oversampled copies: round to two decimals, add small noise
  const jittered = options.secondLead ? (['window', 'secondWindow'] as const) : (['window'] as const);
  entries.forEach((e, k) => {
    if (e.copy === 0) return;
    for (const channel of jittered) {
      const values = inputs[channel];
      for (let i = k * inputs.length; i < (k + 1) * inputs.length; i++) {
        values[i] = Math.round(values[i]! * 100) / 100 + JITTER_SD * gaussian(random);
      }
    }
  });
  if (options.secondLead && options.secondLeadDropout > 0) {
    // its own stream, so the dropout rate does not change which jitter each beat gets
    const drop = seededRandom(jitterSeed ^ 0x2d1ead);
    entries.forEach((_, k) => {
      if (drop() >= options.secondLeadDropout) return;
      inputs.secondWindow.fill(0, k * inputs.length, (k + 1) * inputs.length);
      inputs.secondDiff.fill(0, k * inputs.length, (k + 1) * inputs.length);
    });
  }
  return inputs;
}

function crossEntropy(probabilities: tf.Tensor, oneHot: tf.Tensor): tf.Tensor1D {
  return tf.neg(tf.sum(tf.mul(oneHot, tf.log(tf.clipByValue(probabilities, 1e-7, 1))), 1)) as tf.Tensor1D;
}

async function writeJson(path: string, value: unknown): Promise<void> {
  await writeFile(`${path}.tmp`, `${JSON.stringify(value, null, 2)}\n`);
  await rename(`${path}.tmp`, path);
}

function parseTrainState(text: string): TrainState {
  let state: TrainState;
  try {
    state = JSON.parse(text) as TrainState;
  } catch (error) {
    throw new Error(`state.json: ${(error as Error).message}`, { cause: error });
  }
  if (!Number.isInteger(state.epoch) || !Number.isInteger(state.step) || !Array.isArray(state.history))
    throw new Error('state.json lacks its epoch, step or history');
  return state;
}

/**
 * Trains one architecture on a split. Deterministic from the seed (initialisers, data order,
 * jitter), except tfjs's dropout masks, which it draws unseeded. Kill it at any point and run
 * again with `resume`: it continues from the last checkpoint with the same data order.
 */
export async function train(
  set: BeatSet,
  split: Split,
  options: TrainOptions,
  report: { log: (line: string) => void; progress: (p: TrainProgress) => void },
): Promise<{ history: EpochRecord[]; bestEpoch: number; bestMacroF1: number; trainSeconds: number }> {
  const spec = architecture(options.architecture);
  const checkpointDir = join(options.outDir, 'checkpoint');
  let model: tf.LayersModel;
  let state: TrainState;
  const optimizer = tf.train.adam(options.learningRate ?? spec.learningRate);
  const saved = options.resume
    ? await readFile(join(checkpointDir, 'state.json'), 'utf8').catch(() => undefined)
    : undefined;
  if (saved !== undefined) {
    // a damaged checkpoint is named with what to do, before any step runs
    try {
      state = parseTrainState(saved);
      model = (await loadModel(checkpointDir)).model;
      await loadOptimizer(optimizer, join(checkpointDir, 'optimizer.bin'));
    } catch (error) {
      throw new ModelFileError(
        `train: cannot resume from ${checkpointDir} (${(error as Error).message}); ` +
          'delete that folder, or train without --resume, to start afresh',
        { cause: error },
      );
    }
    report.log(`resuming from epoch ${state.epoch + 1}, step ${state.step} (${checkpointDir})`);
  } else {
    if (options.resume) report.log(`no checkpoint in ${checkpointDir}: starting afresh`);
    await rm(checkpointDir, { recursive: true, force: true });
    model =
      options.initFrom === undefined
        ? spec.build(set.windowLength, options.seed)
        : (await loadModel(options.initFrom)).model;
    if (model.name === ENSEMBLE_NAME)
      throw new ConfigError(`train: ${options.initFrom} is an ensemble; fine-tune its members one by one`);
    if (options.initFrom !== undefined) report.log(`starting from the weights of ${options.initFrom}`);
    state = {
      epoch: 0,
      step: 0,
      bestMacroF1: -1,
      bestEpoch: -1,
      stale: 0,
      history: [],
      trainSeconds: 0,
      lossSum: 0,
      lossCount: 0,
    };
  }
  // an explicit, stable variable order: Adam keeps its moments by position
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const weights = options.balance === 'class-weights' ? classWeights(set, split.train) : undefined;
  const validation = beatSetInputs(set, split.validation);

  const checkpoint = async (): Promise<void> => {
    await saveModel(model, checkpointDir);
    await saveOptimizer(optimizer, join(checkpointDir, 'optimizer.bin'));
    await writeJson(join(checkpointDir, 'state.json'), state);
  };

  // `state` always names the next step to run, so any checkpoint resumes exactly there
  while (state.epoch < options.epochs) {
    const entries = epochEntries(set, split.train, options.balance, options.seed, state.epoch);
    const steps = Math.min(Math.ceil(entries.length / options.batchSize), options.maxStepsPerEpoch ?? Infinity);
    const epochStart = performance.now();
    let beatsThisRun = 0;
    while (state.step < steps) {
      const batch = entries.slice(state.step * options.batchSize, (state.step + 1) * options.batchSize);
      const inputs = trainingInputs(set, batch, options.seed * 104729 + state.epoch * 65537 + state.step, {
        augment: options.augment,
        secondLeadDropout: options.secondLeadDropout,
        secondLead: spec.channels === 4,
      });
      const t0 = performance.now();
      const lossTensor = tf.tidy(() => {
        const x = toTensors(inputs, { channels: spec.channels, usesRr: spec.usesRr });
        const y = tf.oneHot(
          tf.tensor1d(
            Int32Array.from(batch, (e) => set.labels[e.index]!),
            'int32',
          ),
          AAMI_CLASSES.length,
        );
        return optimizer.minimize(
          () => {
            const ce = crossEntropy(model.apply(x, { training: true }) as tf.Tensor, y);
            if (weights === undefined) return tf.mean(ce) as tf.Scalar;
            const w = tf.tensor1d(batch.map((e) => weights[set.labels[e.index]!]!));
            return tf.div(tf.sum(tf.mul(ce, w)), tf.sum(w)) as tf.Scalar;
          },
          true,
          variables,
        ) as tf.Scalar;
      });
      const loss = (await lossTensor.data())[0]!;
      lossTensor.dispose();
      state.trainSeconds += (performance.now() - t0) / 1000;
      state.lossSum += loss;
      state.lossCount++;
      beatsThisRun += batch.length;
      state.step++;
      const elapsed = (performance.now() - epochStart) / 1000;
      const rate = beatsThisRun / elapsed;
      const remainingBeats = (steps - state.step + (options.epochs - state.epoch - 1) * steps) * options.batchSize;
      report.progress({
        epoch: state.epoch + 1,
        epochs: options.epochs,
        step: state.step,
        steps,
        loss: state.lossSum / state.lossCount,
        beatsPerSecond: rate,
        etaSeconds: remainingBeats / rate,
      });
      if (state.step % options.checkpointEvery === 0) await checkpoint();
    }
    const probabilities = await predictProbabilities(model, validation);
    const metrics = classificationMetrics(
      Array.from(split.validation, (i) => set.labels[i]!),
      probabilities,
    );
    let validationLoss = 0;
    split.validation.forEach((i, k) => {
      validationLoss -= Math.log(Math.max(1e-7, probabilities[k * AAMI_CLASSES.length + set.labels[i]!]!));
    });
    const record: EpochRecord = {
      epoch: state.epoch + 1,
      trainLoss: state.lossSum / Math.max(1, state.lossCount),
      validationLoss: validationLoss / Math.max(1, split.validation.length),
      validationAccuracy: metrics.accuracy,
      validationMacroF1: metrics.macroF1,
      seconds: (performance.now() - epochStart) / 1000,
      beatsPerSecond: beatsThisRun / ((performance.now() - epochStart) / 1000),
    };
    state.history.push(record);
    state.lossSum = 0;
    state.lossCount = 0;
    report.log(
      `epoch ${record.epoch}: train loss ${record.trainLoss.toFixed(4)}, validation loss ${record.validationLoss.toFixed(4)}, ` +
        `accuracy ${(100 * record.validationAccuracy).toFixed(2)} %, macro F1 ${record.validationMacroF1.toFixed(4)}`,
    );
    const improved = record.validationMacroF1 > state.bestMacroF1;
    if (improved) {
      state.bestMacroF1 = record.validationMacroF1;
      state.bestEpoch = record.epoch;
      state.stale = 0;
    } else {
      state.stale++;
    }
    if (improved || options.keep === 'last') {
      await saveModel(model, options.outDir, {
        ...options.metadata,
        architecture: options.architecture,
        epoch: record.epoch,
        validationMacroF1: record.validationMacroF1,
      });
    }
    state.epoch++;
    state.step = 0;
    await checkpoint();
    if (options.keep === 'best' && state.stale >= options.patience) {
      report.log(
        `early stop: no better validation macro F1 for ${options.patience} epochs (best: epoch ${state.bestEpoch})`,
      );
      break;
    }
  }
  return {
    history: state.history,
    bestEpoch: state.bestEpoch,
    bestMacroF1: state.bestMacroF1,
    trainSeconds: state.trainSeconds,
  };
}
