import { DECISION_REASONS } from '../../stream/contracts/decisions.js';
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const tsx = (script: string, args: string[]) =>
  run(process.execPath, ['--import', 'tsx', script, ...args], {
    encoding: 'utf8',
    env: { ...process.env, TFJS_BACKEND: 'wasm' },
  });
/** A command that should fail: its exit code and stderr (code 0 if it did not fail). */
const failing = (script: string, args: string[]) =>
  tsx(script, args).then(
    () => ({ code: 0, stderr: '' }),
    (e: { code: number; stderr: string }) => e,
  );
let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'model-cli-'));
});
afterAll(async () => rm(work, { recursive: true, force: true }));

const trainArgs = (out: string, extra: string[] = []) => [
  '--model',
  'rr-resnet-small',
  '--split',
  'intra',
  '--records',
  '119,208',
  '--batch',
  '16',
  '--out',
  out,
  '--cache-dir',
  join(work, 'cache'),
  ...extra,
];

describe('npm run train / eval:model', () => {
  it('resumes after being killed mid-epoch (SIGKILL), continuing from the checkpoint', async () => {
    const out = join(work, 'killed');
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'apps/train.ts',
        ...trainArgs(out, ['--epochs', '1', '--max-steps', '400', '--checkpoint-every', '3']),
      ],
      {
        env: { ...process.env, TFJS_BACKEND: 'wasm' },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    // kill as soon as a mid-epoch checkpoint has been written
    await new Promise<void>((resolve, reject) => {
      const timer = setInterval(() => {
        readFile(join(out, 'checkpoint', 'state.json'), 'utf8')
          .then((t) => {
            if ((JSON.parse(t) as { step: number }).step >= 3) {
              clearInterval(timer);
              child.kill('SIGKILL');
              resolve();
            }
          })
          .catch(() => undefined);
      }, 50);
      child.on('exit', () => {
        clearInterval(timer);
        reject(new Error('training ended before it could be killed'));
      });
    });
    const killedAt = JSON.parse(await readFile(join(out, 'checkpoint', 'state.json'), 'utf8')) as {
      epoch: number;
      step: number;
    };
    expect(killedAt.epoch).toBe(0);
    const resumed = await tsx('apps/train.ts', trainArgs(out, ['--epochs', '1', '--max-steps', '12', '--resume']));
    expect(resumed.stderr).toContain(`resuming from epoch 1, step ${killedAt.step}`);
    const summary = JSON.parse(await readFile(join(out, 'training.json'), 'utf8')) as { history: unknown[] };
    expect(summary.history).toHaveLength(1);

    // the model it saved evaluates through the CLI, with the JSON contract docs/operations.md gives
    const { stdout } = await tsx('apps/evalModel.ts', [
      '--model',
      out,
      '--split',
      'intra',
      '--records',
      '119,208',
      '--json',
      '--faithfulness-beats',
      '20',
      '--cache-dir',
      join(work, 'cache'),
      '--report',
      join(work, 'report.html'),
    ]);
    const result = JSON.parse(stdout) as Record<string, unknown> & { perClass: Record<string, Record<string, number>> };
    expect(Object.keys(result)).toEqual(expect.arrayContaining(['accuracy', 'weightedF1', 'macroF1', 'perClass']));
    expect(Object.keys(result.perClass)).toEqual(['N', 'S', 'V', 'F', 'Q']);
    expect(Object.keys(result.perClass.V!)).toEqual(expect.arrayContaining(['precision', 'recall', 'f1', 'auc']));
    const html = await readFile(join(work, 'report.html'), 'utf8');
    expect(html).toContain('Confusion matrix');
    expect(html).toContain('<polyline');
  });

  it('trains a two-lead model, and scores it as one-lead beds use it with --one-lead', async () => {
    const out = join(work, 'two-lead');
    await tsx(
      'apps/train.ts',
      trainArgs(out, ['--epochs', '1', '--max-steps', '6']).map((a) =>
        a === 'rr-resnet-small' ? 'two-lead-template-rr-resnet' : a,
      ),
    );
    const evaluate = async (extra: string[]) => {
      const { stdout } = await tsx('apps/evalModel.ts', [
        ...['--model', out, '--split', 'intra', '--records', '119,208', '--json', '--faithfulness-beats', '10'],
        ...['--cache-dir', join(work, 'cache'), '--report', join(work, 'two-lead.html'), ...extra],
      ]);
      return JSON.parse(stdout) as { leads: number; perClass: Record<string, { auc: number }> };
    };
    const both = await evaluate([]);
    const one = await evaluate(['--one-lead']);
    expect(both.leads).toBe(2);
    expect(one.leads).toBe(1);
    // the same beats, other inputs: the class probabilities, and so their ranking, change
    expect(one.perClass.N!.auc).not.toBe(both.perClass.N!.auc);
  });

  it('scores fold models on the patients each was trained without, pooled (--folds), under a chosen rule', async () => {
    const heldOut: Record<string, number> = {};
    for (const record of ['119', '208']) {
      const out = join(work, `fold-${record}`);
      const { stderr } = await tsx(
        'apps/train.ts',
        trainArgs(out, ['--epochs', '1', '--max-steps', '4', '--validation-records', record]).map((a) =>
          a === 'intra' ? 'inter' : a,
        ),
      );
      heldOut[out] = Number(/split inter: train \d+, validation (\d+),/.exec(stderr)?.[1]);
    }
    const folds = Object.keys(heldOut);
    const { stdout } = await tsx('apps/evalModel.ts', [
      ...['--folds', folds.join(','), '--rule-from', 'models/beat-classifier', '--json'],
      ...['--faithfulness-beats', '10', '--cache-dir', join(work, 'cache'), '--report', join(work, 'folds.html')],
      ...['--predictions', join(work, 'folds.csv')],
    ]);
    const result = JSON.parse(stdout) as {
      split: string;
      count: number;
      decisionRule: Record<string, unknown>;
      confusion: number[][];
      ec57: Record<string, { se: number; ppv: number }>;
      prematurityCurve: { ratio: number; se: number; ppv: number; isRule: boolean }[];
    };
    expect(result.split).toBe('folds');
    expect(result.count).toBe(heldOut[folds[0]!]! + heldOut[folds[1]!]!);
    expect(result.decisionRule).toMatchObject({
      prematurityReference: 'baseline',
      irregularOverridesS: true,
      familyVote: { minCorrelation: 0.9, weight: 0.8 },
    });

    // the per-beat file holds every scored beat, and its labels add up to the reported confusion
    const [header, ...rows] = (await readFile(join(work, 'folds.csv'), 'utf8')).trimEnd().split('\n');
    expect(header).toBe(
      'record,sample,reference_sample,reference,predicted,reason,p_N,p_S,p_V,p_F,p_Q,voted_p_V,rr_recent,rr_baseline,irregularity,rr_next,p_wave_agreement',
    );
    expect(rows).toHaveLength(result.count);
    const classes = ['N', 'S', 'V', 'F', 'Q'];
    const confusion = classes.map(() => classes.map(() => 0));
    for (const row of rows) {
      const [record, , referenceSample, reference, predicted, reason, ...numbers] = row.split(',');
      expect(Number(referenceSample)).toBeGreaterThan(0);
      expect(['119', '208']).toContain(record);
      expect(DECISION_REASONS).toContain(reason);
      const p = numbers.slice(0, 5).map(Number);
      expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
      const voted = Number(numbers[5]);
      expect(voted).toBeGreaterThanOrEqual(0);
      expect(voted).toBeLessThanOrEqual(1);
      confusion[classes.indexOf(reference!)]![classes.indexOf(predicted!)]! += 1;
    }
    expect(confusion).toEqual(result.confusion);

    // the S trade-off of the prematurity criterion: the rule's own point is the reported S figure,
    // and a higher ratio relabels more N calls S, so S Se can only rise along the curve
    const curve = result.prematurityCurve;
    expect(curve.map((q) => q.ratio)).toEqual([0.7, 0.75, 0.8, 0.85, 0.9, 0.95]);
    expect(curve.filter((q) => q.isRule)).toEqual([{ ratio: 0.8, ...result.ec57.S, isRule: true }]);
    curve.slice(1).forEach((q, i) => expect(q.se).toBeGreaterThanOrEqual(curve[i]!.se));
    expect(await readFile(join(work, 'folds.html'), 'utf8')).toContain('S against the prematurity ratio');

    const twice = await failing('apps/evalModel.ts', ['--folds', `${folds[0]},${folds[0]}`]);
    expect(twice.stderr).toContain('are held out by two folds');
    const notFold = await failing('apps/evalModel.ts', ['--folds', join(work, 'killed')]);
    expect(notFold.stderr).toContain(
      'names no held-out validation records; train fold models with --validation-records',
    );
  });

  it('trains on windows with the R peak elsewhere (--r-index), saves it, and scores the model on windows cut so', async () => {
    const fold = (record: string, rIndex: string) =>
      trainArgs(join(work, `r${rIndex}-${record}`), [
        ...['--epochs', '1', '--max-steps', '3', '--validation-records', record, '--r-index', rIndex],
      ]).map((a) => (a === 'intra' ? 'inter' : a));
    await tsx('apps/train.ts', fold('119', '93'));
    await tsx('apps/train.ts', fold('208', '62'));
    const saved = JSON.parse(await readFile(join(work, 'r93-119', 'model.json'), 'utf8')) as {
      userDefinedMetadata: { rIndex: number };
    };
    expect(saved.userDefinedMetadata.rIndex).toBe(93);
    const { stdout } = await tsx('apps/evalModel.ts', [
      ...['--folds', join(work, 'r93-119'), '--json', '--faithfulness-beats', '5'],
      ...['--cache-dir', join(work, 'cache'), '--report', join(work, 'r93.html')],
    ]);
    expect((JSON.parse(stdout) as { count: number }).count).toBeGreaterThan(1500);
    // fold models that take different windows cannot be pooled
    const mixed = await failing('apps/evalModel.ts', [
      ...['--folds', `${join(work, 'r93-119')},${join(work, 'r62-208')}`, '--cache-dir', join(work, 'cache')],
    ]);
    expect(mixed.stderr).toContain('takes windows with the R peak at 62, ');
  });

  it('rejects wrong flags and values with the valid choices', async () => {
    const interModel = ['--model', 'template-rr-resnet', '--split', 'inter'];
    const cases: [string[], string | RegExp][] = [
      [
        ['--model', 'resnet9000', '--split', 'intra'],
        'unknown model "resnet9000"; choose one of: seed-resnet, rr-resnet-small, rr-branch-resnet',
      ],
      [['--model', 'seed-resnet', '--split', 'both'], '--split must be one of intra, inter'],
      [
        ['--model', 'two-lead-template-rr-resnet', '--split', 'inter', '--second-lead-dropout', '1'],
        '--second-lead-dropout must lie in [0, 1), got "1"',
      ],
      [
        [...interModel, '--prematurity-reference', 'median'],
        '--prematurity-reference must be recent or baseline, got "median"',
      ],
      [[...interModel, '--irregular-overrides-s'], '--irregular-overrides-s needs --irregularity-limit'],
      [[...interModel, '--r-index', '187'], '--r-index must be a whole number of samples in 0..186, got "187"'],
      [['--modle', 'x'], /Unknown option '--modle'.*Valid flags: --model/],
    ];
    for (const [args, message] of cases) {
      const error = await failing('apps/train.ts', args);
      expect(error.code, args.join(' ')).toBe(2);
      expect(error.stderr).toMatch(message);
    }

    // an output that cannot be written fails before the evaluation or the replay, not after it
    const aFile = join(work, 'a-file');
    await writeFile(aFile, '');
    const outputs: [string, string[], string, string][] = [
      // [command, arguments, its message, a line the work would have printed first]
      [
        'apps/evalModel.ts',
        ['--split', 'inter', '--predictions', join(aFile, 'p.csv')],
        'eval:model: cannot write --predictions',
        'beat set:',
      ],
      ['apps/evalModel.ts', ['--split', 'inter', '--report', work], 'eval:model: cannot write --report', 'beat set:'],
      ['apps/train.ts', trainArgs(join(aFile, 'model')), 'train: cannot write --out', 'epoch 1/'],
      [
        'apps/evalQrs.ts',
        ['--records', '100', '--write-annotations', join(aFile, 'qrs')],
        'eval:qrs: cannot write --write-annotations',
        'gross',
      ],
      [
        'apps/validate.ts',
        ['--records', '100', '--report', join(aFile, 'r.html')],
        'validate: cannot write --report',
        'tfjs backend',
      ],
    ];
    for (const [script, args, message, later] of outputs) {
      const error = await failing(script, args);
      expect(error.code, args.join(' ')).toBe(2);
      expect(error.stderr).toContain(message);
      expect(error.stderr).not.toContain(later);
    }
  });
});
