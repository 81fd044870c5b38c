import { parseCommandLine, runMain } from '../cli.js';
import { ConfigError } from '../errors.js';
import { AAMI_CLASSES } from '../model/aami.js';
import { initBackend } from '../model/backend.js';
import { SHIPPED_MODEL_DIR } from '../model/shipped.js';
import { mitdbDir, selectRecords } from '../wfdb/index.js';
import { inspectBeats } from './beatInspection.js';

const USAGE = `npm run inspect:beats -- --record REC --from S --to S [--model DIR] [--json]
Every reference beat of a stretch of one record, as the classifier saw it: the cardiologists'
label, the label the model gives it (with its decision rule), the class probabilities, the RR
features, and how much its QRS correlates with the patient's normal beats of the previous minute
in each recorded lead. Reference beats the R-peak detector missed are listed as missed.`;

async function main(): Promise<void> {
  const { values } = parseCommandLine(
    'inspect:beats',
    process.argv.slice(2),
    {
      record: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      model: { type: 'string' },
      json: { type: 'boolean' },
      'data-dir': { type: 'string' },
      'cache-dir': { type: 'string' },
    },
    USAGE,
  );
  const from = Number(values.from);
  const to = Number(values.to);
  if (values.record === undefined || !Number.isFinite(from) || !Number.isFinite(to) || from < 0 || to <= from)
    throw new ConfigError(`inspect:beats: --record and seconds --from < --to are required\n${USAGE}`);
  const dir = values['data-dir'] ?? mitdbDir();
  const [record] = await selectRecords(dir, values.record, 'inspect:beats');
  await initBackend();
  const beats = await inspectBeats(dir, record!, from, to, values.model ?? SHIPPED_MODEL_DIR, values['cache-dir']);
  if (beats.length === 0)
    throw new ConfigError(`inspect:beats: record ${record} has no reference beat in ${from}..${to} s`);
  if (values.json === true) {
    process.stdout.write(`${JSON.stringify({ record, from, to, beats }, null, 2)}\n`);
    return;
  }
  const leads = Object.keys(beats[0]!.normalCorrelation);
  const header = [
    'time s',
    'ref',
    'model',
    ...AAMI_CLASSES.map((c) => `p(${c})`),
    'RR s',
    'RR/mean',
    ...leads.map((l) => `r ${l}`),
  ];
  const cell = (v: number | null | undefined, digits = 2): string =>
    v === null || v === undefined ? '-' : v.toFixed(digits);
  const rows = beats.map((b) => [
    b.timeS.toFixed(2),
    b.referenceClass === b.reference ? b.reference : `${b.reference}(${b.referenceClass})`,
    b.detected ? (b.predicted ?? '-') : 'missed',
    ...AAMI_CLASSES.map((c) => cell(b.probabilities?.[c])),
    cell(b.rr?.previousS),
    cell(b.rr?.ratio),
    ...leads.map((l) => cell(b.normalCorrelation[l])),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  for (const line of [header, ...rows])
    process.stdout.write(`${line.map((v, i) => v.padStart(widths[i]!)).join('  ')}\n`);
  process.stdout.write(
    `r LEAD: correlation of the QRS (-0.1..+0.15 s) with the median of the reference N beats of the previous 60 s in that lead\n`,
  );
}

runMain(main);
