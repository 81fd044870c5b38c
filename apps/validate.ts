import { embeddedKafka } from '../stream/kafka/connection.js';
import { AAMI_CLASSES } from '../stream/contracts/aami.js';
import { writeFile } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import {
  DEFAULT_NOISE_SNR_DB,
  FAULT_TECHNICAL_ALARM,
  injectFaults,
  parseFaultKinds,
  type InjectedFault,
} from '../simulators/faults.js';
import { publishReplay, ReplayPacer } from '../simulators/publish.js';
import { parseCommandLine, positiveNumber, prepareOutput, runMain, speedOption } from './cli.js';
import { ConfigError } from '../stream/contracts/errors.js';
import { escapeHtml } from './html.js';
import { followTopic } from '../stream/kafka/follow.js';
import { alertCodec, beatCodec, type AlertMessage } from '../stream/contracts/messages.js';
import { TOPICS } from '../stream/contracts/topics.js';
import { initBackend } from '../stream/model/backend.js';
import { BeatClassifier } from '../stream/model/inference.js';
import { SHIPPED_MODEL_DIR } from '../stream/model/shipped.js';
import { modelClassifier } from '../stream/pipeline/classifier.js';
import { REPLAY_DRAIN_MS } from '../stream/pipeline/ward.js';
import { runPipelineWorker, workerFailure } from '../stream/pipeline/worker.js';
import { loadBeds, type ReplayBed } from '../simulators/replay.js';
import { parseSynthEvents, SYNTH_EVENT_KINDS, synthBeds } from '../simulators/synth.js';
import {
  DataIntegrityError,
  mitdbDir,
  nstdbDir,
  readRecord,
  recordFiles,
  selectRecords,
  verifyDirectory,
} from '../stream/wfdb/index.js';
import { COMPARED_LABELS, ectopicFigures, pairMatrix, positivePredictivity, sensitivity } from '../stream/eval/ec57.js';
import {
  alarmEpisodes,
  falseAlarms,
  addDecisionCounts,
  HIGH_PRIORITY_TYPES,
  highPriorityEpisodeDuring,
  missedEpisodes,
  SCORED_ALARMS,
  referenceEpisodes,
  scoreAlarms,
  scoreBeats,
  type AlarmTypeScore,
  type DecisionCounts,
  type ReferenceEpisode,
  type ScoredBeat,
} from '../stream/eval/validate.js';

/**
 * Episodes and alarms are scored per bed; putting bed i's times at i × this on one time line
 * keeps the beds apart in one list (no record lasts 11 days).
 */
const BED_SPACING_S = 1e6;

/** Bed index and the bed's own time (s) of a time on the shared line. */
function bedTime(t: number): { bed: number; t: number } {
  const bed = Math.floor(t / BED_SPACING_S);
  return { bed, t: t - bed * BED_SPACING_S };
}

const tenths = (t: number): number => Number(t.toFixed(1));

const USAGE = `npm run validate -- [--dir DIR] [--records 100,208] [--speed max] [--json] [--report FILE] [--beats FILE] [--model DIR]
                         [--faults drop,duplicate,reorder,flat,noise] [--fault-every S] [--noise-snr DB]
                         [--synth N [--events SPEC] [--synth-duration S]]
Replays records (one bed each) through the real Kafka path (embedded broker, pipeline worker) and scores
the published ecg.beats and ecg.alerts against the reference annotations. --dir: the records' folder (default
$MITDB_DIR or ../shared/data/mitdb); records are named by the folder's name (svdb/800). Where a record has no
rhythm annotations, its VT episodes are the runs of five or more V beats above 100 bpm in its reference beats. --synth N validates N synthetic
beds instead (events as kind@s[:size], e.g. vt@60:8,asystole@120:6, or "demo"; kinds ${SYNTH_EVENT_KINDS.join(', ')}).
--faults damages each bed's stream every --fault-every s (default 300), the kinds taking turns; noise
bursts are the Noise Stress Test Database's muscle artefact at --noise-snr dB (default ${DEFAULT_NOISE_SNR_DB}, as nst(1) measures it).
--beats FILE writes every reference beat and every live beat as CSV: the reference's sample and class,
the live beat's sample, label, decision step, probabilities and voted p(V) (O for a missed beat or an
extra detection), to set beside \`eval:model --predictions\` or to study the live run beat by beat.`;

