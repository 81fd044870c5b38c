import { AAMI_CLASSES, type AamiClass } from '../stream/contracts/aami.js';
import { parseCommandLine, runMain } from './cli.js';
import { ConfigError } from '../stream/contracts/errors.js';
import { initBackend } from '../stream/model/backend.js';
import { SHIPPED_MODEL_DIR } from '../stream/model/shipped.js';
import { mitdbDir, selectRecords } from '../stream/wfdb/index.js';
import { inspectBeats, leadShapeSummary, type LeadShapeSummary } from '../stream/model/inspection.js';

const USAGE = `npm run inspect:beats -- --record REC --from S --to S [--model DIR] [--json]
Every reference beat of a stretch of one record, as the classifier saw it: the cardiologists'
label, the label the model gives it (with its decision rule), the class probabilities and p(V)
after its rule's family vote (the earlier beats of the same QRS shape in the record), the RR
features, and how much its QRS correlates with the patient's normal beats of the previous minute
in each recorded lead. Reference beats the monitor did not classify (missed by the R-peak
detector, or too near the record's start or end for a whole window) are listed as unclassified.

npm run inspect:beats -- --class V [--records LIST] [--json]
Per record, the reference beats of a class whose QRS has the patient's normal shape in the
monitoring lead (correlation > 0.9 with the previous minute's N beats) and, of those, how many
have another shape (< 0.5) in the other lead: what a one-lead classifier cannot see.`;

async function main(): Promise<void> {
  const { values } = parseCommandLine(
    'inspect:beats',
    process.argv.slice(2),
    {
      record: { type: 'string' },
      records: { type: 'string' },
      class: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      model: { type: 'string' },
      json: { type: 'boolean' },
      dir: { type: 'string' },
      'cache-dir': { type: 'string' },
    },
    USAGE,
  );
  const dir = values.dir ?? mitdbDir();
  if (values.class !== undefined) {
    await printLeadShapes(dir, values.class, values.records, values.json === true);
    return;
  }
  const from = Number(values.from);
  const to = Number(values.to);
  if (values.record === undefined || !Number.isFinite(from) || !Number.isFinite(to) || from < 0 || to <= from)
    throw new ConfigError(`inspect:beats: --record and seconds --from < --to (or --class) are required\n${USAGE}`);
  const [record] = await selectRecords(dir, values.record, 'inspect:beats');
  await initBackend();
  const beats = await inspectBeats(dir, record!, from, to, values.model ?? SHIPPED_MODEL_DIR, values['cache-dir']);
  if (beats.length === 0)
    throw new ConfigError(`inspect:beats: record ${record} has no reference beat in ${from}..${to} s`);
  if (values.json === true) {
    // the interval after a beat is Infinity (no beat within the wait) or NaN (not known): JSON has neither
    const finite = (_: string, v: unknown): unknown => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v);
    process.stdout.write(`${JSON.stringify({ record, from, to, beats }, finite, 2)}\n`);
    return;
  }
  const leads = Object.keys(beats[0]!.normalCorrelation);
  const header = [
    'time s',
    'ref',
    'model',
    'why',
    ...AAMI_CLASSES.map((c) => `p(${c})`),
    'voted p(V)',
    'RR s',
    'RR/mean',
    'RR/base',
    'irreg',
    'next/RR',
    'P agree',
    ...leads.map((l) => `r ${l}`),
  ];
  const cell = (v: number | null | undefined, digits = 2): string =>
    v === null || v === undefined ? '-' : v.toFixed(digits);
  const rows = beats.map((b) => [
    b.timeS.toFixed(2),
    b.referenceClass === b.reference ? b.reference : `${b.reference}(${b.referenceClass})`,
    b.classified ? (b.predicted ?? '-') : 'unclassified',
    b.reason ?? '-',
    ...AAMI_CLASSES.map((c) => cell(b.probabilities?.[c])),
    cell(b.votedV),
    cell(b.rr?.previousS),
    cell(b.rr?.ratio),
    cell(b.rr?.baselineRatio),
    cell(b.rr?.irregularity, 3),
    cell(b.rr?.nextRatio),
    cell(b.rr?.pWaves),
    ...leads.map((l) => cell(b.normalCorrelation[l])),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  for (const line of [header, ...rows])
    process.stdout.write(`${line.map((v, i) => v.padStart(widths[i]!)).join('  ')}\n`);
  process.stdout.write(
    `r LEAD: correlation of the QRS (-0.1..+0.15 s) with the median of the reference N beats of the previous 60 s in that lead\n`,
  );
}

/** `--class`: per record, the beats of `cls` that look normal in the monitoring lead only. */
async function printLeadShapes(dir: string, cls: string, records: string | undefined, json: boolean): Promise<void> {
  if (!(AAMI_CLASSES as readonly string[]).includes(cls))
    throw new ConfigError(`inspect:beats: --class must be one of ${AAMI_CLASSES.join(', ')}`);
  const selected = await selectRecords(dir, records, 'inspect:beats');
  const summaries: LeadShapeSummary[] = [];
  for (const record of selected) summaries.push(await leadShapeSummary(dir, record, cls as AamiClass));
  if (json) {
    process.stdout.write(`${JSON.stringify({ class: cls, records: summaries }, null, 2)}\n`);
    return;
  }
  const total = (k: 'beats' | 'normalShapeInMonitoringLead' | 'otherShapeInOtherLead') =>
    summaries.reduce((n, r) => n + r[k], 0);
  for (const r of summaries.filter((r) => r.beats > 0))
    process.stdout.write(
      `${r.record}  ${cls} beats ${r.beats}, normal shape in the monitoring lead ${r.normalShapeInMonitoringLead}, of which another shape in ${r.otherLead} ${r.otherShapeInOtherLead}\n`,
    );
  process.stdout.write(
    `all  ${cls} beats ${total('beats')}, normal shape in the monitoring lead ${total('normalShapeInMonitoringLead')}, of which another shape in the other lead ${total('otherShapeInOtherLead')}\n`,
  );
}

runMain(main);
