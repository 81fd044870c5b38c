import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  mitdbDir,
  readAnnotations,
  readRecord,
  WfdbAnnotationError,
  WfdbFileError,
  WfdbHeaderError,
  WfdbSignalError,
} from '../../stream/wfdb/index.js';

let dir: string;

/** Copies record 100 under a new name and lets the test damage one of its files. */
async function damaged(
  name: string,
  change: { hea?: (t: string) => string; dat?: (b: Buffer) => Buffer; atr?: (b: Buffer) => Buffer },
) {
  const src = mitdbDir();
  const hea = (await readFile(join(src, '100.hea'), 'latin1')).replaceAll('100', name);
  await writeFile(join(dir, `${name}.hea`), change.hea ? change.hea(hea) : hea, 'latin1');
  const dat = await readFile(join(src, '100.dat'));
  await writeFile(join(dir, `${name}.dat`), change.dat ? change.dat(dat) : dat);
  const atr = await readFile(join(src, '100.atr'));
  await writeFile(join(dir, `${name}.atr`), change.atr ? change.atr(atr) : atr);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wfdb-corrupt-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('corrupt WFDB input gives a clear error naming the file', () => {
  it('truncated .dat', async () => {
    await damaged('t1', { dat: (b) => b.subarray(0, b.length - 3000) });
    const error = await readRecord(dir, 't1').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WfdbSignalError);
    expect((error as Error).message).toMatch(/t1\.dat: truncated: the header announces 650000 samples/);
  });

  it('flipped bytes in .dat fail the checksum', async () => {
    // byte 500001 = 3 * 166667: the low byte of an MLII sample
    await damaged('t2', { dat: (b) => Buffer.from(b.map((v, i) => (i === 500_001 ? v ^ 0x10 : v))) });
    await expect(readRecord(dir, 't2')).rejects.toThrow(
      /t2\.dat: signal "MLII": checksum -?\d+ differs from the header's -22131/,
    );
  });

  it('garbage .hea', async () => {
    await damaged('t3', { hea: () => 'this is not\na header at all\n' });
    const error = await readRecord(dir, 't3').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WfdbHeaderError);
    expect((error as Error).message).toMatch(/t3\.hea: line 1, number of signals: expected an integer, found "is"/);
  });

  it('odd-length .atr', async () => {
    await damaged('t4', { atr: (b) => b.subarray(0, b.length - 1) });
    const error = await readAnnotations(dir, 't4').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WfdbAnnotationError);
    expect((error as Error).message).toMatch(/t4\.atr: byte \d+: odd length/);
  });

  it('missing files', async () => {
    await copyFile(join(mitdbDir(), '100.hea'), join(dir, 'lonely.hea'));
    await expect(readRecord(dir, 'lonely')).rejects.toThrow(/100\.dat: file not found/);
    await expect(readAnnotations(dir, 'lonely')).rejects.toThrow(/lonely\.atr: file not found/);
    await expect(readRecord(dir, 'nothing')).rejects.toBeInstanceOf(WfdbFileError);
  });
});
