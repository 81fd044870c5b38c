import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BeatWindowCutter, DEFAULT_BEAT_WINDOW, type BeatWindow } from '../../stream/dsp/index.js';
import { ARCHITECTURES } from '../../stream/model/architectures.js';
import { initBackend } from '../../stream/model/backend.js';
import { ruleOf } from '../../stream/model/decision.js';
import { GradCam } from '../../stream/model/gradcam.js';
import { beatWindowInputs, predictProbabilities, windowLayoutOf } from '../../stream/model/inference.js';
import { ENSEMBLE_FILE, loadModel, ModelFileError, saveModel } from '../../stream/model/io.js';
import type { BeatSet } from '../../stream/model/dataset.js';
import { train } from '../../stream/model/train.js';

const run = promisify(execFile);
const L = 187;
let work: string;

/** Two untrained members of one architecture (different seeds), and a two-lead one. */
beforeAll(async () => {
  await initBackend('wasm', () => undefined);
  work = await mkdtemp(join(tmpdir(), 'ensemble-'));
  const rule = { decisionRule: { prematurityRatio: 0.8 } };
  const heldOut = { validationRecords: ['101', '106'] };
  await saveModel(ARCHITECTURES['template-rr-resnet'].build(L, 1), join(work, 'a'), {
    modelId: 'a',
    ...rule,
    ...heldOut,
  });
  await saveModel(ARCHITECTURES['template-rr-resnet'].build(L, 2), join(work, 'b'), {
    modelId: 'b',
    ...rule,
    ...heldOut,
  });
  // a and b's rule as a newer model saves it (a field older models lack, at its default), other held-out records
  await saveModel(ARCHITECTURES['template-rr-resnet'].build(L, 5), join(work, 'e'), {
    modelId: 'e',
    decisionRule: { prematurityRatio: 0.8, irregularOverridesS: false },
    validationRecords: ['108'],
  });
  await saveModel(ARCHITECTURES['two-lead-template-rr-resnet'].build(L, 3), join(work, 'c'), { modelId: 'c', ...rule });
  await saveModel(ARCHITECTURES['template-rr-resnet'].build(L, 4), join(work, 'd'), {
    modelId: 'd',
    decisionRule: { prematurityRatio: null },
  });
  // a and b's rule, trained on windows centred on the R peak
  await saveModel(ARCHITECTURES['template-rr-resnet'].build(L, 6), join(work, 'f'), {
    modelId: 'f',
    ...rule,
    rIndex: 93,
  });
});
afterAll(async () => rm(work, { recursive: true, force: true }));

const beats = (): BeatWindow[] =>
  Array.from({ length: 6 }, (_, k) => {
    const wave = (phase: number) =>
      Float32Array.from({ length: L }, (_, i) => Math.sin(i / (6 + k) + phase) * Math.exp(-(((i - 62) / 25) ** 2)));
    return {
      rPeak: 100 * k,
      samples: wave(0),
      template: wave(0.5),
      rrPrevious: 0.5 + 0.1 * k,
      rrMean: 0.8,
      rrBaseline: 0.8,
      rrIrregularity: 0,
      rrNext: 0.8,
      pWaveAgreement: 0.9,
    };
  });

async function writeEnsemble(name: string, members: string[]): Promise<string> {
  const dir = join(work, name);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  await writeFile(
    join(dir, ENSEMBLE_FILE),
    JSON.stringify({ members: members.map((m) => join('..', m)), metadata: { modelId: name } }),
  );
  return dir;
}

