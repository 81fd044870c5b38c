import { writeFile } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { parseCommandLine, prepareOutput, runMain } from './cli.js';
import { escapeHtml } from './html.js';
import type { WithheldAlarm } from '../stream/alarms/engine.js';
import type { Alarm } from '../stream/alarms/types.js';
import { ConfigError } from '../stream/contracts/errors.js';
import { leadPhysical, type SampleFrame } from '../stream/contracts/frame.js';
import {
  CHALLENGE_WINDOW_S,
  challengeAlarmOf,
  challengeScores,
  raisedWithin,
  type RaisedAlarm,
  type ChallengeAlarm,
  type ChallengeScore,
} from '../stream/eval/alarmChallenge.js';
import { initBackend } from '../stream/model/backend.js';
import { BeatClassifier } from '../stream/model/inference.js';
import { SHIPPED_MODEL_DIR } from '../stream/model/shipped.js';
import type { PendingBeat } from '../stream/pipeline/bedMonitor.js';
import { modelClassifier } from '../stream/pipeline/classifier.js';
import { usableFrameProblem } from '../stream/pipeline/frameChecks.js';
import { bedMonitorFor, type Classify } from '../stream/pipeline/ward.js';
import { recordFrames } from '../simulators/replay.js';
import { readRecord, selectRecords, sharedDataDir, WfdbError, type WfdbRecord } from '../stream/wfdb/index.js';

const USAGE = `npm run eval:alarms -- [--dir DIR] [--records a103l,v131l] [--whole] [--json] [--report FILE] [--model DIR]
Scores the monitor's alarms on PhysioNet/CinC Challenge 2015 records (default DIR: ../shared/data/cinc2015):
each record is fed frame by frame through the monitor's per-bed processing (signal checks, front end,
classifier, alarm engine) up to the alarm at 5:00, and the monitor raises the record's alarm when it has
that alarm active in the ${CHALLENGE_WINDOW_S} s before it. --whole goes on to the record's end (30 s more in
the "l" records), as the challenge's retrospective track. Each record runs twice: with every signal it
holds (the pulse of its PLETH or ABP as a second witness) and with its ECG leads alone. The score is the
challenge's, 100 (TP + TN) / (TP + TN + FP + 5 FN), overall and per alarm type. --report writes an HTML
page with the signals before each alarm the monitor got wrong.`;

/** Replay frame length, ms (DESIGN.md). */
const FRAME_MS = 250;
/** Beats cut are classified in batches of this many frames' worth: the live pipeline's classification lag, about. */
const CLASSIFY_EVERY_FRAMES = 4;

/** What the monitor did with one record, with all its signals or with its ECG alone. */
interface RecordRun {
  readonly raised: boolean;
  /** Every alarm the monitor raised up to the decision's end, by type and time, for the report. */
  readonly alarms: readonly (RaisedAlarm & { readonly detail?: string })[];
  /** The alarms the pulse held back, and why. */
  readonly withheld: readonly WithheldAlarm[];
}

interface RecordResult {
  readonly record: string;
  readonly alarm: ChallengeAlarm;
  readonly signals: readonly string[];
  readonly withPulse: RecordRun;
  readonly ecgOnly: RecordRun;
}

/** The frame with its ECG leads alone. */
function ecgOnly(frame: SampleFrame): SampleFrame {
  const keep = frame.leads.flatMap((l, i) => (l.kind === 'ecg' ? [i] : []));
  if (keep.length === frame.leads.length) return frame;
  const n = frame.samples.length / frame.leads.length;
  const samples = new Int16Array(n * keep.length);
  for (let i = 0; i < n; i++)
    keep.forEach((l, k) => (samples[i * keep.length + k] = frame.samples[i * frame.leads.length + l]!));
  return { ...frame, leads: keep.map((l) => frame.leads[l]!), samples };
}

/**
 * Feeds a record's frames up to `untilS` through one bed's processing, as a pipeline worker
 * would: each frame to the bed's monitor, the beat windows it cuts to the classifier a few
 * frames later, the classified beats back to the monitor. Returns every alarm state change.
 */
