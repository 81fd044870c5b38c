import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAnnotations, type Annotation } from './annotation.js';
import { WfdbFileError } from './errors.js';
import { parseHeader, type WfdbHeader } from './header.js';
import { decodeSignalFile, type WfdbSignal } from './signal.js';
import { monitoringLeadOf, secondLeadOf, signalKindOf, type NamedSignal } from '../contracts/signals.js';
import { WfdbHeaderError } from './errors.js';

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

/** A record's signals by name and kind (from their description and units). */
export function recordSignals(header: WfdbHeader): NamedSignal[] {
  return header.signals.map((s) => ({
    name: s.description || s.fileName,
    kind: signalKindOf(s.description, s.units),
  }));
}

/** `monitoringLeadOf` a record's signals; a record without an ECG lead is a header error naming them. */
export function monitoringLeadIndex(header: WfdbHeader): number {
  const signals = recordSignals(header);
  const index = monitoringLeadOf(signals);
  if (index < 0)
    throw new WfdbHeaderError(
      `${header.recordName}.hea`,
      2,
      'signal descriptions',
      `no ECG lead among ${signals.map((s) => `${s.name} (${s.kind})`).join(', ')}`,
    );
  return index;
}

/** `secondLeadOf` a record's signals. */
export function secondLeadIndex(header: WfdbHeader): number | undefined {
  return secondLeadOf(recordSignals(header));
}
