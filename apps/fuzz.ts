import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { lastValueFrom, Subject, toArray } from 'rxjs';
import { recordFrames } from '../simulators/replay.js';
import { DEFAULT_SYNTH, synthesizeRecord } from '../simulators/synth.js';
import { AAMI_CLASSES } from '../stream/contracts/aami.js';
import { decodeFrame, encodeFrame, FrameDecodeError, type SampleFrame } from '../stream/contracts/frame.js';
import { ackCodec, alertCodec, beatCodec, MessageDecodeError } from '../stream/contracts/messages.js';
import { seededRandom } from '../stream/model/random.js';
import { DEFAULT_BEAT_WINDOW } from '../stream/dsp/index.js';
import { usableFrameProblem } from '../stream/pipeline/frameChecks.js';
import { monitorWard, type Classify, type WardEvent } from '../stream/pipeline/ward.js';
import { FRAME_LIMITS } from '../stream/contracts/frame.js';
import { encodeAnnotations, mitdbDir, parseAnnotations, parseHeader, WfdbError } from '../stream/wfdb/index.js';
import { parseCommandLine, positiveNumber, runMain } from './cli.js';

const USAGE = `npm run fuzz -- [--inputs N] [--seed S] [--json]
Feeds N mutated inputs of each kind (ecg.samples frames, WFDB headers, MIT annotation files, JSON
messages) to the monitor's decoders and, for frames that decode, to a ward of beds: every input
must be read or refused with a typed error, no bed stage may end the ward, and no frame may take a
bed more than 1 s. Ends with status 1 on any failure, naming the input kind and mutation.`;

/** Longest a single frame may take a ward (a bed's costly set-up is bounded). */
export const MAX_FRAME_MS = 1000;

/** What one kind of input gave. */
export interface FuzzTally {
  readonly inputs: number;
  /** Refusals by their error's code or class. */
  readonly refused: Record<string, number>;
  readonly accepted: number;
  /** Inputs that broke a rule: what happened, and the mutation that made the input. */
  readonly failures: string[];
}

export interface FuzzReport {
  readonly frames: FuzzTally & { readonly slowestMs: number; readonly wardEvents: number };
  readonly headers: FuzzTally;
  readonly annotations: FuzzTally;
  readonly messages: FuzzTally;
}

type Random = () => number;
const pick = <T>(random: Random, items: readonly T[]): T => items[Math.floor(random() * items.length)]!;

class Tally {
  inputs = 0;
  accepted = 0;
  readonly refused: Record<string, number> = {};
  readonly failures: string[] = [];

  refuse(code: string): void {
    this.refused[code] = (this.refused[code] ?? 0) + 1;
  }

  fail(what: string): void {
    if (this.failures.length < 20) this.failures.push(what);
  }

  report(): FuzzTally {
    return { inputs: this.inputs, refused: this.refused, accepted: this.accepted, failures: this.failures };
  }
}

/** Values that sit on or past the frame contract's edges. */
const EDGE_RATES = [0, -1, 1e-30, 50, 79.9, 80, 99.99, 100, 125, 257.3, 1999.999, 2000, 2000.5, 5000.001, 1e9, NaN];
const EDGE_GAINS = [1e-44, 0.001, 0.01, 1, 200, 1e6, 1e7, NaN, -200, Infinity];
const EDGE_INTS = [0, 1, -1, 2 ** 31 - 1, -(2 ** 31), 32767, 32768, -32769, 0xfffffff0];