async function monitorRecord(
  frames: readonly SampleFrame[],
  classify: Classify,
  bedId: string,
): Promise<{ alarms: Alarm[]; withheld: WithheldAlarm[] }> {
  const bed = classify.open?.() ?? classify;
  const monitor = bedMonitorFor(bedId, bed);
  const alarms: Alarm[] = [];
  const withheld: WithheldAlarm[] = [];
  let pending: PendingBeat[] = [];
  const classifyPending = async (): Promise<void> => {
    if (pending.length === 0) return;
    const batch = pending;
    pending = [];
    for (const beat of await bed(batch)) alarms.push(...monitor.onClassified(beat));
  };
  for (const [i, frame] of frames.entries()) {
    const problem = usableFrameProblem(frame);
    if (problem !== undefined) throw new ConfigError(`${frame.source}: ${problem.reason}`);
    const out = monitor.onFrame(frame);
    alarms.push(...out.alarms);
    pending.push(...out.beats);
    if (i % CLASSIFY_EVERY_FRAMES === CLASSIFY_EVERY_FRAMES - 1) await classifyPending();
    withheld.push(...monitor.alarms.drainWithheld());
  }
  await classifyPending();
  withheld.push(...monitor.alarms.drainWithheld());
  bed.forget?.(bedId);
  return { alarms, withheld };
}

/** The raised alarms (an alarm's first message and its end) of a run, by type and time. */
function summarise(changes: readonly Alarm[]): RecordRun['alarms'] {
  const byId = new Map<string, RecordRun['alarms'][number]>();
  for (const a of changes) {
    const known = byId.get(a.id);
    byId.set(a.id, {
      type: a.type,
      raisedS: known?.raisedS ?? a.raisedS,
      endS: a.endS,
      ...(a.detail === undefined ? {} : { detail: a.detail }),
    });
  }
  return [...byId.values()];
}

async function scoreRecord(
  record: WfdbRecord,
  alarm: ChallengeAlarm,
  source: string,
  classify: Classify,
  whole: boolean,
): Promise<Omit<RecordResult, 'record' | 'alarm'>> {
  const fs = record.header.samplingFrequency;
  const length = record.signals[0]?.digital.length ?? 0;
  const untilS = whole ? length / fs : alarm.atS;
  const frames = [...recordFrames(record, 'bed', source, { frameMs: FRAME_MS, loop: false })]
    .filter((f) => f.firstSample / fs < untilS)
    .map((f, i) => ({ ...f, producedAtMs: i * FRAME_MS }));
  const run = async (input: readonly SampleFrame[]): Promise<RecordRun> => {
    const { alarms: changes, withheld } = await monitorRecord(input, classify, 'bed');
    const alarms = summarise(changes);
    return { raised: raisedWithin(alarms, alarm.type, alarm.atS - CHALLENGE_WINDOW_S, untilS), alarms, withheld };
  };
  return {
    signals: frames[0]?.leads.map((l) => `${l.name} (${l.kind})`) ?? [],
    withPulse: await run(frames),
    ecgOnly: await run(frames.map(ecgOnly)),
  };
}

/** A run's scores as the JSON and the text report give them. */
function scoresOf(results: readonly RecordResult[], run: 'withPulse' | 'ecgOnly') {
  return challengeScores(results.map((r) => ({ type: r.alarm.type, truth: r.alarm.truth, raised: r[run].raised })));
}

function formatScore(name: string, s: ChallengeScore): string {
  const pct = (x: number | null): string => (x === null ? '  n/a' : x.toFixed(1).padStart(5));
  return `${name.padEnd(26)} ${String(s.records).padStart(4)}  TP ${String(s.tp).padStart(3)}  FP ${String(s.fp).padStart(3)}  TN ${String(s.tn).padStart(3)}  FN ${String(s.fn).padStart(3)}  TPR ${pct(s.tpr)}  TNR ${pct(s.tnr)}  score ${pct(s.score)}`;
}