describe('ensembles of beat classifiers', () => {
  it("loads as one model whose probabilities are the members' average, and whose Grad-CAM is their mean curve", async () => {
    const inputs = beatWindowInputs(beats());
    const [a, b] = [(await loadModel(join(work, 'a'))).model, (await loadModel(join(work, 'b'))).model];
    const { model, metadata } = await loadModel(await writeEnsemble('ab', ['a', 'b']));
    expect(metadata.modelId).toBe('ab');
    const [pa, pb, pe] = await Promise.all([a, b, model].map((m) => predictProbabilities(m, inputs)));
    expect(Array.from(pa!)).not.toEqual(Array.from(pb!));
    pe!.forEach((p, i) => expect(p).toBeCloseTo((pa![i]! + pb![i]!) / 2, 6));

    const classes = [0, 1, 2, 3, 4, 2];
    const [ca, cb, ce] = [a, b, model].map((m) => new GradCam(m).explain(inputs, classes));
    for (let k = 0; k < classes.length; k++) {
      const sum = Array.from({ length: L }, (_, i) => ca![k * L + i]! + cb![k * L + i]!);
      const max = Math.max(...sum);
      for (let i = 0; i < L; i += 7) expect(ce![k * L + i]).toBeCloseTo(max > 0 ? sum[i]! / max : 0, 5);
    }
  });

  it('refuses one member, members that take different inputs, and fine-tuning an ensemble', async () => {
    await expect(loadModel(await writeEnsemble('one', ['a']))).rejects.toThrow(
      /ensemble.json: an ensemble needs at least two members/,
    );
    await expect(loadModel(await writeEnsemble('ac', ['a', 'c']))).rejects.toThrow(/members take different inputs/);
    const ab = await writeEnsemble('tune', ['a', 'b']);
    const split = {
      name: 'inter' as const,
      train: new Int32Array(),
      validation: new Int32Array(),
      test: new Int32Array(),
    };
    await expect(
      train(
        {} as BeatSet,
        split,
        {
          architecture: 'template-rr-resnet',
          outDir: join(work, 'tuned'),
          epochs: 1,
          batchSize: 8,
          seed: 1,
          patience: 1,
          keep: 'best',
          balance: 'none',
          augment: false,
          secondLeadDropout: 0,
          checkpointEvery: 10,
          resume: false,
          initFrom: ab,
          metadata: {},
        },
        { log: () => undefined, progress: () => undefined },
      ),
    ).rejects.toThrow(/is an ensemble; fine-tune its members one by one/);
  });

  it("is made by npm run ensemble, which refuses members with different decision rules and keeps only the members' shared metadata", async () => {
    const tsx = (args: string[]) =>
      run(process.execPath, ['--import', 'tsx', 'apps/ensemble.ts', ...args], {
        encoding: 'utf8',
        env: { ...process.env, TFJS_BACKEND: 'wasm' },
      });
    const out = join(work, 'made');
    await tsx(['--members', `${join(work, 'a')},${join(work, 'b')}`, '--out', out, '--id', 'made-ab']);
    const { metadata } = await loadModel(out);
    expect(metadata).toMatchObject({ modelId: 'made-ab', decisionRule: { prematurityRatio: 0.8 } });
    expect(ruleOf(metadata)).toEqual(ruleOf({ decisionRule: { prematurityRatio: 0.8 } }));
    expect((metadata.members as { modelId: string }[]).map((m) => m.modelId)).toEqual(['a', 'b']);
    expect(metadata.validationRecords).toEqual(['101', '106']);
    // a member trained on the other's held-out records: the ensemble holds none out
    const mixed = join(work, 'mixed');
    await tsx(['--members', `${join(work, 'a')},${join(work, 'e')}`, '--out', mixed]);
    expect((await loadModel(mixed)).metadata).not.toHaveProperty('validationRecords');
    const refused = await tsx(['--members', `${join(work, 'a')},${join(work, 'd')}`, '--out', join(work, 'no')]).catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect(refused).toMatchObject({ code: 2 });
    expect((refused as { stderr: string }).stderr).toContain('members have different decision rules');
    // members trained at different R indices: the first member's index is the ensemble's, each is saved once
    const aligned = join(work, 'aligned');
    await tsx(['--members', `${join(work, 'f')},${join(work, 'a')},${join(work, 'b')}`, '--out', aligned]);
    expect((await loadModel(aligned)).metadata).toMatchObject({ rIndex: 93, rIndices: [93, 62] });
    await tsx(['--members', `${join(work, 'a')},${join(work, 'b')}`, '--out', join(work, 'one-window')]);
    expect((await loadModel(join(work, 'one-window'))).metadata).not.toHaveProperty('rIndices');
    const nested = await tsx(['--members', `${aligned},${join(work, 'a')}`, '--out', join(work, 'no')]).catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect(nested).toMatchObject({ code: 2 });
    expect((nested as { stderr: string }).stderr).toContain('take(s) windows at several R indices; give their members');
  });
});