/** A frame's bytes changed one way or another, and how. */
function mutateFrame(random: Random, frame: SampleFrame): { bytes: Uint8Array; how: string } {
  const kind = Math.floor(random() * 6);
  if (kind === 0) {
    const bytes = encodeFrame(frame);
    const flips = 1 + Math.floor(random() * 8);
    for (let k = 0; k < flips; k++) {
      const at = Math.floor(random() * bytes.length);
      bytes[at] = bytes[at]! ^ (1 << Math.floor(random() * 8));
    }
    return { bytes, how: `${flips} bit flips` };
  }
  if (kind === 1) {
    const bytes = encodeFrame(frame);
    const length = Math.floor(random() * (bytes.length + 64));
    const out = new Uint8Array(length);
    out.set(bytes.subarray(0, Math.min(length, bytes.length)));
    for (let i = bytes.length; i < length; i++) out[i] = Math.floor(random() * 256);
    return { bytes: out, how: `length ${bytes.length} -> ${length}` };
  }
  // one header field at an edge, written as the encoder would (then the decoder decides)
  const field = pick(random, ['sampleRate', 'gain', 'baseline', 'seq', 'firstSample', 'samples', 'names'] as const);
  let changed: SampleFrame = frame;
  let how: string = field;
  switch (field) {
    case 'sampleRate': {
      const rate = pick(random, EDGE_RATES);
      changed = { ...frame, sampleRate: rate };
      how = `sample rate ${rate}`;
      break;
    }
    case 'gain': {
      const gain = pick(random, EDGE_GAINS);
      changed = { ...frame, leads: frame.leads.map((l, i) => (i === 0 ? { ...l, gain } : l)) };
      how = `gain ${gain}`;
      break;
    }
    case 'baseline': {
      const baseline = pick(random, EDGE_INTS);
      changed = { ...frame, leads: frame.leads.map((l) => ({ ...l, baseline })) };
      how = `baseline ${baseline}`;
      break;
    }
    case 'seq': {
      const seq = pick(random, EDGE_INTS) >>> 0;
      changed = { ...frame, seq };
      how = `seq ${seq}`;
      break;
    }
    case 'firstSample': {
      const firstSample = pick(random, [0, 2 ** 53 - 1, 1e15, frame.firstSample + 1e7]);
      changed = { ...frame, firstSample };
      how = `first sample ${firstSample}`;
      break;
    }
    case 'samples': {
      const perLead = pick(random, [0, 1, 7, FRAME_LIMITS.maxSampleRate * FRAME_LIMITS.maxFrameS + 1]);
      changed = { ...frame, samples: new Int16Array(perLead * frame.leads.length).map(() => (random() - 0.5) * 65535) };
      how = `${perLead} samples per lead`;
      break;
    }
    case 'names': {
      const name = pick(random, ['', 'MLII', 'x'.repeat(40), '\u0000', 'V1']);
      changed = { ...frame, leads: frame.leads.map((l) => ({ ...l, name })) };
      how = `lead names "${name}"`;
      break;
    }
  }
  try {
    return { bytes: encodeFrame(changed), how };
  } catch {
    // the encoder refuses it (a name too long, too many samples): the same bytes, hand-made
    return { bytes: encodeFrame(frame).subarray(0, 31), how: `${how} (unencodable: a short frame instead)` };
  }
}

/** Every beat N: the ward's stages run as they do live, without a model. */
const everyBeatNormal: Classify = async (beats) =>
  beats.map((b) => ({
    ...b,
    label: 'N',
    probabilities: Object.fromEntries(AAMI_CLASSES.map((c) => [c, c === 'N' ? 1 : 0])) as Record<
      (typeof AAMI_CLASSES)[number],
      number
    >,
    decision: { reason: 'network', votedV: 0 },
    modelInput: b.window.samples,
    modelInputRIndex: DEFAULT_BEAT_WINDOW.rIndex,
    gradCam: undefined,
  }));

async function fuzzFrames(random: Random, inputs: number): Promise<FuzzReport['frames']> {
  const tally = new Tally();
  const { record } = synthesizeRecord({ ...DEFAULT_SYNTH, durationS: 60 });
  const beds = 4;
  // each bed's stream loops the recording, its numbering going on
  const streams = Array.from({ length: beds }, (_, b) =>
    recordFrames(record, `fuzz-${b}`, 'synth/fuzz', { frameMs: 250, loop: true }),
  );
  const nextOf = (b: number): SampleFrame => streams[b]!.next().value as SampleFrame;
  const input = new Subject<SampleFrame>();
  let failure: unknown;
  const events = lastValueFrom(input.pipe(monitorWard({ classify: everyBeatNormal }), toArray())).catch(
    (error: unknown): WardEvent[] => {
      failure = error;
      return [];
    },
  );
  let slowestMs = 0;
  const feed = (frame: SampleFrame, how: string): void => {
    const started = performance.now();
    input.next(frame);
    const took = performance.now() - started;
    slowestMs = Math.max(slowestMs, took);
    if (took > MAX_FRAME_MS) tally.fail(`frame (${how}) took the ward ${Math.round(took)} ms`);
  };
  for (let i = 0; i < inputs && failure === undefined; i++) {
    const b = i % beds;
    // the bed's real stream goes on around the mutated frames (a copy of its next one)
    for (let k = 0; k < 2; k++) feed({ ...nextOf(b), producedAtMs: Date.now() }, 'a real frame');
    const base = nextOf(b);
    const { bytes, how } = mutateFrame(random, { ...base, producedAtMs: Date.now() });
    feed({ ...base, producedAtMs: Date.now() }, 'a real frame');
    tally.inputs++;
    let frame: SampleFrame;
    try {
      frame = decodeFrame(bytes);
    } catch (error) {
      if (error instanceof FrameDecodeError) tally.refuse(error.code);
      else tally.fail(`frame (${how}): decodeFrame threw ${String(error)}`);
      continue;
    }
    const problem = usableFrameProblem(frame);
    if (problem === undefined) tally.accepted++;
    else tally.refuse(problem.code);
    feed(frame, how);
  }
  input.complete();
  const wardEvents = (await events).length;
  if (failure !== undefined) tally.fail(`the ward ended: ${String(failure)}`);
  return { ...tally.report(), slowestMs: Math.round(slowestMs), wardEvents };
}