function formatReport(results: readonly RecordResult[]): string {
  const lines: string[] = [];
  for (const run of ['withPulse', 'ecgOnly'] as const) {
    const scores = scoresOf(results, run);
    lines.push(run === 'withPulse' ? 'With every signal (pulse as a witness):' : 'With the ECG leads alone:');
    for (const [type, s] of Object.entries(scores.byType)) lines.push(`  ${formatScore(type, s)}`);
    lines.push(`  ${formatScore('all', scores)}`);
  }
  return lines.join('\n');
}

/** One signal over the stretch before the alarm, as an SVG polyline scaled to its own range. */
function strip(record: WfdbRecord, lead: number, fromS: number, toS: number, width: number, height: number): string {
  const frame = [...recordFrames(record, 'bed', 'report', { frameMs: (toS - fromS) * 1000 + 1000, loop: false })].find(
    (f) =>
      f.firstSample / f.sampleRate <= fromS &&
      (f.firstSample + f.samples.length / f.leads.length) / f.sampleRate >= toS,
  );
  if (frame === undefined) return '';
  const x = leadPhysical(frame, lead);
  const fs = frame.sampleRate;
  const from = Math.round(fromS * fs - frame.firstSample);
  const to = Math.round(toS * fs - frame.firstSample);
  const values = Array.from(x.subarray(from, to));
  const valid = values.filter((v) => !Number.isNaN(v));
  if (valid.length === 0) return `<text x="4" y="${height / 2}" fill="#888">no valid sample</text>`;
  const lo = Math.min(...valid);
  const span = Math.max(...valid) - lo || 1;
  const step = Math.max(1, Math.floor(values.length / width));
  const points: string[] = [];
  for (let i = 0; i < values.length; i += step) {
    const v = values[i]!;
    if (Number.isNaN(v)) continue;
    points.push(
      `${((i / values.length) * width).toFixed(1)},${(height - ((v - lo) / span) * (height - 4) - 2).toFixed(1)}`,
    );
  }
  return `<polyline fill="none" stroke="#2a6" stroke-width="1" points="${points.join(' ')}"/>`;
}

async function htmlReport(dir: string, results: readonly RecordResult[]): Promise<string> {
  const wrong = results.filter((r) => r.withPulse.raised !== r.alarm.truth);
  const sections: string[] = [];
  for (const r of wrong) {
    const record = await readRecord(dir, r.record);
    const fromS = r.alarm.atS - CHALLENGE_WINDOW_S;
    const svgs = record.header.signals.map((s, l) => {
      const svg = strip(record, l, fromS, r.alarm.atS, 960, 70);
      return `<div class="sig">${escapeHtml(s.description)}</div><svg width="960" height="70">${svg}</svg>`;
    });
    const verdict = r.alarm.truth ? 'true alarm withheld (missed)' : 'false alarm raised';
    const raised = r.withPulse.alarms
      .filter((a) => a.raisedS <= r.alarm.atS + 30)
      .map(
        (a) =>
          `${escapeHtml(a.type)} ${a.raisedS.toFixed(1)}–${a.endS === undefined ? '…' : a.endS.toFixed(1)} s${a.detail === undefined ? '' : ` (${escapeHtml(a.detail)})`}`,
      )
      .join('; ');
    const withheld = r.withPulse.withheld
      .filter((w) => w.atS >= fromS - 30)
      .map((w) => `${w.atS.toFixed(1)} s: ${escapeHtml(w.reason)}`)
      .join('; ');
    sections.push(
      `<section><h2>${escapeHtml(r.record)}: ${escapeHtml(r.alarm.type)}, ${verdict}</h2>` +
        `<p>Signals ${fromS}–${r.alarm.atS} s. The monitor's alarms: ${raised || 'none'}.${withheld === '' ? '' : ` Withheld: ${withheld}.`}</p>${svgs.join('')}</section>`,
    );
  }
  const table = (run: 'withPulse' | 'ecgOnly'): string => {
    const scores = scoresOf(results, run);
    const row = (name: string, s: ChallengeScore): string =>
      `<tr><td>${escapeHtml(name)}</td>${[s.records, s.tp, s.fp, s.tn, s.fn, s.tpr, s.tnr, s.score].map((v) => `<td>${v ?? 'n/a'}</td>`).join('')}</tr>`;
    return (
      `<table><tr><th>alarm</th><th>records</th><th>TP</th><th>FP</th><th>TN</th><th>FN</th><th>TPR %</th><th>TNR %</th><th>score</th></tr>` +
      Object.entries(scores.byType)
        .map(([t, s]) => row(t, s))
        .join('') +
      row('all', scores) +
      '</table>'
    );
  };
  return `<!doctype html><meta charset="utf-8"><title>Alarms on CinC 2015 records</title>
<style>body{font:14px system-ui;margin:20px}td,th{padding:2px 8px;text-align:right}svg{background:#fafafa;display:block}.sig{font-size:12px;color:#555}</style>
<h1>Alarms on ${results.length} CinC 2015 records (${escapeHtml(dir)})</h1>
<h2>With every signal</h2>${table('withPulse')}<h2>With the ECG leads alone</h2>${table('ecgOnly')}
<h1>The ${wrong.length} alarms the monitor got wrong (with every signal)</h1>${sections.join('\n')}`;
}

