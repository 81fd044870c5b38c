import { copyFile, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseCommandLine, runMain } from './cli.js';
import { ConfigError } from '../stream/contracts/errors.js';
import { initBackend } from '../stream/model/backend.js';
import { parseFamilyVote, parsePausedPremature, parseSinusPWaves, ruleOf, sameRule } from '../stream/model/decision.js';
import { ENSEMBLE_FILE, loadModel, rIndexOf, rIndicesOf, type EnsembleJson } from '../stream/model/io.js';

const USAGE = `npm run ensemble -- --members DIR,DIR[,...] --out DIR [--id NAME] [--family-vote R,W]
    [--paused-premature R,P,RI,PI] [--sinus-p-waves X]
Makes one model of several trained ones (same inputs, same decision rule): its class
probabilities are the members' average, its Grad-CAM their mean curve. Members trained at
different R indices (train --r-index) each read their own window, cut from one longer window
per beat; the first member's is the one shown with the beat. Members are copied
into DIR/member-K; every command that takes --model (or models/beat-classifier) loads it.
--family-vote R,W adds to the members' rule a vote of each beat's QRS family on its p(V)
(families of correlation at least R, the family's mean weighted W; see the model card).
--paused-premature R,P,RI,PI adds a step: a beat left N whose RR is below R x the 200-beat
baseline and whose next RR is at least P x its own is S (RI and PI in an irregular rhythm).
--sinus-p-waves X counts an irregular rhythm as regular while the median correlation of the
previous 16 beats' P-wave segments with the patient's template is at least X (the members'
rule must have an irregularity limit).
Metadata the members do not all share (seeds, epochs, held-out records) is not the ensemble's:
an ensemble of fold models keeps its fold's held-out records only if every member held them out.`;

/** Files of a saved model that go with it into the ensemble (training.json when there is one). */
const MODEL_FILES = ['model.json', 'weights.bin'] as const;

async function main(): Promise<void> {
  const { values } = parseCommandLine(
    'ensemble',
    process.argv.slice(2),
    {
      members: { type: 'string' },
      out: { type: 'string' },
      id: { type: 'string' },
      'family-vote': { type: 'string' },
      'paused-premature': { type: 'string' },
      'sinus-p-waves': { type: 'string' },
    },
    USAGE,
  );
  const members = values.members?.split(',').filter((m) => m.length > 0) ?? [];
  if (members.length < 2) throw new ConfigError(`ensemble: --members needs two or more model directories\n${USAGE}`);
  if (values.out === undefined) throw new ConfigError(`ensemble: --out is required\n${USAGE}`);
  const vote = values['family-vote'] === undefined ? undefined : parseFamilyVote('ensemble', values['family-vote']);
  const pause =
    values['paused-premature'] === undefined ? undefined : parsePausedPremature('ensemble', values['paused-premature']);
  const sinus =
    values['sinus-p-waves'] === undefined ? undefined : parseSinusPWaves('ensemble', values['sinus-p-waves']);
  await initBackend(undefined, () => undefined);
  const loaded = await Promise.all(members.map((dir) => loadModel(dir)));
  // compared as read, so that a rule saved before a field existed equals one saving its default
  const rules = loaded.map((m) => ruleOf(m.metadata));
  if (rules.some((rule) => !sameRule(rule, rules[0]!))) {
    const saved = rules.map((rule) => JSON.stringify(rule)).join(' vs ');
    throw new ConfigError(`ensemble: members have different decision rules (${saved})`);
  }
  if (sinus !== undefined && rules[0]!.irregularityLimit === null)
    throw new ConfigError('ensemble: --sinus-p-waves needs members whose rule has an irregularity limit');
  // members trained at different R indices each read a window of their own (windowLayout),
  // so each must itself take one index
  const nested = members.filter((_, k) => rIndicesOf(loaded[k]!.metadata).length > 1);
  if (nested.length > 0)
    throw new ConfigError(`ensemble: ${nested.join(', ')} take(s) windows at several R indices; give their members`);
  const rIndices = [...new Set(loaded.map((m) => rIndexOf(m.metadata)))];
  const out = values.out;
  const staging = `${out}.tmp`;
  await rm(staging, { recursive: true, force: true });
  const names = members.map((_, k) => `member-${k}`);
  for (const [k, dir] of members.entries()) {
    const target = join(staging, names[k]!);
    await mkdir(target, { recursive: true });
    for (const file of MODEL_FILES) await copyFile(join(dir, file), join(target, file));
    await copyFile(join(dir, 'training.json'), join(target, 'training.json')).catch(() => undefined);
  }
  // Only what every member shares (data, window, rule) describes the ensemble: a value of one
  // member would mislead, e.g. held-out records that another member trained on would let
  // eval:model --folds score the ensemble on beats it has seen.
  const same = (key: string, value: unknown) =>
    loaded.every((m) => JSON.stringify(m.metadata[key]) === JSON.stringify(value));
  const shared = Object.fromEntries(Object.entries(loaded[0]!.metadata).filter(([key, value]) => same(key, value)));
  const json: EnsembleJson = {
    members: names,
    metadata: {
      ...shared,
      // the first member's window is the one shown and the one the families read
      rIndex: rIndices[0],
      ...(rIndices.length > 1 ? { rIndices } : {}),
      decisionRule: {
        ...rules[0]!,
        ...(vote === undefined ? {} : { familyVote: vote }),
        ...(pause === undefined ? {} : { pausedPremature: pause }),
        ...(sinus === undefined ? {} : { sinusPWaves: sinus }),
      },
      modelId: values.id ?? `ensemble-of-${members.length}`,
      members: loaded.map((m, k) => ({
        from: members[k],
        modelId: m.metadata.modelId,
        epoch: m.metadata.epoch,
        seed: m.metadata.seed,
      })),
    },
  };
  await writeFile(join(staging, ENSEMBLE_FILE), `${JSON.stringify(json, null, 2)}\n`);
  await loadModel(staging); // members that cannot stand together fail here, before out is touched
  await rm(out, { recursive: true, force: true });
  await rename(staging, out);
  process.stderr.write(`ensemble of ${members.length} models written to ${out}\n`);
}

runMain(main);
