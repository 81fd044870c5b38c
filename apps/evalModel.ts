import { AAMI_CLASSES } from '../stream/contracts/aami.js';
import type { LayersModel } from '@tensorflow/tfjs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseCommandLine, positiveNumber, prepareOutput, runMain } from './cli.js';
import { ConfigError } from '../stream/contracts/errors.js';
import { mitdbDir, selectRecords } from '../stream/wfdb/index.js';
import { DS2 } from '../stream/model/aami.js';
import { initBackend } from '../stream/model/backend.js';
import {
  beatIndices,
  buildBeatSet,
  labelledBeats,
  splitBeats,
  type BeatSet,
  type SplitName,
} from '../stream/model/dataset.js';
import { describeRule, ruleOf, sameRule } from '../stream/model/decision.js';
import { beatRhythmOf } from '../stream/model/features.js';
import { evaluateModel, PREMATURITY_RATIOS, type ModelEvaluation, type ScoredPart } from '../stream/model/evaluate.js';
import { loadModel, rIndicesOf } from '../stream/model/io.js';
import { windowLayoutOf } from '../stream/model/inference.js';
import { renderReport } from './modelReport.js';
import { SHIPPED_MODEL_DIR } from '../stream/model/shipped.js';
import type { EpochRecord } from '../stream/model/train.js';

const USAGE = `npm run eval:model -- [--model DIR] --split <intra|inter> [--records LIST] [options]
npm run eval:model -- --folds DIR,DIR,... [options]
Evaluates a trained model (default: the shipped one, ${SHIPPED_MODEL_DIR}) on the test beats of a split,
rebuilt with the seed the model was trained with, and writes an HTML report (default out/reports/<model>-<split>.html).
--folds scores the fold models of a cross-validation instead: each on the held-out patients it
was trained without (train --validation-records), pooled into out-of-fold figures.
Under a rule with a prematurity ratio it also gives S Se/+P had the ratio been ${PREMATURITY_RATIOS.join(', ')}.
Options: --json, --report FILE, --faithfulness-beats N,
  --predictions FILE  also write every scored beat as CSV: record, R-peak sample, the reference
                      beat's sample, reference and predicted class, the class probabilities, the
                      p(V) after the family vote and the rhythm the rule reads
  --one-lead          score as a bed with one lead: the second lead left out (as a flat one is)
  --rule-from DIR     apply the decision rule saved with another model (default: the model's own)`;

/** A fold model of a cross-validation and the held-out records it is scored on. */
interface Fold {
  readonly dir: string;
  readonly model: LayersModel;
  readonly records: readonly string[];
}

async function loadFolds(dirs: readonly string[]): Promise<{ folds: Fold[]; metadata: Record<string, unknown> }> {
  const folds: Fold[] = [];
  let first: Record<string, unknown> = {};
  for (const dir of dirs) {
    const { model, metadata } = await loadModel(dir);
    const records = metadata.validationRecords;
    if (!Array.isArray(records) || records.length === 0 || !records.every((r) => typeof r === 'string')) {
      throw new ConfigError(
        `eval:model: ${dir} names no held-out validation records; train fold models with --validation-records`,
      );
    }
    const taken = records.filter((r) => folds.some((f) => f.records.includes(r)));
    if (taken.length > 0) throw new ConfigError(`eval:model: record(s) ${taken.join(', ')} are held out by two folds`);
    if (folds.length === 0) first = metadata;
    else if (!sameRule(ruleOf(metadata), ruleOf(first))) {
      throw new ConfigError(
        `eval:model: ${dir} saves another decision rule than ${dirs[0]}; choose one with --rule-from`,
      );
    } else if (rIndicesOf(metadata).join() !== rIndicesOf(first).join()) {
      throw new ConfigError(
        `eval:model: ${dir} takes windows with the R peak at ${rIndicesOf(metadata).join(', ')}, ${dirs[0]} at ${rIndicesOf(first).join(', ')}`,
      );
    }
    folds.push({ dir, model, records: records as string[] });
  }
  return { folds, metadata: first };
}

/**
 * One row per scored beat, in scoring order (fold by fold with --folds). `reason` is the step of
 * the decision rule that set the label (DecisionReason). The last columns are what the rule
 * reads: p(V) after the family vote (p_V without one), RR as a share of the recent and of the
 * baseline mean, the irregularity before the beat, the next RR as a share of its RR, and the
 * recent beats' P-wave agreement. Numbers are written in full so that the
 * rule, applied again to the file, gives the same labels.
 */
