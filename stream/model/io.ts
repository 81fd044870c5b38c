import * as tf from '@tensorflow/tfjs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DEFAULT_BEAT_WINDOW } from '../dsp/index.js';
import { MonitorError } from '../contracts/errors.js';
import { ruleOf } from './decision.js';

/** Problems reading a saved model: never retriable, always naming the directory. */
export class ModelFileError extends MonitorError {}

/**
 * Saves a layers model as TensorFlow.js's standard `model.json` + `weights.bin` (loadable by
 * tf.loadLayersModel in browsers and tfjs-node too), without needing tfjs-node's file handler.
 * `metadata` goes into model.json's userDefinedMetadata. Files are replaced atomically.
 */
export async function saveModel(
  model: tf.LayersModel,
  dir: string,
  metadata: Record<string, unknown> = {},
): Promise<void> {
  await mkdir(dir, { recursive: true });
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      if (!(artifacts.weightData instanceof ArrayBuffer)) throw new Error('expected one weight buffer');
      const json = {
        format: 'layers-model',
        generatedBy: `TensorFlow.js tfjs-layers v${tf.version.tfjs}`,
        convertedBy: null,
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
        userDefinedMetadata: metadata,
      };
      await writeFile(join(dir, 'weights.bin.tmp'), Buffer.from(artifacts.weightData));
      await writeFile(join(dir, 'model.json.tmp'), `${JSON.stringify(json)}\n`);
      await rename(join(dir, 'weights.bin.tmp'), join(dir, 'weights.bin'));
      await rename(join(dir, 'model.json.tmp'), join(dir, 'model.json'));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
}

interface ModelJson {
  modelTopology: object;
  weightsManifest?: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  userDefinedMetadata?: Record<string, unknown>;
}

/**
 * What `ensemble.json` holds: member directories (relative to it), each a saved model, and the
 * ensemble's own metadata (model id, decision rule).
 */
export interface EnsembleJson {
  readonly members: readonly string[];
  readonly metadata: Record<string, unknown>;
}

/** The file that makes a model directory an ensemble. */
export const ENSEMBLE_FILE = 'ensemble.json';

/** Prefix of an ensemble's member models' names (`member_0`, ...), which Grad-CAM looks for. */
export const MEMBER_PREFIX = 'member_';

/**
 * The R index of the windows a model was trained on (`rIndex` in its metadata; the default for
 * a model saved without one). Every user cuts the model's beats at it.
 */
export function rIndexOf(metadata: Record<string, unknown>): number {
  return typeof metadata.rIndex === 'number' ? metadata.rIndex : DEFAULT_BEAT_WINDOW.rIndex;
}

/**
 * The R index of each window a model takes, the first one's first (`windowLayout` turns them
 * into what a bed cuts). One for a single model and for an ensemble whose members share their R
 * index; an ensemble of members trained at different R indices saves each index once
 * (`rIndices`), in the order of its members, and every member reads the window of its own.
 */
export function rIndicesOf(metadata: Record<string, unknown>): number[] {
  const saved = metadata.rIndices;
  return Array.isArray(saved) && saved.length > 0 && saved.every((r) => Number.isInteger(r))
    ? (saved as number[])
    : [rIndexOf(metadata)];
}

/**
 * The part of an ensemble's window input that one member reads: block `block` of `width`
 * samples, the window with the R peak at `rIndex` that the member was trained on. The
 * ensemble's input holds its blocks one after another (`windowLayout`).
 */
export class WindowBlock extends tf.layers.Layer {
  static readonly className = 'WindowBlock';
  readonly block: number;
  readonly width: number;
  readonly rIndex: number;

  constructor(config: { block: number; width: number; rIndex: number; name: string }) {
    super({ name: config.name, trainable: false });
    this.block = config.block;
    this.width = config.width;
    this.rIndex = config.rIndex;
  }

  override computeOutputShape(shape: tf.Shape | tf.Shape[]): tf.Shape {
    const s = (Array.isArray(shape[0]) ? shape[0] : shape) as tf.Shape;
    return [s[0]!, this.width, s[2]!];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0]! : inputs;
    return tf.slice(x, [0, this.block * this.width, 0], [-1, this.width, -1]);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), block: this.block, width: this.width, rIndex: this.rIndex };
  }
}

