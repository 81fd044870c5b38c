import { readdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../contracts/errors.js';
import { WfdbFileError } from './errors.js';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** A database's folder in the shared data beside the checkout (`../shared/data/<db>`). */
export function sharedDataDir(db: string): string {
  return resolve(REPO_ROOT, '..', 'shared', 'data', db);
}

/** Where MIT-BIH records are read from: `MITDB_DIR`, else the shared data beside the checkout. */
export function mitdbDir(): string {
  return process.env.MITDB_DIR ?? sharedDataDir('mitdb');
}

/** Where the Noise Stress Test Database's noise records are read from: `NSTDB_DIR`, else beside mitdb's. */
export function nstdbDir(): string {
  return process.env.NSTDB_DIR ?? sharedDataDir('nstdb');
}

/** Record names (headers) in a directory, sorted. */
export async function listRecords(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    throw new WfdbFileError(dir, 'record directory not found: set MITDB_DIR to the MIT-BIH records', error);
  }
  const records = names.filter((n) => n.endsWith('.hea')).map((n) => n.slice(0, -4));
  if (records.length === 0) throw new WfdbFileError(dir, 'no WFDB headers (*.hea) in this directory');
  return records.sort();
}

/**
 * The records a command was asked for (`--records 100,208`), checked against those in `dir`;
 * all of them when `list` is undefined. An unknown name is a ConfigError listing the valid ones,
 * and so is a name given twice.
 */
export async function selectRecords(dir: string, list: string | undefined, command: string): Promise<string[]> {
  const available = await listRecords(dir);
  if (list === undefined) return available;
  const records = list
    .split(',')
    .map((r) => r.trim())
    .filter(Boolean);
  if (records.length === 0)
    throw new ConfigError(`${command}: --records names no record; available: ${available.join(' ')}`);
  const unknown = records.filter((r) => !available.includes(r));
  if (unknown.length > 0) {
    throw new ConfigError(
      `${command}: unknown record(s) ${unknown.join(', ')} in ${dir}; available: ${available.join(' ')}`,
    );
  }
  // one record is one bed, one patient: given twice it would be scored twice (or, in validate, two
  // replays would interleave under one bed)
  const repeated = records.filter((r, i) => records.indexOf(r) !== i);
  if (repeated.length > 0)
    throw new ConfigError(`${command}: record(s) ${[...new Set(repeated)].join(', ')} given more than once`);
  return records;
}
