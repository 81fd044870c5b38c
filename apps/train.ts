import { AAMI_CLASSES } from '../stream/contracts/aami.js';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseCommandLine, positiveNumber, prepareOutput, runMain } from './cli.js';
import { ConfigError } from '../stream/contracts/errors.js';
import { DEFAULT_BEAT_WINDOW } from '../stream/dsp/index.js';
import { mitdbDir, selectRecords } from '../stream/wfdb/index.js';
import { ARCHITECTURES, architecture, type ArchitectureName } from '../stream/model/architectures.js';
import { initBackend } from '../stream/model/backend.js';
import { buildBeatSet, splitBeats, type SplitName } from '../stream/model/dataset.js';
import { parseFamilyVote, type DecisionRule } from '../stream/model/decision.js';
import { train, type Balance, type TrainOptions, type TrainProgress } from '../stream/model/train.js';

const USAGE = `npm run train -- --model <${Object.keys(ARCHITECTURES).join('|')}> --split <intra|inter> [options]
  --epochs N            maximum epochs (default 20)
  --batch N             batch size (default 64)
  --seed N              seed for initialisation, splits, order and jitter (default 42)
  --r-index N           samples of the 187-sample window before the R peak (default ${DEFAULT_BEAT_WINDOW.rIndex}); saved
                        with the model, which is then fed windows cut the same way everywhere
  --patience N          early stopping: epochs without a better validation macro F1 (default 3)
  --keep best|last      save the best epoch by validation macro F1 (default), or the last of
                        exactly --epochs epochs (a refit for an epoch count chosen on held-out patients)
  --balance MODE        oversample (the seed's S x3, F x9 with jitter) | class-weights | none (default oversample)
  --augment             show each training beat as another patient's: time-stretched with its
                        template, baseline tilt and noise, RR scaled (default: off)
  --second-lead-dropout X
                        models that take the second lead: fraction of training beats shown
                        without it, so one-lead beds are served too (default 0.2)
  --lr X                learning rate (default: the architecture's)
  --prematurity-ratio X decision rule saved with the model: N -> S when RR < X x reference RR (default: none)
  --prematurity-reference recent|baseline
                        the reference: mean of the previous 8 intervals, or of the previous 200 (default recent)
  --irregularity-limit X
                        the rule holds only while the rhythm irregularity is at most X (default: always)
  --irregular-overrides-s
                        above --irregularity-limit, a beat the network calls S is labelled N (default: off)
  --not-early-s-ratio X
                        at most --irregularity-limit, a beat labelled S whose RR is at least X x the
                        baseline is labelled N (AAMI's S beats are premature; default: off)
  --family-vote R,W     before that, a beat's p(V) is averaged with its QRS family's (correlation >= R,
                        the family's mean weighted W; default: each beat alone)
  --checkpoint-every N  steps between checkpoints (default 200)
  --max-steps N         cap steps per epoch (smoke runs)
  --resume              continue from <out>/checkpoint after a kill
  --init DIR            start from a saved model's weights (fine-tuning, e.g. with a lower --lr)
  --out DIR             output directory (default out/models/<model>-<split>)
  --records LIST        comma-separated records (default: all in the data directory)
  --validation-records LIST
                        inter split: validate on these DS1 records' beats, patients held out of
                        training (default: 10 % of the training beats, stratified)
  --dir DIR             MIT-BIH records (default $MITDB_DIR or ../shared/data/mitdb)
  --cache-dir DIR       beat-set cache (default out/cache)`;

const BALANCES: readonly Balance[] = ['oversample', 'class-weights', 'none'];
const SPLITS: readonly SplitName[] = ['intra', 'inter'];

const positiveInt = (flag: string, value: string | undefined, fallback: number): number =>
  value === undefined ? fallback : positiveNumber('train', flag, value, true);

function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const m = Math.floor(seconds / 60);
  return m > 0 ? `${m}m${String(Math.round(seconds % 60)).padStart(2, '0')}s` : `${Math.round(seconds)}s`;
}

