import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { ConfigError, MonitorError } from '../contracts/errors.js';
import { registerFastTrainingGradients } from './gradients.js';

/** TensorFlow.js backends the monitor runs on: tfjs-node's native TensorFlow, wasm, and the (slow) pure-JS cpu one. */
export const BACKENDS = ['tensorflow', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKENDS)[number];

/** `TFJS_BACKEND`, where set: one of BACKENDS, else a ConfigError that lists them. */
export function backendFromEnv(value: string | undefined): BackendName | undefined {
  if (value === undefined || value === '') return undefined;
  const name = BACKENDS.find((b) => b === value);
  if (name === undefined) throw new ConfigError(`TFJS_BACKEND must be one of ${BACKENDS.join(', ')}; got "${value}"`);
  return name;
}

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
    const fromEnv = backendFromEnv(process.env.TFJS_BACKEND);
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
  if (!(await tf.setBackend(name))) throw new MonitorError(`tfjs backend "${name}" failed to initialise`);
  await tf.ready();
  log(`tfjs backend: ${tf.getBackend()}`);
  return name;
}
