/**
 * Classifier speed on one core: inference beats/s at batch 1, 32 and 256 and Grad-CAM ms per
 * beat, for every architecture (random weights: speed does not depend on them) and the shipped
 * model, on the backend chosen at start-up (TFJS_BACKEND=cpu|wasm|tensorflow forces one).
 *   npm run bench:model [-- --seconds 3]
 */
import * as tf from '@tensorflow/tfjs';
import { parseCommandLine, positiveNumber, runMain } from '../apps/cli.js';
import { ARCHITECTURES } from '../stream/model/architectures.js';
import { initBackend } from '../stream/model/backend.js';
import { GradCam } from '../stream/model/gradcam.js';
import { emptyInputs, predictProbabilities, type BatchInputs } from '../stream/model/inference.js';
import { loadModel } from '../stream/model/io.js';
import { SHIPPED_MODEL_DIR } from '../stream/model/shipped.js';
import { machineLine } from './machine.js';

/** A batch of beat-like inputs shaped for `model`: one window block of 187 samples per R index it takes. */
function syntheticInputs(count: number, model: tf.LayersModel, width = 187): BatchInputs {
  const inputs = emptyInputs(count, width, (model.inputs[0]!.shape[1] as number) / width);
  inputs.window.forEach((_, i) => {
    const v = 0.5 + 0.4 * Math.sin(i / 7) * Math.exp(-(((i % width) - 62) ** 2) / 50);
    inputs.window[i] = v;
    inputs.secondWindow[i] = v;
    inputs.diff[i] = v - 0.5;
    inputs.secondDiff[i] = v - 0.5;
  });
  inputs.rr.forEach((_, i) => (inputs.rr[i] = i % 3 === 2 ? 1 : 0.8));
  inputs.rrBaseline.fill(0.8);
  return inputs;
}

/** Repeats `run` for about `seconds` after one warm-up call; returns seconds per call. */
async function timePerCall(run: () => Promise<unknown>, seconds: number): Promise<number> {
  await run();
  let calls = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000 || calls < 3) {
    await run();
    calls++;
  }
  return (performance.now() - t0) / 1000 / calls;
}

async function benchModel(name: string, model: tf.LayersModel, seconds: number): Promise<void> {
  const figures: string[] = [];
  for (const batch of [1, 32, 256]) {
    const inputs = syntheticInputs(batch, model);
    const s = await timePerCall(() => predictProbabilities(model, inputs, batch), seconds);
    figures.push(`batch ${batch}: ${(batch / s).toFixed(0)} beats/s`);
  }
  const cam = new GradCam(model);
  for (const batch of [1, 32]) {
    const inputs = syntheticInputs(batch, model);
    const s = await timePerCall(async () => cam.explain(inputs, new Array<number>(batch).fill(2)), seconds);
    figures.push(`Grad-CAM batch ${batch}: ${((s * 1000) / batch).toFixed(2)} ms/beat`);
  }
  console.log(`${name.padEnd(28)} ${model.countParams().toLocaleString('en')} params | ${figures.join(' | ')}`);
}

async function main(): Promise<void> {
  const { values } = parseCommandLine('bench:model', process.argv.slice(2), { seconds: { type: 'string' } });
  const seconds = positiveNumber('bench:model', 'seconds', values.seconds ?? '3');
  const backend = await initBackend(undefined, () => undefined);
  console.log(`bench:model | backend ${backend} | ${machineLine()} | one core, ~${seconds} s per figure`);
  for (const [name, spec] of Object.entries(ARCHITECTURES)) await benchModel(name, spec.build(187, 1), seconds);
  const shipped = await loadModel(SHIPPED_MODEL_DIR).catch((error: Error) => {
    console.log(`shipped model: not measured (${error.message})`);
    return undefined;
  });
  if (shipped !== undefined) await benchModel(`shipped (${String(shipped.metadata.modelId)})`, shipped.model, seconds);
}

runMain(main);
