import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inspectBeats, leadShapeSummary, qrsCorrelationToNormal } from '../../stream/model/inspection.js';
import { initBackend } from '../../stream/model/backend.js';
import { SHIPPED_MODEL_DIR } from '../../stream/model/shipped.js';
import { codeForSymbol, mitdbDir, type Annotation } from '../../stream/wfdb/index.js';

const FS = 360;
const beat = (symbol: string, sample: number): Annotation => ({
  sample,
  code: codeForSymbol(symbol),
  symbol,
  subtype: 0,
  channel: 0,
  num: 0,
  aux: '',
});

/** One beat a second: upright narrow QRS, except the listed beats, which are inverted and wide. */
function signal(seconds: number, ventricular: ReadonlySet<number>): Float32Array {
  const x = new Float32Array(seconds * FS);
  for (let b = 1; b < seconds; b++) {
    const [sign, width] = ventricular.has(b) ? [-1, 0.04] : [1, 0.012];
    for (let i = -50; i <= 50; i++) x[b * FS + i] = sign * Math.exp(-0.5 * (i / FS / width) ** 2);
  }
  return x;
}

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'inspect-'));
  await initBackend('wasm', () => undefined);
});
afterAll(async () => rm(work, { recursive: true, force: true }));

describe('qrsCorrelationToNormal', () => {
  const x = signal(20, new Set([15]));
  const reference = Array.from({ length: 19 }, (_, k) => beat(k + 1 === 15 ? 'V' : 'N', (k + 1) * FS));

  it('is near 1 for a normal beat and negative for an inverted wide one', () => {
    expect(qrsCorrelationToNormal(x, FS, 14 * FS, reference)).toBeGreaterThan(0.99);
    expect(qrsCorrelationToNormal(x, FS, 15 * FS, reference)).toBeLessThan(-0.5);
  });

  it('makes no template from fewer than five normal beats or a flat lead', () => {
    expect(qrsCorrelationToNormal(x, FS, 4 * FS, reference)).toBeNull();
    expect(qrsCorrelationToNormal(new Float32Array(20 * FS), FS, 14 * FS, reference)).toBeNull();
  });
});

describe('leadShapeSummary', () => {
  it('finds the V beats of 223 that look normal in MLII but not in V1, and none in 119', async () => {
    const [r223, r119] = await Promise.all([
      leadShapeSummary(mitdbDir(), '223', 'V'),
      leadShapeSummary(mitdbDir(), '119', 'V'),
    ]);
    expect(r223).toMatchObject({ record: '223', otherLead: 'V1' });
    expect(r223.beats).toBeGreaterThan(450);
    expect(r223.normalShapeInMonitoringLead).toBeGreaterThan(100);
    expect(r223.otherShapeInOtherLead / r223.normalShapeInMonitoringLead).toBeGreaterThan(0.9);
    expect(r119.beats).toBeGreaterThan(400);
    expect(r119.normalShapeInMonitoringLead).toBe(0);
  });
});

describe('inspectBeats on the VT episode of record 210 the monitor misses', () => {
  it('shows the V beat that has the shape of the patient’s normal beats in both leads', async () => {
    const beats = await inspectBeats(mitdbDir(), '210', 1082, 1087, SHIPPED_MODEL_DIR, join(work, 'cache'));
    expect(beats.map((b) => b.reference).join('')).toBe('NVVVVVVNV');
    expect(beats.every((b) => b.classified && b.probabilities !== null)).toBe(true);
    for (const b of beats) expect(Object.values(b.probabilities!).reduce((s, p) => s + p, 0)).toBeCloseTo(1, 4);
    const at = (t: number) => beats.find((b) => Math.abs(b.timeS - t) < 0.05)!;
    // the fourth V beat of the run looks like the normal ones in MLII and in V1
    expect(at(1084.7).normalCorrelation.MLII).toBeGreaterThan(0.9);
    expect(at(1084.7).normalCorrelation.V1).toBeGreaterThan(0.6);
    // its neighbours are ventricular in shape in both leads
    for (const t of [1083.36, 1083.99])
      for (const lead of ['MLII', 'V1']) expect(at(t).normalCorrelation[lead]).toBeLessThan(0);
    // each label says which step of the rule set it: the sixth, S to the networks, is N because
    // the rhythm there is irregular
    expect(at(1082.96)).toMatchObject({ predicted: 'V', reason: 'network' });
    expect(at(1085.53)).toMatchObject({ predicted: 'N', reason: 'irregular-rhythm' });
  });

  it('rejects a missing or empty range with a clear error', async () => {
    const fail = (args: string[]) =>
      promisify(execFile)(process.execPath, ['--import', 'tsx', 'apps/inspect.ts', ...args], {
        encoding: 'utf8',
      }).catch((e: { code: number; stderr: string }) => e);
    const bad = await fail(['--record', '210', '--from', '20', '--to', '10']);
    expect(bad).toMatchObject({ code: 2 });
    expect((bad as { stderr: string }).stderr).toContain(
      '--record and seconds --from < --to (or --class) are required',
    );
    const unknown = await fail(['--record', '999', '--from', '0', '--to', '10']);
    expect((unknown as { stderr: string }).stderr).toContain('unknown record(s) 999');
    const badClass = await fail(['--class', 'X']);
    expect((badClass as { stderr: string }).stderr).toContain('--class must be one of N, S, V, F, Q');
  });
});
