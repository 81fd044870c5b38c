import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMonitor, runScript } from '../helpers/cli.js';
import { copyRecord, truncated } from '../helpers/records.js';
import { mitdbDir, sha256 } from '../../stream/wfdb/index.js';

// a record folder with one sound record (a copy of 100) and one whose signal file is cut short
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'unreadable-'));
  await copyRecord(dir, 'sound');
  await copyRecord(dir, 'cut', { dat: truncated });
  // the folder's checksum list names what the files were before cut.dat was damaged
  const sums = await Promise.all(
    ['sound.hea', 'sound.dat', 'sound.atr', 'cut.hea', 'cut.atr'].map(
      async (name) => `${sha256(await readFile(join(dir, name)))}  ${name}\n`,
    ),
  );
  const whole = sha256(await readFile(join(mitdbDir(), '100.dat')));
  await writeFile(join(dir, 'SHA256SUMS'), `${sums.join('')}${whole}  cut.dat\n`);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('a record that cannot be read costs only its own bed', () => {
  it('npm start names it, monitors the other beds and ends with status 1', async () => {
    const run = await runMonitor(['start', '--records', 'cut,sound', '--speed', '20', '--duration', '16'], {
      MITDB_DIR: dir,
    });
    expect(run.stderr).toMatch(/start: bed-01 \(mitdb\/cut\) left out: .*cut\.dat: truncated: the header announces/);
    expect(run.stderr).toContain('start: bed-02 = mitdb/sound');
    expect(run.stdout).toMatch(/bed-02 +HR +\d+ +beats +\d+/);
    expect(run.stdout).not.toMatch(/bed-01 +HR/);
    expect(run.code).toBe(1);

    const none = await runMonitor(['start', '--records', 'cut'], { MITDB_DIR: dir });
    expect(none.stderr).toMatch(/error: start: none of the beds' records could be read\n$/);
    expect(none.code).toBe(2);
  }, 90_000);

  it('validate scores the records it can read, lists the others with their reason and ends with status 1', async () => {
    const report = join(dir, 'validate.html');
    const beats = join(dir, 'beats.csv');
    const run = await runScript(
      'apps/validate.ts',
      ['--records', 'cut,sound', '--speed', 'max', '--json', '--report', report, '--beats', beats],
      { MITDB_DIR: dir },
      120_000,
    );
    const result = JSON.parse(run.stdout) as {
      records: number;
      qrs: { tp: number; se: number };
      perRecord: { record: string }[];
      unreadableRecords: { record: string; reason: string }[];
      recordFiles: unknown;
    };
    expect(result.perRecord.map((r) => r.record)).toEqual(['mitdb/sound']);
    expect(result.qrs.tp).toBeGreaterThan(2000);
    expect(result.unreadableRecords).toEqual([
      { record: 'mitdb/cut', reason: expect.stringMatching(/cut\.dat: truncated/) as string },
    ]);
    expect(run.stderr).toContain('validate: mitdb/cut not scored:');
    expect(run.code).toBe(1);
    // the report says which of the replayed records' files are the listed bytes
    expect(result.recordFiles).toEqual({
      summary: 'differ',
      checksumList: join(dir, 'SHA256SUMS'),
      verified: 5,
      mismatched: ['cut.dat'],
      unlisted: [],
      problem: null,
    });
    expect(run.stderr).toContain(`validate: 5 match ${join(dir, 'SHA256SUMS')}; 1 differ from it (cut.dat)`);
    expect(await readFile(report, 'utf8')).toContain('Record files: <b>5 match');
    // the per-beat file holds the scored record's beats, which add up to its QRS figures
    const rows = (await readFile(beats, 'utf8'))
      .trimEnd()
      .split('\n')
      .slice(1)
      .map((r) => r.split(','));
    expect(new Set(rows.map((r) => r[0]))).toEqual(new Set(['sound']));
    const matched = rows.filter(([, referenceSample, sample]) => referenceSample !== '' && sample !== '');
    expect(matched.length).toBe(result.qrs.tp);
  }, 150_000);
});