describe('an ensemble of members trained at different R indices', () => {
  /** A stream of beat-like bumps of varying shape, cut as `window` says. */
  const cut = (window: { length: number; rIndex: number }): BeatWindow[] => {
    const peaks = Array.from({ length: 14 }, (_, k) => 120 + 95 * k + (k % 3) * 11);
    const signal = Float32Array.from(
      { length: 1600 },
      (_, i) =>
        peaks.reduce((v, p, k) => v + (1 + 0.3 * (k % 4)) * Math.exp(-(((i - p) / (3 + (k % 5))) ** 2)), 0) +
        0.1 * Math.sin(i / 40),
    );
    const cutter = new BeatWindowCutter({ ...DEFAULT_BEAT_WINDOW, ...window, fs: 125 });
    return cutter.push(signal, peaks);
  };

  it("gives each member the window it was trained on, cut from one longer window: the members' average on their own windows", async () => {
    const dir = join(work, 'fa');
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    await writeFile(
      join(dir, ENSEMBLE_FILE),
      JSON.stringify({ members: ['../f', '../a'], metadata: { modelId: 'fa', rIndex: 93, rIndices: [93, 62] } }),
    );
    const { model, metadata } = await loadModel(dir);
    const layout = windowLayoutOf(metadata);
    expect(layout).toEqual({ cut: { length: 218, rIndex: 93 }, width: 187, rIndices: [93, 62], offsets: [0, 31] });
    const spans = cut(layout.cut);
    const at93 = cut({ length: 187, rIndex: 93 });
    const at62 = cut({ length: 187, rIndex: 62 });
    const peaks = spans.map((w) => w.rPeak);
    expect(peaks.length).toBeGreaterThan(8);
    const same = (windows: BeatWindow[]) => peaks.map((r) => windows.find((w) => w.rPeak === r)!);
    const [f, a] = [(await loadModel(join(work, 'f'))).model, (await loadModel(join(work, 'a'))).model];
    const inputs = beatWindowInputs(spans, layout);
    expect(inputs.length).toBe(374);
    const [pEnsemble, pf, pa] = await Promise.all([
      predictProbabilities(model, inputs),
      predictProbabilities(f, beatWindowInputs(same(at93))),
      predictProbabilities(a, beatWindowInputs(same(at62))),
    ]);
    expect(Array.from(pf)).not.toEqual(Array.from(pa));
    pEnsemble.forEach((p, i) => expect(p).toBeCloseTo((pf[i]! + pa[i]!) / 2, 6));
    // a window of the wrong length for the layout is refused, not read askew
    expect(() => beatWindowInputs(at93, layout)).toThrow(/windows of 187 samples, the model's layout needs 218/);

    // Grad-CAM: in block 0 (R at 93) f's curve as it is and a's moved by 31 samples, summed and scaled
    const classes = peaks.map((_, k) => k % 5);
    const curves = new GradCam(model).explain(inputs, classes);
    expect(curves).toHaveLength(peaks.length * 374);
    const cf = new GradCam(f).explain(beatWindowInputs(same(at93)), classes);
    const ca = new GradCam(a).explain(beatWindowInputs(same(at62)), classes);
    for (let k = 0; k < peaks.length; k++) {
      const sum = Array.from({ length: L }, (_, j) => cf[k * L + j]! + (j >= 31 ? ca[k * L + j - 31]! : 0));
      const max = Math.max(...sum);
      for (let j = 0; j < L; j += 5) expect(curves[k * 374 + j]).toBeCloseTo(max > 0 ? sum[j]! / max : 0, 5);
      expect(Math.max(...curves.subarray(k * 374, k * 374 + L))).toBeCloseTo(1, 5);
    }
  });

  it('refuses an ensemble whose members take an R index it does not list', async () => {
    const dir = join(work, 'fa-wrong');
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, ENSEMBLE_FILE), JSON.stringify({ members: ['../f', '../a'], metadata: { rIndex: 93 } }));
    await expect(loadModel(dir)).rejects.toThrow(/members take windows with the R peak at 93, 62, the ensemble at 93/);
    // nor one that lists a window no member reads (the beds would cut it for nothing)
    await writeFile(
      join(dir, ENSEMBLE_FILE),
      JSON.stringify({ members: ['../f', '../a'], metadata: { rIndex: 93, rIndices: [93, 62, 150] } }),
    );
    await expect(loadModel(dir)).rejects.toThrow(
      /members take windows with the R peak at 93, 62, the ensemble at 93, 62, 150/,
    );
  });
});

