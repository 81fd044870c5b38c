import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { registerFastTrainingGradients } from './gradients.js';

export type BackendName = 'tensorflow' | 'wasm' | 'cpu';

let chosen: Promise<BackendName> | undefined;

/**
 * Picks the TensorFlow.js backend once per process: tfjs-node (native TensorFlow) when it is
 * installed and loads, otherwise wasm. The choice is logged, and benchmarks print it.
 * `preferred` forces one (tests compare wasm against cpu).
 */
export function initBackend(
  preferred?: BackendName,
  log: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
): Promise<BackendName> {
  if (preferred !== undefined) return setBackend(preferred, log);
  chosen ??= (async () => {
    const fromEnv = process.env.TFJS_BACKEND as BackendName | undefined;
    if (fromEnv !== undefined) return setBackend(fromEnv, log);
    try {
      // optional: `npm install @tensorflow/tfjs-node` where libtensorflow can be downloaded
      const nodeBackend = '@tensorflow/tfjs-node';
      await import(nodeBackend);
      return await setBackend('tensorflow', log);
    } catch (error) {
      log(`tfjs backend: tfjs-node not available (${(error as Error).message.split('\n')[0]}); using wasm`);
      return setBackend('wasm', log);
    }
  })();
  return chosen;
}

async function setBackend(name: BackendName, log: (line: string) => void): Promise<BackendName> {
  if (name === 'wasm') {
    await import('@tensorflow/tfjs-backend-wasm');
    const require = createRequire(import.meta.url);
    setWasmPaths(`${dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'))}/`);
    registerFastTrainingGradients();
  }
  if (!(await tf.setBackend(name))) throw new Error(`tfjs backend "${name}" failed to initialise`);
  await tf.ready();
  log(`tfjs backend: ${tf.getBackend()}`);
  return name;
}
