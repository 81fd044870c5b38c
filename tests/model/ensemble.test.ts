import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BeatWindow } from '../../stream/dsp/index.js';
import { ARCHITECTURES } from '../../stream/model/architectures.js';
import { initBackend } from '../../stream/model/backend.js';
import { ruleOf } from '../../stream/model/decision.js';
import { GradCam } from '../../stream/model/gradcam.js';
import { beatWindowInputs, predictProbabilities } from '../../stream/model/inference.js';
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
      run(process.execPath, ['--import', 'tsx', 'stream/model/ensembleCli.ts', ...args], {
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
    const otherWindow = await tsx([
      '--members',
      `${join(work, 'a')},${join(work, 'f')}`,
      '--out',
      join(work, 'no'),
    ]).catch((e: { code: number; stderr: string }) => e);
    expect(otherWindow).toMatchObject({ code: 2 });
    expect((otherWindow as { stderr: string }).stderr).toContain(
      'members take windows with the R peak at different indices (62 vs 93)',
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
    // a damaged member names itself, not the ensemble
    await expect(loadModel(await writeEnsemble('damaged-member', ['b', 'short']))).rejects.toThrow(
      /short: cannot load the model \(weights.bin holds 1000 bytes/,
    );
  });
});
