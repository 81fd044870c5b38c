import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../stream/model/backend.js';
import { buildBeatSet, splitBeats, type BeatSet } from '../../stream/model/dataset.js';
import { loadModel, ModelFileError } from '../../stream/model/io.js';
import { RR_FEATURES } from '../../stream/model/features.js';
import { beatSetInputs } from '../../stream/model/inference.js';
import { seededRandom } from '../../stream/model/random.js';
import { augmentBeat, epochEntries, train, trainingInputs, type TrainOptions } from '../../stream/model/train.js';
import { mitdbDir } from '../../stream/wfdb/index.js';

let set: BeatSet;
let outDir: string;
const quiet = { log: () => undefined, progress: () => undefined };

beforeAll(async () => {
  await initBackend('wasm', () => undefined);
  set = await buildBeatSet(mitdbDir(), ['119', '208']);
  outDir = await mkdtemp(join(tmpdir(), 'train-'));
});
afterAll(async () => rm(outDir, { recursive: true, force: true }));

describe('training path (a tiny run on the wasm backend)', () => {
  const options = (
    epochs: number,
    resume: boolean,
    keep: TrainOptions['keep'] = 'best',
    dir = outDir,
    architecture: TrainOptions['architecture'] = 'rr-resnet-small',
  ): TrainOptions => ({
    architecture,
    outDir: dir,
    epochs,
    batchSize: 16,
    seed: 3,
    patience: 5,
    keep,
    balance: 'oversample',
    augment: false,
    secondLeadDropout: 0,
    checkpointEvery: 2,
    maxStepsPerEpoch: 4,
    resume,
    metadata: { modelId: 'tiny' },
  });

  it('orders and oversamples data deterministically from the seed', () => {
    const split = splitBeats(set, 'intra', 3);
    const a = epochEntries(set, split.train, 'oversample', 3, 0);
    expect(epochEntries(set, split.train, 'oversample', 3, 0)).toEqual(a);
    expect(epochEntries(set, split.train, 'oversample', 3, 1)).not.toEqual(a);
    const fCopies = a.filter((e) => set.labels[e.index] === 3).length;
    const fBeats = Array.from(split.train).filter((i) => set.labels[i] === 3).length;
    expect(fCopies).toBe(9 * fBeats);
  });

  it("augments a beat as another patient's: deterministic, R peak kept in place, prematurity unchanged", () => {
    const index = Array.from(set.labels).indexOf(2); // a V beat
    const augmented = (seed: number) => {
      const inputs = beatSetInputs(set, [index, index]);
      augmentBeat(set, index, seededRandom(seed), inputs, 1, false);
      return inputs;
    };
    const a = augmented(1);
    expect(augmented(1)).toEqual(a);
    expect(augmented(2).window).not.toEqual(a.window);
    const L = set.windowLength;
    const [original, changed] = [a.window.subarray(0, L), a.window.subarray(L)];
    expect(changed).not.toEqual(original);
    for (const v of changed) expect(v).toBeGreaterThanOrEqual(0); // still min-max normalised
    // the stretch is about the R peak: the peak's sample moves by no more than the noise
    expect(Math.abs(changed[set.rIndex]! - original[set.rIndex]!)).toBeLessThan(0.1);
    const rr = (k: number) => Array.from(a.rr.subarray(k * RR_FEATURES, (k + 1) * RR_FEATURES));
    expect(rr(1)[0]! / rr(1)[1]!).toBeCloseTo(rr(0)[2]!, 5);
    expect(rr(1)[2]).toBe(rr(0)[2]);
  });

  it('shows a two-lead model some beats without their second lead, and the same first lead either way', () => {
    const entries = Array.from({ length: 400 }, (_, k) => ({ index: k, copy: k % 2 }));
    const batch = (secondLeadDropout: number) =>
      trainingInputs(set, entries, 11, { augment: true, secondLeadDropout, secondLead: true });
    const L = set.windowLength;
    const withoutSecond = (inputs: ReturnType<typeof batch>) =>
      entries.filter((_, k) => inputs.secondWindow.subarray(k * L, (k + 1) * L).every((v) => v === 0)).length;
    const kept = batch(0);
    const dropped = batch(0.25);
    expect(withoutSecond(kept)).toBe(0);
    expect(withoutSecond(dropped)).toBeGreaterThan(70);
    expect(withoutSecond(dropped)).toBeLessThan(130);
    expect(dropped.window).toEqual(kept.window);
    expect(dropped.diff).toEqual(kept.diff);
  });

  it('trains a two-lead model that takes four window channels', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'train-two-lead-'));
    const split = splitBeats(set, 'intra', 3);
    const result = await train(
      set,
      split,
      { ...options(1, false, 'best', dir, 'two-lead-template-rr-resnet'), secondLeadDropout: 0.2 },
      quiet,
    );
    expect(Number.isFinite(result.history[0]!.trainLoss)).toBe(true);
    const { model } = await loadModel(dir);
    expect(model.inputs[0]!.shape).toEqual([null, 187, 4]);
    await rm(dir, { recursive: true, force: true });
  });

  it('trains, saves the best model, and resumes from its checkpoint after a stop', async () => {
    const split = splitBeats(set, 'intra', 3);
    const first = await train(set, split, options(1, false), quiet);
    expect(first.history).toHaveLength(1);
    expect(Number.isFinite(first.history[0]!.trainLoss)).toBe(true);
    const state = JSON.parse(await readFile(join(outDir, 'checkpoint', 'state.json'), 'utf8')) as {
      epoch: number;
      step: number;
    };
    expect(state).toMatchObject({ epoch: 1, step: 0 });
    // "killed" after epoch 1: a second run with more epochs continues, not restarts
    const second = await train(set, split, options(2, true), quiet);
    expect(second.history.map((e) => e.epoch)).toEqual([1, 2]);
    expect(second.history[0]).toEqual(first.history[0]);
    const { model, metadata } = await loadModel(outDir);
    expect(metadata).toMatchObject({ modelId: 'tiny', architecture: 'rr-resnet-small' });
    expect(model.inputs).toHaveLength(2);
  });

  it('refuses to resume from a damaged checkpoint, naming the file and what to do, before any step', async () => {
    const split = splitBeats(set, 'intra', 3);
    const dir = await mkdtemp(join(tmpdir(), 'train-damaged-'));
    await train(set, split, options(1, false, 'best', dir), quiet);
    const checkpoint = join(dir, 'checkpoint');
    const intact = join(dir, 'intact');
    await cp(checkpoint, intact, { recursive: true });
    const cases: [string, (bytes: Buffer) => Buffer | string, RegExp][] = [
      ['state.json', () => '{"epoch": 1, "st', /\(state\.json: .*JSON/],
      ['state.json', () => '{"epoch": 1}', /\(state\.json lacks its epoch, step or history\)/],
      [
        'optimizer.bin',
        (b) => b.subarray(0, b.length - 8),
        /optimizer\.bin: holds \d+ bytes of state, its header needs \d+\)/,
      ],
      ['weights.bin', (b) => b.subarray(0, 100), /cannot load the model \(weights\.bin holds 100 bytes/],
    ];
    for (const [file, damage, reason] of cases) {
      await rm(checkpoint, { recursive: true });
      await cp(intact, checkpoint, { recursive: true });
      await writeFile(join(checkpoint, file), damage(await readFile(join(checkpoint, file))));
      const steps: number[] = [];
      const error: unknown = await train(set, split, options(2, true, 'best', dir), {
        log: () => undefined,
        progress: (p) => steps.push(p.step),
      }).catch((e: unknown) => e);
      expect(error, file).toBeInstanceOf(ModelFileError);
      expect((error as Error).message, file).toMatch(/^train: cannot resume from .*checkpoint \(/);
      expect((error as Error).message, file).toMatch(reason);
      expect((error as Error).message, file).toMatch(/delete that folder, or train without --resume/);
      expect(steps, file).toEqual([]);
    }
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps the last epoch when asked, without early stopping (a refit for a chosen epoch count)', async () => {
    // one validation beat: its macro F1 takes two values, so it cannot improve at epochs 2 and
    // 3 both, and keeping the best epoch can never run 3 epochs with patience 1 and keep the third
    const whole = splitBeats(set, 'intra', 3);
    const split = { ...whole, validation: whole.validation.subarray(0, 1) };
    const run = async (keep: TrainOptions['keep']) => {
      const dir = await mkdtemp(join(tmpdir(), `train-${keep}-`));
      const result = await train(set, split, { ...options(3, false, keep, dir), patience: 1 }, quiet);
      const { metadata } = await loadModel(dir);
      await rm(dir, { recursive: true, force: true });
      return { result, metadata };
    };
    const last = await run('last');
    expect(last.result.history).toHaveLength(3);
    expect(last.metadata).toMatchObject({ epoch: 3, validationMacroF1: last.result.history[2]!.validationMacroF1 });
    const best = await run('best');
    expect(best.metadata.epoch).toBe(best.result.bestEpoch);
    expect(best.result.history.length < 3 || best.result.bestEpoch !== 3).toBe(true);
  });
});