async function main(): Promise<void> {
  const { values } = parseCommandLine(
    'eval:alarms',
    process.argv.slice(2),
    {
      dir: { type: 'string' },
      records: { type: 'string' },
      whole: { type: 'boolean' },
      json: { type: 'boolean' },
      report: { type: 'string' },
      model: { type: 'string' },
    },
    USAGE,
  );
  const dir = resolve(values.dir ?? sharedDataDir('cinc2015'));
  const records = await selectRecords(dir, values.records, 'eval:alarms');
  const report =
    values.report === undefined ? undefined : await prepareOutput('eval:alarms', '--report', values.report);
  const backend = await initBackend();
  const classifier = await BeatClassifier.load(values.model ?? SHIPPED_MODEL_DIR);
  process.stderr.write(`eval:alarms: model ${classifier.modelId} on ${backend}\n`);
  const classify = modelClassifier(classifier);
  const db = basename(dir);
  const results: RecordResult[] = [];
  const unreadableRecords: { record: string; reason: string }[] = [];
  for (const name of records) {
    try {
      const record = await readRecord(dir, name);
      const alarm = challengeAlarmOf(record.header);
      if ('problem' in alarm) throw new ConfigError(`${name}.hea: ${alarm.problem}`);
      const result = {
        record: name,
        alarm,
        ...(await scoreRecord(record, alarm, `${db}/${name}`, classify, values.whole === true)),
      };
      results.push(result);
      const said = (raised: boolean): string => (raised === alarm.truth ? 'right' : raised ? 'false alarm' : 'missed');
      process.stderr.write(
        `eval:alarms: ${db}/${name} ${alarm.type} (${alarm.truth ? 'true' : 'false'}): with every signal ${said(result.withPulse.raised)}, ECG alone ${said(result.ecgOnly.raised)}\n`,
      );
    } catch (error) {
      if (!(error instanceof WfdbError || error instanceof ConfigError)) throw error;
      unreadableRecords.push({ record: `${db}/${name}`, reason: error.message });
      process.stderr.write(`eval:alarms: ${db}/${name} not scored: ${error.message}\n`);
      continue;
    }
  }
  if (results.length === 0) throw new ConfigError('eval:alarms: none of the records could be scored');
  if (report !== undefined) await writeFile(report, await htmlReport(dir, results));
  if (values.json === true) {
    const run = (r: 'withPulse' | 'ecgOnly') => scoresOf(results, r);
    const perRecord = results.map((r) => ({
      record: `${db}/${r.record}`,
      type: r.alarm.type,
      truth: r.alarm.truth,
      withPulse: r.withPulse.raised,
      ecgOnly: r.ecgOnly.raised,
    }));
    process.stdout.write(
      `${JSON.stringify({ dir, whole: values.whole === true, withPulse: run('withPulse'), ecgOnly: run('ecgOnly'), perRecord, unreadableRecords })}\n`,
    );
  } else process.stdout.write(`${formatReport(results)}\n`);
  if (unreadableRecords.length > 0) process.exitCode = 1;
}

runMain(main);
