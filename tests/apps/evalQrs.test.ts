import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { readAnnotations } from '../../stream/wfdb/index.js';
import { evaluateQrsRecord } from '../../stream/eval/qrsEval.js';
import { mitdbDir } from '../../stream/wfdb/index.js';
import { copyRecord, truncated } from '../helpers/records.js';

const run = promisify(execFile);
const cli = (...args: string[]) =>
  run(process.execPath, ['--import', 'tsx', 'apps/evalQrs.ts', ...args], { encoding: 'utf8' });
const dirs: string[] = [];
afterAll(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

describe('npm run eval:qrs', () => {
  it('--json prints one object with gross Se/+P and delay percentiles, and writes MIT .qrs files', async () => {
    const out = await mkdtemp(join(tmpdir(), 'qrs-'));
    dirs.push(out);
    const { stdout } = await cli('--records', '100,208', '--json', '--write-annotations', out);
    const report = JSON.parse(stdout) as {
      gross: Record<string, number>;
      delayMs: Record<string, number>;
      records: { record: string; tp: number; fp: number }[];
    };
    expect(Object.keys(report.gross).sort()).toEqual(['fn', 'fp', 'ppv', 'se', 'tp']);
    expect(report.gross.se).toBeGreaterThan(99);
    expect(report.delayMs.p50).toBeGreaterThan(0);
    expect(report.delayMs.p99).toBeGreaterThanOrEqual(report.delayMs.p50!);
    expect(report.records.map((r) => r.record)).toEqual(['100', '208']);

    // the written annotations read back through our own reader as exactly the detections
    const written = await readAnnotations(out, '208', 'qrs');
    const direct = await evaluateQrsRecord(mitdbDir(), '208');
    expect(written.map((a) => a.sample)).toEqual(direct.detections.map((d) => Math.round(d.sourceSample)));
    expect(new Set(written.map((a) => a.symbol))).toEqual(new Set(['N']));
  });

  it('scores the records it can read and names the ones it cannot, exiting 1', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'qrs-unreadable-'));
    dirs.push(dir);
    await copyRecord(dir, 'sound');
    await copyRecord(dir, 'cut', { dat: truncated });
    const failed = await cli('--dir', dir, '--json').catch((e: { code: number; stdout: string; stderr: string }) => e);
    expect(failed).toMatchObject({ code: 1 });
    const { stdout, stderr } = failed as { stdout: string; stderr: string };
    const report = JSON.parse(stdout) as {
      records: { record: string }[];
      unreadableRecords: { record: string; reason: string }[];
    };
    expect(report.records.map((r) => r.record)).toEqual(['sound']);
    expect(report.unreadableRecords).toEqual([
      { record: 'cut', reason: expect.stringMatching(/cut\.dat: truncated/) as string },
    ]);
    expect(stderr).toContain('eval:qrs: cut not scored:');
  });

  it('a wrong flag or record exits 2 with one clear line', async () => {
    const bad = await cli('--record', '100').catch((e: { code: number; stderr: string }) => e);
    expect(bad).toMatchObject({ code: 2 });
    expect((bad as { stderr: string }).stderr).toMatch(
      /^error: eval:qrs: Unknown option '--record'.*Valid flags: --records/,
    );
    const unknown = await cli('--records', '110').catch((e: { code: number; stderr: string }) => e);
    expect(unknown).toMatchObject({ code: 2 });
    expect((unknown as { stderr: string }).stderr).toContain('unknown record(s) 110');
    const twice = await cli('--records', '100,208,100').catch((e: { code: number; stderr: string }) => e);
    expect(twice).toMatchObject({ code: 2 });
    expect((twice as { stderr: string }).stderr).toContain('eval:qrs: record(s) 100 given more than once');
  });
});