/** Headers of the formats the monitor reads: MIT-BIH, the Supraventricular database, CinC 2015, noise stress. */
const HEADER_SEEDS = [
  '100 2 360 650000\n100.dat 212 200 11 1024 995 -22131 0 MLII\n100.dat 212 200 11 1024 1011 20052 0 V5\n# 69 M 1085 1629 x1\n',
  '802 2 128 230400\r\n802.dat 212 200 10 0 12 28982 0 ECG1\r\n802.dat 212 200 10 0 56 8998 0 ECG2\r\n',
  'a103l 3 250 82500\na103l.mat 16+24 7247/mV 16 0 -171 -27403 0 II\na103l.mat 16+24 1.052e+04/mV 16 0 9127 -301 0 V\na103l.mat 16+24 1.253e+04/NU 16 0 6042 -17391 0 PLETH\n#Asystole\n#False alarm\n',
  '118e06 2 360 650000\n118e06.dat 16 200(1024) 11 0 -167 25488 0 MLII\n118e06.dat 16 200(1024) 11 0 -103 -30272 0 V1\n',
];
const TOKENS = [
  '1e999',
  '-1',
  '0',
  'NaN',
  '',
  'x',
  '16+24',
  '212',
  '200(1024)/mV',
  '99999999999',
  '0.5',
  '80',
  '-200/mV',
  '3x2',
];

function fuzzHeaders(random: Random, inputs: number): FuzzTally {
  const tally = new Tally();
  for (let i = 0; i < inputs; i++) {
    const lines = pick(random, HEADER_SEEDS).split('\n');
    const line = Math.floor(random() * lines.length);
    const tokens = lines[line]!.split(' ');
    const t = Math.floor(random() * tokens.length);
    const token = pick(random, TOKENS);
    tokens[t] = token;
    lines[line] = tokens.join(' ');
    if (random() < 0.2) lines.splice(Math.floor(random() * lines.length), 1);
    const text = lines.join('\n');
    const how = `line ${line + 1}, field ${t + 1} = "${token}"`;
    tally.inputs++;
    try {
      const header = parseHeader(text, 'fuzz.hea');
      const bad =
        header.signals.length < 1 ||
        !(
          header.samplingFrequency >= FRAME_LIMITS.minSampleRate &&
          header.samplingFrequency <= FRAME_LIMITS.maxSampleRate
        ) ||
        header.signals.some((s) => !(s.gain >= FRAME_LIMITS.minGain && s.gain <= FRAME_LIMITS.maxGain));
      if (bad) tally.fail(`header (${how}) read with values outside the limits`);
      else tally.accepted++;
    } catch (error) {
      if (error instanceof WfdbError) tally.refuse(error.constructor.name);
      else tally.fail(`header (${how}): threw ${String(error)}`);
    }
  }
  return tally.report();
}

/** The first bytes of PhysioNet's svdb/822.atr: WFDB's preamble, then beats. */
const PREAMBLE = Buffer.from('005817fc23232074696d65207265736f6c7574696f6e3a203132380000ecffffffff0100', 'hex');