/** The file that holds a saved model's metadata (and its decision rule). */
export function metadataFile(dir: string, ensemble: boolean): string {
  return join(dir, ensemble ? ENSEMBLE_FILE : 'model.json');
}

/** The name of the model `loadModel` makes of an ensemble. */
export const ENSEMBLE_NAME = 'ensemble';

/**
 * Loads a saved model, or an ensemble (a directory with `ensemble.json`) as one model whose
 * output is the average of its members' class probabilities, so every user of a model
 * (pipeline, evaluation, benchmarks) takes either.
 */
export async function loadModel(dir: string): Promise<{ model: tf.LayersModel; metadata: Record<string, unknown> }> {
  const ensemble = await readFile(join(dir, ENSEMBLE_FILE), 'utf8').then(
    (text) => text,
    () => undefined,
  );
  const loaded = ensemble === undefined ? await loadSingle(dir) : await loadEnsemble(dir, ensemble);
  // a decision rule with a value no step accepts refuses the model here, naming its file and field
  ruleOf(loaded.metadata, metadataFile(dir, ensemble !== undefined));
  // a network of another input length would be fed the monitor's windows and fail at its first
  // beat, deep inside tfjs: refuse it here, with its path
  const blocks = rIndicesOf(loaded.metadata).length;
  const takes = Number(loaded.model.inputs[0]?.shape[1]) / blocks;
  if (takes !== DEFAULT_BEAT_WINDOW.length)
    throw new ModelFileError(
      `${dir}: the model takes windows of ${takes} samples; the monitor gives each network ${DEFAULT_BEAT_WINDOW.length} (125 Hz)`,
    );
  return loaded;
}

async function loadEnsemble(
  dir: string,
  text: string,
): Promise<{ model: tf.LayersModel; metadata: Record<string, unknown> }> {
  const path = join(dir, ENSEMBLE_FILE);
  let json: EnsembleJson;
  try {
    json = JSON.parse(text) as EnsembleJson;
  } catch (error) {
    throw new ModelFileError(`${path}: not JSON (${(error as Error).message})`, { cause: error });
  }
  if (!Array.isArray(json.members) || json.members.length < 2)
    throw new ModelFileError(`${path}: an ensemble needs at least two members`);
  if (json.members.some((m) => typeof m !== 'string'))
    throw new ModelFileError(`${path}: members must be directory names`);
  const members = await Promise.all(
    json.members.map((member, k) => loadSingle(join(dir, member), `${MEMBER_PREFIX}${k}`)),
  );
  const first = members[0]!.model;
  const shapes = members.map((m) => JSON.stringify(m.model.inputs.map((i) => i.shape)));
  if (shapes.some((shape) => shape !== shapes[0]))
    throw new ModelFileError(`${path}: members take different inputs (${shapes.join(' vs ')})`);
  const metadata = json.metadata ?? {};
  const rIndices = rIndicesOf(metadata);
  const blockOf = members.map((m) => rIndices.indexOf(rIndexOf(m.metadata)));
  // every window the beds would cut must be one a member reads, each once
  if (blockOf.some((b) => b < 0) || rIndices.some((_, b) => blockOf.filter((k) => k === b).length === 0))
    throw new ModelFileError(
      `${path}: members take windows with the R peak at ${members.map((m) => rIndexOf(m.metadata)).join(', ')}, the ensemble at ${rIndices.join(', ')}`,
    );
  const [windowInput, ...rest] = first.inputs;
  const width = windowInput!.shape[1]!;
  const [, ...channels] = windowInput!.shape.slice(1) as number[];
  // one block per R index, one after another in the window input (windowLayout)
  const inputs = [
    tf.input({ shape: [width * rIndices.length, ...channels], name: windowInput!.name.split('/')[0]! }),
    ...rest.map((i) => tf.input({ shape: i.shape.slice(1) as number[], name: i.name.split('/')[0]! })),
  ];
  const blocks =
    rIndices.length === 1
      ? [inputs[0]!]
      : rIndices.map(
          (rIndex, block) =>
            new WindowBlock({ block, width, rIndex, name: `window_block_${block}` }).apply(
              inputs[0]!,
            ) as tf.SymbolicTensor,
        );
  const outputs = members.map((m, k) => m.model.apply([blocks[blockOf[k]!]!, ...inputs.slice(1)]) as tf.SymbolicTensor);
  const model = tf.model({
    inputs,
    outputs: tf.layers.average({ name: 'probabilities' }).apply(outputs) as tf.SymbolicTensor,
    name: ENSEMBLE_NAME,
  });
  return { model, metadata };
}