function predictionsCsv(
  set: BeatSet,
  { beats, probabilities, votedV, predicted, reasons }: ModelEvaluation['predictions'],
): string {
  const K = AAMI_CLASSES.length;
  const header = [
    'record',
    'sample',
    'reference_sample',
    'reference',
    'predicted',
    'reason',
    ...AAMI_CLASSES.map((c) => `p_${c}`),
    'voted_p_V',
    'rr_recent',
    'rr_baseline',
    'irregularity',
    'rr_next',
    'p_wave_agreement',
  ];
  const rows = Array.from(beats, (i, k) => {
    const rhythm = beatRhythmOf(set, i);
    return [
      set.recordNames[set.recordIndex[i]!]!,
      String(set.sourceSample[i]!),
      String(set.referenceSample[i]!),
      AAMI_CLASSES[set.labels[i]!]!,
      AAMI_CLASSES[predicted[k]!]!,
      reasons[k]!,
      ...Array.from(probabilities.subarray(k * K, (k + 1) * K), String),
      String(votedV[k]!),
      String(rhythm.recent),
      String(rhythm.baseline),
      String(rhythm.irregularity),
      String(rhythm.next),
      String(rhythm.pWaves),
    ].join(',');
  });
  return `${[header.join(','), ...rows].join('\n')}\n`;
}