async function main(): Promise<void> {
  const { values } = parseCommandLine(
    'train',
    process.argv.slice(2),
    {
      model: { type: 'string' },
      split: { type: 'string' },
      epochs: { type: 'string' },
      batch: { type: 'string' },
      seed: { type: 'string' },
      'r-index': { type: 'string' },
      patience: { type: 'string' },
      keep: { type: 'string' },
      balance: { type: 'string' },
      augment: { type: 'boolean' },
      'second-lead-dropout': { type: 'string' },
      lr: { type: 'string' },
      'prematurity-ratio': { type: 'string' },
      'prematurity-reference': { type: 'string' },
      'irregularity-limit': { type: 'string' },
      'irregular-overrides-s': { type: 'boolean' },
      'not-early-s-ratio': { type: 'string' },
      'family-vote': { type: 'string' },
      'checkpoint-every': { type: 'string' },
      'max-steps': { type: 'string' },
      resume: { type: 'boolean' },
      init: { type: 'string' },
      out: { type: 'string' },
      records: { type: 'string' },
      'validation-records': { type: 'string' },
      dir: { type: 'string' },
      'cache-dir': { type: 'string' },
    },
    USAGE,
  );
  if (values.model === undefined) throw new ConfigError(`train: --model is required\n${USAGE}`);
  architecture(values.model); // validates the name with the list of valid ones
  const modelName = values.model as ArchitectureName;
  const split = (values.split ?? '') as SplitName;
  if (!SPLITS.includes(split)) throw new ConfigError(`train: --split must be one of ${SPLITS.join(', ')}`);
  const balance = (values.balance ?? 'oversample') as Balance;
  if (!BALANCES.includes(balance)) throw new ConfigError(`train: --balance must be one of ${BALANCES.join(', ')}`);
  const lr = values.lr === undefined ? undefined : positiveNumber('train', 'lr', values.lr);
  const prematurity = values['prematurity-ratio'] === undefined ? null : Number(values['prematurity-ratio']);
  if (prematurity !== null && !(prematurity > 0 && prematurity < 1)) {
    throw new ConfigError(`train: --prematurity-ratio must lie between 0 and 1, got "${values['prematurity-ratio']}"`);
  }
  const prematurityReference = values['prematurity-reference'] ?? 'recent';
  if (prematurityReference !== 'recent' && prematurityReference !== 'baseline') {
    throw new ConfigError(`train: --prematurity-reference must be recent or baseline, got "${prematurityReference}"`);
  }
  const irregularityLimit =
    values['irregularity-limit'] === undefined
      ? null
      : positiveNumber('train', 'irregularity-limit', values['irregularity-limit']);
  const irregularOverridesS = values['irregular-overrides-s'] === true;
  if (irregularOverridesS && irregularityLimit === null) {
    throw new ConfigError('train: --irregular-overrides-s needs --irregularity-limit');
  }
  const notEarlySRatio =
    values['not-early-s-ratio'] === undefined
      ? null
      : positiveNumber('train', 'not-early-s-ratio', values['not-early-s-ratio']);
  if (notEarlySRatio !== null && irregularityLimit === null) {
    throw new ConfigError('train: --not-early-s-ratio needs --irregularity-limit');
  }
  const familyVote = values['family-vote'] === undefined ? null : parseFamilyVote('train', values['family-vote']);
  const secondLeadDropout = Number(values['second-lead-dropout'] ?? '0.2');
  if (!(secondLeadDropout >= 0 && secondLeadDropout < 1)) {
    throw new ConfigError(`train: --second-lead-dropout must lie in [0, 1), got "${values['second-lead-dropout']}"`);
  }
  const keep = (values.keep ?? 'best') as TrainOptions['keep'];
  if (keep !== 'best' && keep !== 'last') throw new ConfigError(`train: --keep must be best or last, got "${keep}"`);
  const seed = Number(values.seed ?? '42');
  if (!Number.isInteger(seed)) throw new ConfigError(`train: --seed must be an integer`);
  const rIndex = Number(values['r-index'] ?? String(DEFAULT_BEAT_WINDOW.rIndex));
  if (!Number.isInteger(rIndex) || rIndex < 0 || rIndex >= DEFAULT_BEAT_WINDOW.length) {
    throw new ConfigError(
      `train: --r-index must be a whole number of samples in 0..${DEFAULT_BEAT_WINDOW.length - 1}, got "${values['r-index']}"`,
    );
  }
  const counts = {
    epochs: positiveInt('epochs', values.epochs, 20),
    batchSize: positiveInt('batch', values.batch, 64),
    patience: positiveInt('patience', values.patience, 3),
    checkpointEvery: positiveInt('checkpoint-every', values['checkpoint-every'], 200),
    ...(values['max-steps'] === undefined
      ? {}
      : { maxStepsPerEpoch: positiveInt('max-steps', values['max-steps'], 1) }),
  };
  // before the beat set, which takes minutes to build when it is not cached
  const outDir = await prepareOutput(
    'train',
    '--out',
    values.out ?? join('out', 'models', `${modelName}-${split}`),
    'folder',
  );

  const backend = await initBackend();
  const dir = values.dir ?? mitdbDir();
  const records = await selectRecords(dir, values.records, 'train');
  const log = (line: string): void => {
    process.stderr.write(`${process.stderr.isTTY ? '\r\x1b[K' : ''}${line}\n`);
  };
  const set = await buildBeatSet(dir, records, {
    cacheDir: values['cache-dir'] ?? 'out/cache',
    frontEnd: { window: { rIndex } },
    log,
  });
  const validationRecords = values['validation-records']?.split(',').filter((r) => r.length > 0) ?? [];
  const beats = splitBeats(set, split, seed, validationRecords);
  const classCounts = (indices: Int32Array) => {
    const counts = Object.fromEntries(AAMI_CLASSES.map((c) => [c, 0])) as Record<string, number>;
    for (const i of indices) counts[AAMI_CLASSES[set.labels[i]!]!]!++;
    return counts;
  };
  log(
    `split ${split}: train ${beats.train.length}, validation ${beats.validation.length}, test ${beats.test.length} beats`,
  );
  if (beats.train.length === 0 || beats.validation.length === 0) {
    throw new ConfigError(
      `train: split "${split}" of records ${records.join(',')} leaves no training or validation beats`,
    );
  }
  const options = {
    architecture: modelName,
    outDir,
    ...counts,
    seed,
    keep,
    balance,
    augment: values.augment === true,
    secondLeadDropout,
    ...(lr === undefined ? {} : { learningRate: lr }),
    resume: values.resume === true,
    ...(values.init === undefined ? {} : { initFrom: values.init }),
    metadata: {
      modelId: `${modelName}-${split}`,
      split,
      seed,
      records,
      classes: AAMI_CLASSES,
      windowLength: set.windowLength,
      rIndex: set.rIndex,
      sampleRateHz: 125,
      normalisation: 'min-max per window to 0..1',
      leads: architecture(modelName).channels === 4 ? "MLII and the record's second lead" : 'MLII',
      validation:
        validationRecords.length === 0
          ? '10 % of the training beats, stratified'
          : `records ${validationRecords.join(',')}`,
      ...(validationRecords.length === 0 ? {} : { validationRecords }),
      decisionRule: {
        prematurityRatio: prematurity,
        prematurityReference,
        irregularityLimit,
        // set on a trained model's rule (npm run ensemble --sinus-p-waves), as v12's was
        sinusPWaves: null,
        irregularOverridesS,
        notEarlySRatio,
        // set on a trained model's rule (npm run ensemble --paused-premature), as v11's was
        pausedPremature: null,
        familyVote,
      } satisfies DecisionRule,
    },
  };
  let lastLine = 0;
  const progress = (p: TrainProgress): void => {
    const line =
      `epoch ${p.epoch}/${p.epochs} step ${p.step}/${p.steps} loss ${p.loss.toFixed(4)} ` +
      `${p.beatsPerSecond.toFixed(0)} beats/s ETA ${formatDuration(p.etaSeconds)}`;
    if (process.stderr.isTTY) process.stderr.write(`\r\x1b[K${line}`);
    else if (Date.now() - lastLine > 30_000 || p.step === p.steps) {
      process.stderr.write(`${line}\n`);
      lastLine = Date.now();
    }
  };
  const started = Date.now();
  const result = await train(set, beats, options, { log, progress });
  const savedEpoch = keep === 'best' ? result.bestEpoch : result.history.length;
  const summary = {
    model: modelName,
    description: architecture(modelName).description,
    backend,
    options: { ...options, metadata: undefined },
    trainBeats: classCounts(beats.train),
    validationBeats: classCounts(beats.validation),
    testBeats: classCounts(beats.test),
    bestEpoch: result.bestEpoch,
    bestValidationMacroF1: result.bestMacroF1,
    savedEpoch,
    trainSeconds: Math.round(result.trainSeconds),
    wallSeconds: Math.round((Date.now() - started) / 1000),
    history: result.history,
  };
  await writeFile(join(outDir, 'training.json'), `${JSON.stringify(summary, null, 2)}\n`);
  log(
    `${keep} model (epoch ${savedEpoch}, validation macro F1 ${result.history[savedEpoch - 1]!.validationMacroF1.toFixed(4)}) saved in ${outDir}`,
  );
}

runMain(main);
