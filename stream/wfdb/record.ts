import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAnnotations, type Annotation } from './annotation.js';
import { WfdbFileError } from './errors.js';
import { parseHeader, type WfdbHeader } from './header.js';
import { decodeSignalFile, type WfdbSignal } from './signal.js';

export interface WfdbRecord {
  readonly header: WfdbHeader;
  readonly signals: readonly WfdbSignal[];
}

async function readBytes(path: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'file not found' : `cannot read (${code ?? String(error)})`;
    throw new WfdbFileError(path, reason, error);
  }
}

export async function readHeader(dir: string, record: string): Promise<WfdbHeader> {
  const path = join(dir, `${record}.hea`);
  const bytes = await readBytes(path);
  return parseHeader(new TextDecoder('latin1').decode(bytes), path);
}

/** Reads a record's header and every signal, verifying first values and checksums. */
export async function readRecord(dir: string, record: string): Promise<WfdbRecord> {
  const header = await readHeader(dir, record);
  const byFile = new Map<string, number[]>();
  header.signals.forEach((spec, index) => {
    byFile.set(spec.fileName, [...(byFile.get(spec.fileName) ?? []), index]);
  });
  const signals: WfdbSignal[] = new Array<WfdbSignal>(header.signals.length);
  for (const [fileName, indices] of byFile) {
    const path = join(dir, fileName);
    const decoded = decodeSignalFile(header, indices, await readBytes(path), path);
    decoded.forEach((signal, k) => {
      signals[indices[k] ?? 0] = signal;
    });
  }
  return { header, signals };
}

/** Reads `REC.<extension>` (e.g. `atr`, `qrs`) from `dir`. */
export async function readAnnotations(dir: string, record: string, extension = 'atr'): Promise<Annotation[]> {
  const path = join(dir, `${record}.${extension}`);
  return parseAnnotations(await readBytes(path), path);
}

/**
 * The monitoring lead among a recording's lead names (DESIGN.md): MLII where it is named
 * (record 114 stores it second), otherwise the first. Records and live frames both use it.
 */
export function monitoringLeadOf(names: readonly string[]): number {
  const index = names.findIndex((name) => name.trim().toUpperCase() === 'MLII');
  return index === -1 ? 0 : index;
}

/** The first lead other than the monitoring one, if there are two or more. */
export function secondLeadOf(names: readonly string[]): number | undefined {
  const monitoring = monitoringLeadOf(names);
  const index = names.findIndex((_, i) => i !== monitoring);
  return index === -1 ? undefined : index;
}

/** `monitoringLeadOf` a record's signals. */
export function monitoringLeadIndex(header: WfdbHeader): number {
  return monitoringLeadOf(header.signals.map((s) => s.description));
}

/** `secondLeadOf` a record's signals. */
export function secondLeadIndex(header: WfdbHeader): number | undefined {
  return secondLeadOf(header.signals.map((s) => s.description));
}