async function main(): Promise<void> {
  const { values } = parseCommandLine(
    'eval:model',
    process.argv.slice(2),
    {
      model: { type: 'string' },
      split: { type: 'string' },
      json: { type: 'boolean' },
      report: { type: 'string' },
      records: { type: 'string' },
      'faithfulness-beats': { type: 'string' },
      'one-lead': { type: 'boolean' },
      folds: { type: 'string' },
      'rule-from': { type: 'string' },
      predictions: { type: 'string' },
      'data-dir': { type: 'string' },
      'cache-dir': { type: 'string' },
    },
    USAGE,
  );
  const foldDirs = values.folds?.split(',').filter((d) => d.length > 0);
  if (foldDirs !== undefined && (values.model ?? values.split ?? values.records) !== undefined)
    throw new ConfigError(`eval:model: --folds takes the models, split and records from the fold models\n${USAGE}`);
  const split = values.split as SplitName;
  if (foldDirs === undefined && split !== 'intra' && split !== 'inter')
    throw new ConfigError(`eval:model: --split must be intra or inter\n${USAGE}`);
  const faithfulnessBeats = positiveNumber(
    'eval:model',
    'faithfulness-beats',
    values['faithfulness-beats'] ?? '1000',
    true,
  );
  const backend = await initBackend();
  const modelDir = values.model ?? SHIPPED_MODEL_DIR;
  const { folds, metadata } =
    foldDirs === undefined
      ? await loadModel(modelDir).then(({ model, metadata }) => ({
          folds: [{ dir: modelDir, model, records: [] }],
          metadata,
        }))
      : await loadFolds(foldDirs);
  const scope = foldDirs === undefined ? split : 'folds';
  const reportPath = await prepareOutput(
    'eval:model',
    '--report',
    values.report ?? join('out', 'reports', `${String(metadata.modelId ?? 'model')}-${scope}.html`),
  );
  const predictionsPath =
    values.predictions === undefined
      ? undefined
      : await prepareOutput('eval:model', '--predictions', values.predictions);
  const dir = values['data-dir'] ?? mitdbDir();
  const wanted = foldDirs === undefined ? values.records : folds.flatMap((f) => f.records).join(',');
  const records = await selectRecords(dir, wanted, 'eval:model');
  const log = (line: string): void => void process.stderr.write(`${line}\n`);
  const layout = windowLayoutOf(metadata);
  const built = await buildBeatSet(dir, records, {
    cacheDir: values['cache-dir'] ?? 'out/cache',
    frontEnd: { window: layout.cut },
    log,
  });
  const leads = values['one-lead'] === true ? 1 : 2;
  const set =
    leads === 1
      ? {
          ...built,
          secondWindows: new Float32Array(built.secondWindows.length),
          secondTemplates: new Float32Array(built.secondTemplates.length),
        }
      : built;
  const seed = typeof metadata.seed === 'number' ? metadata.seed : 42;
  // every detection of whole records: a family vote hears the unlabelled ones too
  const inRecords = (names: readonly string[]): Int32Array => {
    const wanted = new Set(names.map((r) => set.recordNames.indexOf(r)));
    return beatIndices(set, (i) => wanted.has(set.recordIndex[i]!));
  };
  const wholeRecords = (model: LayersModel, names: readonly string[]): ScoredPart => {
    const heard = inRecords(names);
    return { model, test: labelledBeats(set, heard), heard };
  };
  const parts: ScoredPart[] =
    foldDirs !== undefined
      ? folds.map((f) => wholeRecords(f.model, f.records))
      : split === 'inter'
        ? [wholeRecords(folds[0]!.model, DS2)]
        : [{ model: folds[0]!.model, test: splitBeats(set, split, seed).test }];
  const testCount = parts.reduce((n, p) => n + p.test.length, 0);
  if (testCount === 0) throw new ConfigError(`eval:model: ${scope} of records ${records.join(',')} has no test beats`);
  if (foldDirs === undefined && metadata.split !== undefined && metadata.split !== split) {
    log(
      `note: this model was trained on the ${String(metadata.split)} split; its ${split} test beats may include training beats`,
    );
  }
  const started = performance.now();
  const rule = ruleOf(values['rule-from'] === undefined ? metadata : (await loadModel(values['rule-from'])).metadata);
  const evaluation = await evaluateModel(parts, set, { faithfulnessBeats, rule, layout });
  const history =
    foldDirs === undefined
      ? await readFile(join(modelDir, 'training.json'), 'utf8')
          .then((t) => (JSON.parse(t) as { history: EpochRecord[] }).history)
          .catch(() => [] as EpochRecord[])
      : [];
  const m = evaluation.metrics;
  await writeFile(
    reportPath,
    renderReport(
      foldDirs === undefined
        ? `Beat classifier ${String(metadata.modelId ?? modelDir)}: ${split}-patient test split`
        : `Beat classifier: ${folds.length} fold models, each on the patients it was trained without`,
      {
        model: folds.map((f) => (foldDirs === undefined ? f.dir : `${f.dir} (${f.records.join(',')})`)).join('; '),
        'trained on': `${String(metadata.split ?? '?')} split, seed ${seed}`,
        'decision rule': describeRule(rule),
        'test beats': `${testCount} from ${records.length} records`,
        leads: leads === 1 ? 'monitoring lead only (--one-lead)' : 'as recorded',
        backend,
        'evaluated at': new Date().toISOString(),
      },
      evaluation,
      history,
    ),
  );
  if (predictionsPath !== undefined) await writeFile(predictionsPath, predictionsCsv(set, evaluation.predictions));
  const result = {
    model: foldDirs ?? modelDir,
    split: scope,
    backend,
    count: m.count,
    decisionRule: rule,
    leads,
    accuracy: m.accuracy,
    weightedF1: m.weightedF1,
    macroF1: m.macroF1,
    perClass: Object.fromEntries(AAMI_CLASSES.map((c) => [c, m.perClass[c]])),
    confusion: m.confusion,
    ec57: evaluation.ec57,
    faithfulness: evaluation.faithfulness,
    prematurityCurve: evaluation.prematurityCurve,
    report: reportPath,
    predictions: predictionsPath ?? null,
    seconds: Number(((performance.now() - started) / 1000).toFixed(1)),
  };
  if (values.json === true) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return;
  }
  const lines = [
    `${m.count} test beats (${scope}): accuracy ${(100 * m.accuracy).toFixed(2)} %, weighted F1 ${m.weightedF1.toFixed(4)}, macro F1 ${m.macroF1.toFixed(4)}`,
    'class  beats  precision  recall     F1   specificity    AUC',
    ...AAMI_CLASSES.map((c) => {
      const p = m.perClass[c];
      return `${c.padEnd(5)}${String(p.support).padStart(7)}${(100 * p.precision).toFixed(2).padStart(10)}${(100 * p.recall).toFixed(2).padStart(9)}${p.f1.toFixed(4).padStart(8)}${(100 * p.specificity).toFixed(2).padStart(13)}${(Number.isNaN(p.auc) ? '–' : p.auc.toFixed(4)).padStart(8)}`;
    }),
    `EC57 Se/+P % (V and S as EC57 counts ectopic beats): ${(['N', 'S', 'V', 'F'] as const).map((c) => `${c} ${evaluation.ec57[c].se.toFixed(1)}/${evaluation.ec57[c].ppv.toFixed(1)}`).join(', ')}`,
    ...(evaluation.prematurityCurve.length === 0
      ? []
      : [
          `S Se/+P % at other prematurity ratios (the rule's marked *): ${evaluation.prematurityCurve.map((q) => `${q.ratio}${q.isRule ? '*' : ''} ${q.se.toFixed(1)}/${q.ppv.toFixed(1)}`).join(', ')}`,
        ]),
    `confusion (rows true, columns predicted ${AAMI_CLASSES.join(' ')}): ${JSON.stringify(m.confusion)}`,
    `Grad-CAM faithfulness (${evaluation.faithfulness.beats} beats): top-20 % deletion drop ${evaluation.faithfulness.topDrop.toFixed(4)} vs random ${evaluation.faithfulness.randomDrop.toFixed(4)}`,
    `report: ${reportPath}`,
    ...(predictionsPath === undefined ? [] : [`predictions: ${predictionsPath}`]),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

runMain(main);
