import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The model the monitor loads by default, committed with its model card. */
export const SHIPPED_MODEL_DIR = resolve(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'models',
  'beat-classifier',
);