const SCORED_BEAT_HEADER = [
  'record',
  'reference_sample',
  'sample',
  'reference',
  'predicted',
  'reason',
  ...AAMI_CLASSES.map((c) => `p_${c}`),
  'voted_p_V',
].join(',');

/** `--beats` rows of one record; a missed beat has no live columns, an extra detection no reference sample. */
function scoredBeatRows(record: string, beats: readonly ScoredBeat[]): string[] {
  return beats.map(({ referenceSample, reference, beat }) =>
    [
      record,
      referenceSample ?? '',
      beat?.rPeakSample ?? '',
      reference,
      beat?.label ?? 'O',
      beat?.decision.reason ?? '',
      ...AAMI_CLASSES.map((c) => beat?.probabilities[c] ?? ''),
      beat?.decision.votedV ?? '',
    ].join(','),
  );
}

/** Replay frame length, s. */
const FRAME_S = 0.25;

/** A database's records (one bed each), or --synth N synthetic beds with their event script. */
async function bedsToValidate(
  dir: string,
  database: string,
  values: { records?: string; synth?: string; events?: string; 'synth-duration'?: string },
): Promise<ReplayBed[]> {
  if (values.synth === undefined) {
    const records = await selectRecords(dir, values.records, 'validate');
    return records.map((record) => ({ bedId: `${database}-${record}`, record, database }));
  }
  if (values.records !== undefined) throw new ConfigError('validate: give --records or --synth, not both');
  const count = positiveNumber('validate', 'synth', values.synth, true);
  const durationS = Number(values['synth-duration'] ?? '300');
  if (!(durationS > 10)) throw new ConfigError('validate: --synth-duration must be more than 10 s');
  return synthBeds(count, { durationS, events: parseSynthEvents(values.events ?? 'demo') });
}