describe('a damaged model', () => {
  /** A copy of member a with one file replaced (or removed, for undefined). */
  async function damaged(name: string, file: string, content: string | Buffer | undefined): Promise<string> {
    const dir = join(work, name);
    await rm(dir, { recursive: true, force: true });
    await cp(join(work, 'a'), dir, { recursive: true });
    await rm(join(dir, file));
    if (content !== undefined) await writeFile(join(dir, file), content);
    return dir;
  }

  it('is refused with its path and what is wrong, as a ModelFileError (one line from a CLI, exit 2)', async () => {
    const weights = await readFile(join(work, 'a', 'weights.bin'));
    const cases: [string, string, string | Buffer | undefined, RegExp][] = [
      ['json', 'model.json', '{bad', /json\/model.json: cannot read a model \(.*JSON/],
      ['manifest', 'model.json', '{}', /manifest\/model.json: no weights manifest/],
      [
        'short',
        'weights.bin',
        weights.subarray(0, 1000),
        new RegExp(
          `short: cannot load the model \\(weights.bin holds 1000 bytes, the manifest needs ${weights.length}\\)`,
        ),
      ],
      ['missing', 'weights.bin', undefined, /missing: cannot load the model \(ENOENT/],
    ];
    for (const [name, file, content, message] of cases) {
      const error: unknown = await loadModel(await damaged(name, file, content)).catch((e: unknown) => e);
      expect(error, name).toBeInstanceOf(ModelFileError);
      expect((error as Error).message, name).toMatch(message);
    }
    // a network that takes windows of another length than the monitor cuts
    await saveModel(ARCHITECTURES['template-rr-resnet'].build(200, 1), join(work, 'long'), { modelId: 'long' });
    const long: unknown = await loadModel(join(work, 'long')).catch((e: unknown) => e);
    expect(long).toBeInstanceOf(ModelFileError);
    expect((long as Error).message).toMatch(
      /long: the model takes windows of 200 samples; the monitor gives each network 187/,
    );
    // a damaged member names itself, not the ensemble
    await expect(loadModel(await writeEnsemble('damaged-member', ['b', 'short']))).rejects.toThrow(
      /short: cannot load the model \(weights.bin holds 1000 bytes/,
    );
    // a decision rule with a value no step accepts: the file and the field, never a step silently off
    await saveModel(ARCHITECTURES['template-rr-resnet'].build(L, 1), join(work, 'bad-rule'), {
      modelId: 'bad-rule',
      decisionRule: { prematurityRatio: 1.4 },
    });
    await expect(loadModel(join(work, 'bad-rule'))).rejects.toThrow(
      `${join(work, 'bad-rule', 'model.json')}: decisionRule.prematurityRatio: Number must be less than 1`,
    );
  });
});