async function loadSingle(
  dir: string,
  name?: string,
): Promise<{ model: tf.LayersModel; metadata: Record<string, unknown> }> {
  let json: ModelJson;
  try {
    json = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8')) as ModelJson;
  } catch (error) {
    throw new ModelFileError(`${join(dir, 'model.json')}: cannot read a model (${(error as Error).message})`, {
      cause: error,
    });
  }
  // an ensemble's members share their architecture's name; the ensemble needs them distinct
  const topology = name === undefined ? json.modelTopology : renamed(json.modelTopology, name);
  const manifest = json.weightsManifest?.[0];
  if (manifest === undefined) throw new ModelFileError(`${dir}/model.json: no weights manifest`);
  // a damaged model must fail here, with its path, not deep inside tfjs or at the first beat
  try {
    const weightData = Buffer.concat(await Promise.all(manifest.paths.map((p) => readFile(join(dir, p)))));
    const expected = manifest.weights.reduce((bytes, w) => bytes + weightBytes(w), 0);
    if (weightData.byteLength !== expected)
      throw new Error(
        `${manifest.paths.join(', ')} holds ${weightData.byteLength} bytes, the manifest needs ${expected}`,
      );
    const model = await tf.loadLayersModel(
      tf.io.fromMemory({
        modelTopology: topology,
        weightSpecs: manifest.weights,
        weightData: weightData.buffer.slice(
          weightData.byteOffset,
          weightData.byteOffset + weightData.byteLength,
        ) as ArrayBuffer,
      }),
    );
    return { model, metadata: json.userDefinedMetadata ?? {} };
  } catch (error) {
    throw new ModelFileError(`${dir}: cannot load the model (${(error as Error).message})`, { cause: error });
  }
}

/** Bytes a weight takes in weights.bin: its element count times its (quantised or plain) size. */
function weightBytes(spec: tf.io.WeightsManifestEntry): number {
  const count = spec.shape.reduce((n, d) => n * d, 1);
  if (spec.quantization !== undefined) return count * (spec.quantization.dtype === 'uint8' ? 1 : 2);
  return count * (spec.dtype === 'bool' ? 1 : 4);
}

function renamed(topology: object, name: string): object {
  const t = topology as { config?: Record<string, unknown> };
  if (t.config === undefined) return topology;
  return { ...topology, config: { ...t.config, name } };
}

/** Optimizer state (Adam moments, step count) so training resumes where it was killed. */
export async function saveOptimizer(optimizer: tf.Optimizer, path: string): Promise<void> {
  const { data, specs } = await tf.io.encodeWeights(await optimizer.getWeights());
  const header = Buffer.from(JSON.stringify(specs));
  const length = Buffer.alloc(4);
  length.writeUInt32LE(header.length);
  await writeFile(`${path}.tmp`, Buffer.concat([length, header, Buffer.from(data as ArrayBuffer)]));
  await rename(`${path}.tmp`, path);
}

export async function loadOptimizer(optimizer: tf.Optimizer, path: string): Promise<void> {
  try {
    const bytes = await readFile(path);
    const headerLength = bytes.readUInt32LE(0);
    const specs = JSON.parse(bytes.subarray(4, 4 + headerLength).toString('utf8')) as tf.io.WeightsManifestEntry[];
    const data = bytes.buffer.slice(
      bytes.byteOffset + 4 + headerLength,
      bytes.byteOffset + bytes.length,
    ) as ArrayBuffer;
    const expected = specs.reduce((n, spec) => n + weightBytes(spec), 0);
    if (data.byteLength !== expected)
      throw new Error(`holds ${data.byteLength} bytes of state, its header needs ${expected}`);
    const named = tf.io.decodeWeights(data, specs);
    await optimizer.setWeights(specs.map((s) => ({ name: s.name, tensor: named[s.name]! })));
  } catch (error) {
    throw new ModelFileError(`${path}: ${(error as Error).message}`, { cause: error });
  }
}