async function main(): Promise<void> {
  const { values } = parseCommandLine(
    'validate',
    process.argv.slice(2),
    {
      dir: { type: 'string' },
      records: { type: 'string' },
      speed: { type: 'string' },
      json: { type: 'boolean' },
      report: { type: 'string' },
      beats: { type: 'string' },
      model: { type: 'string' },
      faults: { type: 'string' },
      'fault-every': { type: 'string' },
      'noise-snr': { type: 'string' },
      synth: { type: 'string' },
      events: { type: 'string' },
      'synth-duration': { type: 'string' },
    },
    USAGE,
  );
  const speed = speedOption('validate', values.speed ?? 'max');
  const faultKinds = values.faults === undefined ? [] : parseFaultKinds(values.faults);
  const faultEvery = Number(values['fault-every'] ?? '300');
  if (!(faultEvery > 10)) throw new ConfigError('validate: --fault-every must be more than 10 s');
  const noiseSnrDb = Number(values['noise-snr'] ?? String(DEFAULT_NOISE_SNR_DB));
  if (!Number.isFinite(noiseSnrDb)) throw new ConfigError('validate: --noise-snr must be a number of dB');
  const dir = values.dir === undefined ? mitdbDir() : resolve(values.dir);
  const database = values.dir === undefined ? 'mitdb' : basename(dir);
  const log = (l: string): void => void process.stderr.write(`${l}\n`);
  // a record that cannot be read is named and left out; the rest are still replayed and scored
  const requested = await bedsToValidate(dir, database, values);
  const { loaded: beds, unreadable } = await loadBeds(dir, requested);
  const unreadableRecords = unreadable.map(({ source, reason }) => ({ record: source, reason }));
  for (const u of unreadableRecords) log(`validate: ${u.record} not scored: ${u.reason}`);
  if (beds.length === 0) throw new ConfigError('validate: none of the records could be read');
  const provenance = await recordProvenance(
    dir,
    requested.flatMap((b) => ('record' in b ? [b.record] : [])),
  );
  if (provenance !== null && provenance.summary !== 'verified') log(`validate: ${describeProvenance(provenance)}`);
  const reportPath = await prepareOutput('validate', '--report', values.report ?? 'out/reports/validate.html');
  const beatsPath = values.beats === undefined ? undefined : await prepareOutput('validate', '--beats', values.beats);
  const noise = faultKinds.includes('noise') ? await muscleNoise(log) : undefined;
  const injected: InjectedFault[] = [];

  const backend = await initBackend(undefined, log);
  const classifier = await BeatClassifier.load(values.model ?? SHIPPED_MODEL_DIR);
  const connection = embeddedKafka('validate', log);
  const kafka = connection.kafka;
  const followed = [
    await followTopic(kafka, TOPICS.beats, (b) => beatCodec.decode(b)),
    await followTopic(kafka, TOPICS.alerts, (b) => alertCodec.decode(b)),
  ] as const;
  const [{ items: beats }, { items: alerts }] = followed;
  let lostFrames = 0;
  const pacer = new ReplayPacer();
  let published = 0;
  const stop = new AbortController();
  const worker = runPipelineWorker({
    kafka,
    classify: modelClassifier(classifier),
    modelId: classifier.modelId,
    stop: stop.signal,
    onEvent: (e) => void (e.kind === 'gap' && (lostFrames += e.lostFrames)),
    onFrame: pacer.onFrame,
    onPublished: (n) => void (published += n),
  });
  const failed = workerFailure(worker);
  const started = performance.now();
  const producer = kafka.producer();
  await producer.connect();
  const { frames } = await Promise.race([
    publishReplay(producer, beds, {
      frameMs: FRAME_S * 1000,
      loop: false,
      speed,
      throttle: pacer.throttle,
      transform: (stream, bed) =>
        injectFaults(
          stream,
          {
            kinds: faultKinds,
            everyS: faultEvery,
            noiseSnrDb,
            seed: beds.findIndex((b) => b.bed === bed) + 1,
            ...(noise === undefined ? {} : { noise }),
          },
          injected,
        ),
    }),
    failed,
  ]);
  await producer.disconnect();
  await Promise.race([pacer.allConsumed(frames), failed]);
  await Promise.race([new Promise((resolve) => setTimeout(resolve, REPLAY_DRAIN_MS)), failed]);
  stop.abort();
  await worker;
  const wallS = (performance.now() - started) / 1000;
  while (beats.length + alerts.length < published) await new Promise((resolve) => setTimeout(resolve, 50));
  await Promise.all(followed.map((f) => f.stop()));
  connection.close();

  // score each bed against its record
  let tp = 0;
  let fn = 0;
  let fp = 0;
  let duplicateBeats = 0;
  const pairs: Record<string, number> = {};
  const decisions: DecisionCounts = {};
  const reference: ReferenceEpisode[] = [];
  const perRecord: RecordFigures[] = [];
  const replayEndS = new Map<string, number>();
  const beatRows: string[] = [];
  for (const [index, { bed, record, annotations, source }] of beds.entries()) {
    const fs = record.header.samplingFrequency;
    const length = record.signals[0]?.digital.length ?? 0;
    replayEndS.set(bed.bedId, length / fs);
    const s = scoreBeats(
      annotations,
      fs,
      length,
      beats.filter((b) => b.bedId === bed.bedId),
    );
    tp += s.tp;
    fn += s.fn;
    fp += s.fp;
    duplicateBeats += s.duplicateBeats;
    for (const [k, n] of Object.entries(s.classPairs)) pairs[k] = (pairs[k] ?? 0) + n;
    addDecisionCounts(decisions, s.decisions);
    if (beatsPath !== undefined) beatRows.push(...scoredBeatRows('record' in bed ? bed.record : source, s.beats));
    const offset = index * BED_SPACING_S;
    for (const e of referenceEpisodes(annotations, fs, length / fs))
      reference.push({ ...e, startS: e.startS + offset, endS: e.endS + offset });
    perRecord.push({
      record: source,
      tp: s.tp,
      fn: s.fn,
      fp: s.fp,
      V: ectopicFigures(s.classPairs, 'V'),
      S: ectopicFigures(s.classPairs, 'S'),
      decisions: s.decisions,
    });
  }
  const shifted = alerts.map((a) => {
    const offset = beds.findIndex((b) => b.bed.bedId === a.bedId) * BED_SPACING_S;
    return {
      ...a,
      onsetS: a.onsetS + offset,
      raisedS: a.raisedS + offset,
      endS: a.endS === null ? null : a.endS + offset,
    };
  });
  // where each bed's stream ended, on the same shifted time line
  const streamEnd = new Map(
    beds.map(({ bed }, i) => [bed.bedId, i * BED_SPACING_S + (replayEndS.get(bed.bedId) ?? Infinity)]),
  );
  const alarms = scoreAlarms(reference, shifted, SCORED_ALARMS, (bedId) => streamEnd.get(bedId) ?? Infinity);
  const technical: Record<string, number> = {};
  // every bed's stream stops when its record ends: that stall is the replay's end, not a fault
  const replayEnded = (a: AlertMessage): boolean =>
    a.type === 'stream-stalled' && a.onsetS >= (replayEndS.get(a.bedId) ?? Infinity) - FRAME_S;
  for (const a of alerts)
    if (a.priority === 'technical' && a.state === 'active' && !replayEnded(a))
      technical[a.type] = (technical[a.type] ?? 0) + 1;
  // each false high-priority alarm, for whoever has to find out why it went off
  const shiftedEpisodes = alarmEpisodes(shifted);
  const falseHighPriorityList = HIGH_PRIORITY_TYPES.flatMap((type) =>
    falseAlarms(reference, shiftedEpisodes, type),
  ).map((a) => {
    const onset = bedTime(a.onsetS);
    return {
      record: perRecord[onset.bed]!.record,
      type: a.type,
      onsetS: tenths(onset.t),
      endS: Number.isFinite(a.endS) ? tenths(bedTime(a.endS).t) : null,
      duringReference: highPriorityEpisodeDuring(reference, a),
    };
  });
  const falseHighPriority = falseHighPriorityList.length;
  // each life-threatening reference episode not alarmed in time, with the command that shows its beats
  const missedHighPriority = HIGH_PRIORITY_TYPES.flatMap((type) =>
    missedEpisodes(reference, shiftedEpisodes, type),
  ).map((e) => {
    const [onset, end] = [bedTime(e.startS), bedTime(e.endS)];
    const record = perRecord[onset.bed]!.record;
    return {
      record,
      type: e.type,
      onsetS: tenths(onset.t),
      endS: tenths(end.t),
      inspect: record.startsWith(`${database}/`)
        ? `${database === 'mitdb' ? '' : `MITDB_DIR=${dir} `}npm run inspect:beats -- --record ${record.slice(database.length + 1)} --from ${Math.max(0, Math.floor(onset.t - 3))} --to ${Math.ceil(end.t + 3)}`
        : null,
    };
  });
  const falseWithoutLifeThreat = falseHighPriorityList.filter((a) => a.duringReference === null).length;
  // faults must surface as technical alarms, not arrhythmias: count arrhythmia alarms raised inside fault windows
  const injectedByKind: Record<string, number> = {};
  for (const f of injected) injectedByKind[f.kind] = (injectedByKind[f.kind] ?? 0) + 1;
  // which fault raised which arrhythmia alarm, for whoever has to make the monitor ignore it
  const duringFaults: Record<string, number> = {};
  for (const a of alerts) {
    if (a.priority === 'technical' || a.state !== 'active') continue;
    const fault = injected.find((f) => f.bedId === a.bedId && a.raisedS >= f.startS - 1 && a.raisedS <= f.endS + 5);
    if (fault !== undefined)
      duringFaults[`${fault.kind}: ${a.type}`] = (duringFaults[`${fault.kind}: ${a.type}`] ?? 0) + 1;
  }
  const arrhythmiaDuringFaults = Object.values(duringFaults).reduce((n, k) => n + k, 0);
  // and each fault that should raise a technical alarm: was one active during it (or up to 5 s after)?
  const shownAsTechnical: Record<string, { episodes: number; shown: number }> = {};
  for (const f of injected) {
    const type = FAULT_TECHNICAL_ALARM[f.kind];
    if (type === null) continue;
    const tally = (shownAsTechnical[f.kind] ??= { episodes: 0, shown: 0 });
    tally.episodes++;
    const shown = alerts.some(
      (a) => a.bedId === f.bedId && a.type === type && a.onsetS <= f.endS + 5 && (a.endS ?? Infinity) >= f.startS,
    );
    if (shown) tally.shown++;
  }
  const hours = (frames * FRAME_S) / 3600;
  const result = {
    records: beds.length,
    hoursOfEcg: Number(hours.toFixed(2)),
    wallSeconds: Number(wallS.toFixed(1)),
    backend,
    transport: connection.description,
    model: classifier.modelId,
    qrs: {
      se: Number(sensitivity({ tp, fn }).toFixed(3)),
      ppv: Number(positivePredictivity({ tp, fp }).toFixed(3)),
      tp,
      fn,
      fp,
    },
    classes: { V: ectopicFigures(pairs, 'V'), S: ectopicFigures(pairs, 'S') },
    // rows: reference label, columns: live label; O is a missed beat (column) or an extra detection (row)
    beatConfusion: { labels: COMPARED_LABELS, counts: pairMatrix(pairs) },
    // matched beats by the step of the decision rule that labelled them, and the reference's agreement
    decisions,
    alarms,
    falseHighPriorityAlarms: falseHighPriority,
    falseHighPriorityPer24h: Number(((falseHighPriority / hours) * 24).toFixed(1)),
    falseHighPriority: falseHighPriorityList,
    falseHighPriorityOverNoLifeThreateningRhythm: falseWithoutLifeThreat,
    missedHighPriority,
    technicalAlarms: technical,
    lostFrames,
    duplicateBeats,
    faults: {
      injected: injectedByKind,
      arrhythmiaAlarmsDuringFaults: arrhythmiaDuringFaults,
      arrhythmiaAlarmsDuringFaultsByKind: duringFaults,
      shownAsTechnicalAlarm: shownAsTechnical,
    },
    perRecord,
    unreadableRecords,
    recordFiles: provenance,
  };
  await writeFile(reportPath, renderValidation(result));
  if (beatsPath !== undefined) await writeFile(beatsPath, `${[SCORED_BEAT_HEADER, ...beatRows].join('\n')}\n`);
  // scored without the records it could not read (named above and in the report), or on records
  // that are not the bytes their checksum list names: not a clean run
  if (unreadable.length > 0 || provenance?.summary === 'differ') process.exitCode = 1;
  if (values.json === true) {
    process.stdout.write(`${JSON.stringify({ ...result, report: reportPath })}\n`);
    return;
  }
  const lines = [
    `${beds.length} beds, ${result.hoursOfEcg} h of ECG through Kafka in ${result.wallSeconds} s (${backend}, model ${classifier.modelId})`,
    `QRS: Se ${result.qrs.se} %  +P ${result.qrs.ppv} %  (TP ${tp}, FN ${fn}, FP ${fp});  V Se/+P ${result.classes.V.se}/${result.classes.V.ppv} %;  S Se/+P ${result.classes.S.se}/${result.classes.S.ppv} %`,
    `labels by decision step (matched beats, share the reference agrees with): ${describeDecisions(decisions)}`,
    `frames lost ${lostFrames}, duplicate beats ${duplicateBeats}, false high-priority alarms ${falseHighPriority} (${result.falseHighPriorityPer24h} per 24 h; ${falseWithoutLifeThreat} over no life-threatening reference rhythm), technical alarms ${JSON.stringify(technical)}`,
    ...(injected.length === 0
      ? []
      : [
          `faults injected ${JSON.stringify(injectedByKind)}; shown as their technical alarm ${Object.entries(
            shownAsTechnical,
          )
            .map(([kind, t]) => `${kind} ${t.shown}/${t.episodes}`)
            .join(', ')}; arrhythmia alarms raised inside fault windows: ${arrhythmiaDuringFaults}`,
        ]),
    ...missedHighPriority.map(
      (m) =>
        `missed: ${m.type} in ${m.record} at ${m.onsetS}..${m.endS} s${m.inspect === null ? '' : `  (${m.inspect})`}`,
    ),
    'alarm type                 ref  detected  covered  missed  false  median/max onset delay s  score  time Se/+P %',
    ...SCORED_ALARMS.map((t) => {
      const a = alarms[t]!;
      return `${t.padEnd(26)}${String(a.referenceEpisodes).padStart(4)}${String(a.detected).padStart(10)}${String(a.covered).padStart(9)}${String(a.missed).padStart(8)}${String(a.falseAlarms).padStart(7)}${`${a.medianOnsetDelayS ?? '-'}/${a.maxOnsetDelayS ?? '-'}`.padStart(26)}${String(a.challengeScore ?? '-').padStart(7)}${(a.durationSe === null ? '' : `${a.durationSe}/${a.durationPpv ?? '-'}`).padStart(14)}`;
    }),
    ...unreadableRecords.map((u) => `not scored: ${u.record}: ${u.reason}`),
    ...(provenance === null ? [] : [`record files: ${describeProvenance(provenance)}`]),
    `report: ${reportPath}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

/**
 * Whether the replayed records' files are the bytes their directory's SHA256SUMS lists (for
 * records fetched by `npm run data`, PhysioNet's), so that a validation report says what it
 * scored; null for synthetic beds.
 */
interface RecordProvenance {
  readonly summary: 'verified' | 'differ' | 'unverified';
  readonly checksumList: string | null;
  readonly verified: number;
  readonly mismatched: string[];
  readonly unlisted: string[];
  /** Why nothing could be checked (no checksum list, or one that cannot be read). */
  readonly problem: string | null;
}

async function recordProvenance(dir: string, records: readonly string[]): Promise<RecordProvenance | null> {
  if (records.length === 0) return null;
  try {
    const { listPath, verified, mismatched, unlisted } = await verifyDirectory(dir, recordFiles(records));
    return {
      summary: mismatched.length > 0 ? 'differ' : unlisted.length > 0 ? 'unverified' : 'verified',
      checksumList: listPath,
      verified: verified.length,
      mismatched: mismatched.map((m) => m.file),
      unlisted,
      problem: null,
    };
  } catch (error) {
    if (!(error instanceof DataIntegrityError)) throw error;
    return {
      summary: 'unverified',
      checksumList: null,
      verified: 0,
      mismatched: [],
      unlisted: [],
      problem: error.message,
    };
  }
}

function describeProvenance(p: RecordProvenance): string {
  if (p.checksumList === null) return `not checked against a checksum list (${p.problem})`;
  const parts = [`${p.verified} match ${p.checksumList}`];
  if (p.mismatched.length > 0)
    parts.push(
      `${p.mismatched.length} differ from it (${p.mismatched.join(', ')}): these figures are not those of the listed records`,
    );
  if (p.unlisted.length > 0) parts.push(`${p.unlisted.length} are not in it (${p.unlisted.join(', ')})`);
  return parts.join('; ');
}

function describeDecisions(decisions: DecisionCounts): string {
  const steps = Object.entries(decisions).map(
    ([reason, n]) => `${reason} ${n.beats} (${((100 * n.agreeing) / n.beats).toFixed(1)} %)`,
  );
  return steps.length === 0 ? 'none (labels not from a decision rule)' : steps.join(', ');
}

interface RecordFigures {
  readonly record: string;
  readonly tp: number;
  readonly fn: number;
  readonly fp: number;
  readonly V: { se: number; ppv: number };
  readonly S: { se: number; ppv: number };
  readonly decisions: DecisionCounts;
}

function renderValidation(r: {
  qrs: Record<string, number>;
  classes: Record<string, { se: number; ppv: number }>;
  beatConfusion: { labels: readonly string[]; counts: number[][] };
  decisions: DecisionCounts;
  alarms: Record<string, AlarmTypeScore>;
  perRecord: RecordFigures[];
  falseHighPriority: {
    record: string;
    type: string;
    onsetS: number | null;
    endS: number | null;
    duringReference: string | null;
  }[];
  missedHighPriority: { record: string; type: string; onsetS: number; endS: number; inspect: string | null }[];
  unreadableRecords: { record: string; reason: string }[];
  recordFiles: RecordProvenance | null;
  [k: string]: unknown;
}): string {
  const row = (cells: (string | number | null)[]) => `<tr>${cells.map((c) => `<td>${c ?? '–'}</td>`).join('')}</tr>`;
  const bar = (v: number) =>
    `<div style="background:#1f77b4;height:10px;width:${Math.max(0, Math.min(100, v))}%"></div>`;
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Replay validation</title>
<style>body{font:14px system-ui,sans-serif;max-width:1000px;margin:2em auto}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}table{border-collapse:collapse;margin:1em 0}td div{min-width:80px}</style></head><body>
<h1>Replay validation through Kafka</h1>
<p>${r.records} records, ${r.hoursOfEcg} h of ECG in ${r.wallSeconds} s; model ${r.model} on ${r.backend}. Frames lost: ${r.lostFrames}; duplicate beats: ${r.duplicateBeats}; false high-priority alarms: ${r.falseHighPriorityAlarms} (${r.falseHighPriorityOverNoLifeThreateningRhythm} over no life-threatening reference rhythm); technical alarms: ${JSON.stringify(r.technicalAlarms)}.</p>
${r.unreadableRecords.length === 0 ? '' : `<p><b>Not scored</b>, their files could not be read: ${r.unreadableRecords.map((u) => `${escapeHtml(u.record)} (${escapeHtml(u.reason)})`).join('; ')}.</p>`}
${r.recordFiles === null ? '' : `<p>Record files: ${r.recordFiles.summary === 'verified' ? '' : '<b>'}${escapeHtml(describeProvenance(r.recordFiles))}${r.recordFiles.summary === 'verified' ? '' : '</b>'}.</p>`}
<p>Injected faults: ${JSON.stringify(r.faults)}.</p>
<h2>Beats</h2><p>V and S are counted as ANSI/AAMI EC57 (PhysioNet's bxb) counts ventricular and supraventricular ectopic beats: a missed V or S beat counts against Se and an extra detection labelled V or S against +P, while a reference fusion (F) or unclassifiable (Q) beat labelled V, or a Q beat labelled S, is not a false positive.</p>
<table><tr><th></th><th>Se %</th><th>+P %</th></tr>${row(['QRS', r.qrs.se!, r.qrs.ppv!])}${row(['V', r.classes.V!.se, r.classes.V!.ppv])}${row(['S', r.classes.S!.se, r.classes.S!.ppv])}</table>
<p>Beat-by-beat confusion (rows: reference, columns: live; O: no beat on that side, so the O column holds missed beats and the O row extra detections):</p>
<table><tr><th></th>${r.beatConfusion.labels.map((l) => `<th>${l}</th>`).join('')}</tr>${r.beatConfusion.counts.map((counts, i) => row([r.beatConfusion.labels[i]!, ...counts])).join('')}</table>
<p>Which step of the model's decision rule set each matched beat's label (network: its most probable class; family: the beat's morphology family's vote changed it; premature: N relabelled S by its RR; irregular-rhythm: S relabelled N in an irregular rhythm; not-premature: S relabelled N, not early in a regular rhythm; premature-pause: N relabelled S, early and followed by a pause), and how often the reference agrees:</p>
<table><tr><th>step</th><th>beats</th><th>reference agrees %</th></tr>${Object.entries(r.decisions)
    .map(([reason, n]) => row([reason, n.beats, ((100 * n.agreeing) / n.beats).toFixed(1)]))
    .join('')}</table>
<h2>Alarms against the reference</h2><p>Rhythm time Se / +P (rhythm-annotated types, as EC57 scores AF): the share of the reference rhythm's time under the alarm, and of the alarm's time on that rhythm.</p><table><tr><th>type</th><th>reference episodes</th><th>detected (within 10 s)</th><th>covered (any time)</th><th>missed</th><th>false alarms</th><th>median onset delay s</th><th>max s</th><th>challenge score</th><th>rhythm time Se %</th><th>rhythm time +P %</th></tr>
${Object.entries(r.alarms)
  .map(([t, a]) =>
    row([
      t,
      a.referenceEpisodes!,
      a.detected!,
      a.covered!,
      a.missed!,
      a.falseAlarms!,
      a.medianOnsetDelayS ?? null,
      a.maxOnsetDelayS ?? null,
      a.challengeScore ?? null,
      a.durationSe ?? null,
      a.durationPpv ?? null,
    ]),
  )
  .join('')}</table>
<h2>False high-priority alarms</h2><p>False for their own type; the last column names the life-threatening reference rhythm an alarm fell on instead, if any (a VT alarm at a flutter onset).</p><table><tr><th>record</th><th>type</th><th>onset s</th><th>end s</th><th>reference rhythm there</th></tr>
${r.falseHighPriority.map((f) => row([f.record, f.type, f.onsetS, f.endS, f.duringReference])).join('')}</table>
<h2>Missed high-priority episodes</h2><p>Reference episodes no alarm of their type announced within 10 s of onset; the command lists their beats as the classifier saw them.</p><table><tr><th>record</th><th>type</th><th>onset s</th><th>end s</th><th>look at its beats</th></tr>
${r.missedHighPriority.map((m) => row([m.record, m.type, m.onsetS, m.endS, m.inspect === null ? null : `<code>${m.inspect}</code>`])).join('')}</table>
<h2>Per record</h2><p>Family: matched beats whose label the family vote chose, and how many of them the reference agrees with.</p><table><tr><th>record</th><th>TP</th><th>FN</th><th>FP</th><th>V Se %</th><th>V +P %</th><th>S Se %</th><th></th><th>family</th></tr>
${r.perRecord.map((p) => `<tr><td>${p.record}</td><td>${p.tp}</td><td>${p.fn}</td><td>${p.fp}</td><td>${p.V.se}</td><td>${p.V.ppv}</td><td>${p.S.se}</td><td>${bar(p.S.se)}</td><td>${p.decisions.family === undefined ? '–' : `${p.decisions.family.agreeing} / ${p.decisions.family.beats}`}</td></tr>`).join('')}</table>
</body></html>
`;
}

/** Muscle-artefact noise from the MIT-BIH Noise Stress Test Database (`ma`), beside mitdb. */
async function muscleNoise(log: (l: string) => void): Promise<Int16Array | undefined> {
  const dir = nstdbDir();
  try {
    return (await readRecord(dir, 'ma')).signals[0]!.digital;
  } catch (error) {
    log(`validate: no noise record (${(error as Error).message}); noise faults are skipped`);
    return undefined;
  }
}

runMain(main);
