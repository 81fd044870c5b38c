import * as tf from '@tensorflow/tfjs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MonitorError } from '../errors.js';

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
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  userDefinedMetadata?: Record<string, unknown>;
}

export async function loadModel(dir: string): Promise<{ model: tf.LayersModel; metadata: Record<string, unknown> }> {
  let json: ModelJson;
  try {
    json = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8')) as ModelJson;
  } catch (error) {
    throw new ModelFileError(`${join(dir, 'model.json')}: cannot read a model (${(error as Error).message})`, {
      cause: error,
    });
  }
  const manifest = json.weightsManifest[0];
  if (manifest === undefined) throw new ModelFileError(`${dir}/model.json: no weights manifest`);
  const buffers = await Promise.all(manifest.paths.map((p) => readFile(join(dir, p))));
  const weightData = Buffer.concat(buffers);
  const model = await tf.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: json.modelTopology,
      weightSpecs: manifest.weights,
      weightData: weightData.buffer.slice(
        weightData.byteOffset,
        weightData.byteOffset + weightData.byteLength,
      ) as ArrayBuffer,
    }),
  );
  return { model, metadata: json.userDefinedMetadata ?? {} };
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
  const bytes = await readFile(path);
  const headerLength = bytes.readUInt32LE(0);
  const specs = JSON.parse(bytes.subarray(4, 4 + headerLength).toString('utf8')) as tf.io.WeightsManifestEntry[];
  const data = bytes.buffer.slice(bytes.byteOffset + 4 + headerLength, bytes.byteOffset + bytes.length) as ArrayBuffer;
  const named = tf.io.decodeWeights(data, specs);
  await optimizer.setWeights(specs.map((s) => ({ name: s.name, tensor: named[s.name]! })));
}
