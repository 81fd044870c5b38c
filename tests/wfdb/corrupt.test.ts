import { copyFile, mkdtemp, rm } from 'node:fs/promises';
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
import { loadBeds } from '../../simulators/replay.js';
import { copyRecord, truncated, type RecordDamage } from '../helpers/records.js';

let dir: string;

const damaged = (name: string, damage: RecordDamage) => copyRecord(dir, name, damage);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wfdb-corrupt-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('corrupt WFDB input gives a clear error naming the file', () => {
  it('truncated .dat', async () => {
    await damaged('t1', { dat: truncated });
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

  it('a replay sets a corrupt record aside with its reason and loads the others', async () => {
    await damaged('r1', {});
    await damaged('r2', { dat: truncated });
    await damaged('r3', { atr: (b) => b.subarray(0, b.length - 1) });
    const beds = ['r1', 'r2', 'r3'].map((record) => ({ bedId: `bed-${record}`, record }));
    const { loaded, unreadable } = await loadBeds(dir, beds);
    expect(loaded.map((b) => b.source)).toEqual(['mitdb/r1']);
    expect(loaded[0]!.annotations.length).toBeGreaterThan(2000);
    expect(unreadable.map((u) => [u.bed.bedId, u.source, u.reason])).toEqual([
      ['bed-r2', 'mitdb/r2', expect.stringMatching(/r2\.dat: truncated/)],
      ['bed-r3', 'mitdb/r3', expect.stringMatching(/r3\.atr: byte \d+: odd length/)],
    ]);
  });

  it('a header no device writes (rate 1e999, 80 Hz, no signal, a negative gain) costs only its own record', async () => {
    const headers: Record<string, (text: string) => string> = {
      h1: (t) => t.replace(/^(\S+) 2 360/m, '$1 2 1e999'),
      h2: (t) => t.replace(/^(\S+) 2 360/m, '$1 2 80'),
      h3: (t) => t.split(/\r?\n/)[0]!.replace(/^(\S+) 2 /, '$1 0 '),
      h4: (t) => t.replace(/ 212 200 /, ' 212 -200 '),
    };
    for (const [name, edit] of Object.entries(headers)) await damaged(name, { hea: edit });
    await damaged('fine', {});
    const beds = [...Object.keys(headers), 'fine'].map((record) => ({ bedId: `bed-${record}`, record }));
    const { loaded, unreadable } = await loadBeds(dir, beds);
    expect(loaded.map((b) => b.source)).toEqual(['mitdb/fine']);
    expect(unreadable.map((u) => u.reason)).toEqual([
      expect.stringMatching(/h1\.hea: line 1, sampling frequency: Infinity Hz: the monitor reads 100 to 2000 Hz/),
      expect.stringMatching(/h2\.hea: line 1, sampling frequency: 80 Hz/),
      expect.stringMatching(/h3\.hea: line 1, number of signals: 0/),
      expect.stringMatching(/h4\.hea: line 2, ADC gain: -200/),
    ]);
  });

  it('missing files', async () => {
    await copyFile(join(mitdbDir(), '100.hea'), join(dir, 'lonely.hea'));
    await expect(readRecord(dir, 'lonely')).rejects.toThrow(/100\.dat: file not found/);
    await expect(readAnnotations(dir, 'lonely')).rejects.toThrow(/lonely\.atr: file not found/);
    await expect(readRecord(dir, 'nothing')).rejects.toBeInstanceOf(WfdbFileError);
  });
});