async function fuzzAnnotations(random: Random, inputs: number): Promise<FuzzTally> {
  const tally = new Tally();
  // whole files (with their end marker) of a few hundred annotations: the record's first ones,
  // and the same after WFDB's preamble
  const first = parseAnnotations(new Uint8Array(await readFile(join(mitdbDir(), '100.atr'))), '100.atr').slice(0, 300);
  const encoded = encodeAnnotations(first);
  const seeds = [encoded, new Uint8Array([...PREAMBLE, ...encoded])];
  for (let i = 0; i < inputs; i++) {
    const bytes = Uint8Array.from(pick(random, seeds));
    const flips = Math.floor(random() * 6);
    for (let k = 0; k < flips; k++) bytes[Math.floor(random() * bytes.length)] = Math.floor(random() * 256);
    const cut = random() < 0.3 ? Math.floor(random() * bytes.length) : bytes.length;
    const file = bytes.subarray(0, cut);
    const how = `${flips} bytes changed, ${cut} bytes`;
    tally.inputs++;
    try {
      const annotations = parseAnnotations(file, 'fuzz.atr');
      const ordered = annotations.every((a, k) => a.sample >= 0 && (k === 0 || a.sample >= annotations[k - 1]!.sample));
      if (!ordered) tally.fail(`annotations (${how}) read out of order or before 0`);
      else tally.accepted++;
    } catch (error) {
      if (error instanceof WfdbError) tally.refuse(error.constructor.name);
      else tally.fail(`annotations (${how}): threw ${String(error)}`);
    }
  }
  return tally.report();
}

const MESSAGE_SEEDS: [string, (bytes: Uint8Array) => unknown][] = [
  [
    '{"v":2,"bedId":"bed-01","alertId":"bed-01/couplet/1380","by":"nurse 7","atMs":1795399264369,"nonce":"abcdefghijklmnopqrstuv","keyId":"k1","sig":"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ"}',
    (b) => ackCodec.decode(b),
  ],
  [
    '{"v":1,"id":"b/couplet/1","bedId":"b","type":"couplet","priority":"medium","state":"active","acknowledged":false,"onsetS":1,"raisedS":2,"endS":null,"evidence":[1],"explanation":[],"publishedMs":3}',
    (b) => alertCodec.decode(b),
  ],
  [
    '{"v":1,"bedId":"b","source":"s","rPeakSample":5,"timeS":0.1,"rrS":null,"label":"N","probabilities":{"N":1,"S":0,"V":0,"F":0,"Q":0},"decision":{"reason":"network","votedV":0},"modelId":"m","quality":1,"latency":{"windowCompleteMs":0,"publishedMs":0}}',
    (b) => beatCodec.decode(b),
  ],
];

function fuzzMessages(random: Random, inputs: number): FuzzTally {
  const tally = new Tally();
  for (let i = 0; i < inputs; i++) {
    const [seed, decode] = pick(random, MESSAGE_SEEDS);
    const chars = [...seed];
    const edits = 1 + Math.floor(random() * 4);
    for (let k = 0; k < edits; k++)
      chars[Math.floor(random() * chars.length)] = pick(random, [
        '"',
        '{',
        '}',
        ':',
        '0',
        '-',
        'x',
        'constructor',
        '1e999',
        '',
      ]);
    tally.inputs++;
    try {
      decode(Buffer.from(chars.join('')));
      tally.accepted++;
    } catch (error) {
      if (error instanceof MessageDecodeError) tally.refuse(error.code);
      else tally.fail(`message (${edits} edits of a seed): threw ${String(error)}`);
    }
  }
  return tally.report();
}

/** Runs `inputs` mutated inputs of each kind from `seed`. */
export async function fuzz(options: { inputs: number; seed: number }): Promise<FuzzReport> {
  const random = seededRandom(options.seed);
  return {
    frames: await fuzzFrames(random, options.inputs),
    headers: fuzzHeaders(random, options.inputs),
    annotations: await fuzzAnnotations(random, options.inputs),
    messages: fuzzMessages(random, options.inputs),
  };
}

async function main(): Promise<void> {
  const { values } = parseCommandLine(
    'fuzz',
    process.argv.slice(2),
    { inputs: { type: 'string' }, seed: { type: 'string' }, json: { type: 'boolean' } },
    USAGE,
  );
  const inputs = positiveNumber('fuzz', 'inputs', values.inputs ?? '5000', true);
  const seed = positiveNumber('fuzz', 'seed', values.seed ?? '1', true);
  const report = await fuzz({ inputs, seed });
  const kinds = Object.entries(report) as [string, FuzzTally][];
  if (values.json === true) process.stdout.write(`${JSON.stringify({ inputs, seed, ...report })}\n`);
  else
    for (const [kind, t] of kinds)
      process.stdout.write(
        `${kind}: ${t.inputs} inputs, ${t.accepted} accepted, refused ${JSON.stringify(t.refused)}, ${t.failures.length} failures${'slowestMs' in t ? `, slowest frame ${String(t.slowestMs)} ms` : ''}\n${t.failures.map((f) => `  ${f}\n`).join('')}`,
      );
  if (kinds.some(([, t]) => t.failures.length > 0)) process.exitCode = 1;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) runMain(main);
