import { AAMI_CLASSES, aamiClass } from '../contracts/aami.js';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { DEFAULT_BEAT_WINDOW, EcgFrontEnd, MODEL_HZ, type EcgFrontEndConfig } from '../dsp/index.js';
import { Ec57Matcher } from '../eval/ec57.js';
import {
  isQrsCode,
  monitoringLeadIndex,
  readAnnotations,
  readRecord,
  secondLeadIndex,
  toPhysical,
} from '../wfdb/index.js';
import { classIndex, DS1, DS2 } from './aami.js';
import { RR_FEATURES, rrFeatures, RULE_INPUTS, ruleInputsOf } from './features.js';
import { seededRandom, shuffle } from './random.js';
import { ConfigError } from '../contracts/errors.js';

/**
 * `labels` of a detection the reference does not label: no reference beat within EC57's 150 ms,
 * or one with no AAMI class. It is never trained or scored on, but the decision rule's beat
 * families hear it, in its place in the record, as they hear every detection live.
 */
export const UNLABELLED = 255;

/**
 * Every beat the live front end cuts from each record, in time order, labelled from the
 * reference annotations where it matches one (`UNLABELLED` elsewhere).
 */
export interface BeatSet {
  readonly windowLength: number;
  readonly rIndex: number;
  readonly count: number;
  /** count × windowLength filtered samples at 125 Hz (not yet normalised). */
  readonly windows: Float32Array;
  /** count × windowLength patient templates (median of the previous windows of the same record). */
  readonly templates: Float32Array;
  /**
   * The record's second lead cut at the same R peaks, and its templates (count × windowLength
   * each; zeros for a record with one lead, which is how a model sees a missing lead).
   */
  readonly secondWindows: Float32Array;
  readonly secondTemplates: Float32Array;
  /** count × RR_FEATURES causal RR features. */
  readonly rr: Float32Array;
  /** Baseline RR per beat (s, `ruleInputsOf`): for the decision rule, not a model input. */
  readonly rrBaseline: Float32Array;
  /** Rhythm irregularity before each beat (BeatWindow.rrIrregularity): for the decision rule too. */
  readonly rrIrregularity: Float32Array;
  /** Interval to the next beat (s, `ruleInputsOf`): for the decision rule too. */
  readonly rrNext: Float32Array;
  /** P-wave agreement before each beat (`ruleInputsOf`): for the decision rule too. */
  readonly pWaveAgreement: Float32Array;
  /** AAMI class index per beat (see AAMI_CLASSES), or UNLABELLED. */
  readonly labels: Uint8Array;
  /** Index into `recordNames` per beat. */
  readonly recordIndex: Uint16Array;
  readonly recordNames: readonly string[];
  /** R-peak sample (source rate) per beat. */
  readonly sourceSample: Float64Array;
  /** Sample of the reference annotation the beat was matched to (source rate); NaN where none. */
  readonly referenceSample: Float64Array;
}

/** The indices of the set's beats, in order, that `keep` accepts (default: all). */
export function beatIndices(set: BeatSet, keep: (i: number) => boolean = () => true): Int32Array {
  return Int32Array.from({ length: set.count }, (_, i) => i).filter(keep);
}

/** The beats of `indices` (default: all) that have a reference label: what is trained and scored on. */
export function labelledBeats(set: BeatSet, indices: ArrayLike<number> = beatIndices(set)): Int32Array {
  return Int32Array.from(indices).filter((i) => set.labels[i] !== UNLABELLED);
}

export interface DatasetStats {
  readonly detections: number;
  /** Detections with no reference beat within 150 ms. */
  readonly unmatched: number;
  /** Detections matched to a reference beat that has no AAMI class. */
  readonly unlabelled: number;
}

/**
 * Cuts and labels the beats of one record exactly as the monitor would see them live: every
 * detection, in order, labelled where the EC57 matcher pairs it with a classed reference beat.
 */
export async function recordBeats(
  dir: string,
  record: string,
  frontEndConfig: Omit<EcgFrontEndConfig, 'sourceHz'> = {},
): Promise<{
  windows: Float32Array[];
  templates: Float32Array[];
  secondWindows: (Float32Array | undefined)[];
  secondTemplates: (Float32Array | undefined)[];
  rr: Float32Array[];
  rrBaseline: number[];
  rrIrregularity: number[];
  rrNext: number[];
  pWaveAgreement: number[];
  labels: number[];
  sourceSample: number[];
  referenceSample: number[];
  stats: DatasetStats;
}> {
  const [wfdb, annotations] = await Promise.all([readRecord(dir, record), readAnnotations(dir, record)]);
  const fs = wfdb.header.samplingFrequency;
  const lead = toPhysical(wfdb.signals[monitoringLeadIndex(wfdb.header)]!);
  const other = secondLeadIndex(wfdb.header);
  const second = other === undefined ? undefined : toPhysical(wfdb.signals[other]!);
  const frontEnd = new EcgFrontEnd({
    ...frontEndConfig,
    sourceHz: fs,
    secondLead: second === undefined ? undefined : 'windows',
  });
  const chunk = Math.round(fs / 4); // the live 250 ms frame
  const sourceByIndex = new Map<number, number>();
  const cut = [];
  for (let start = 0; start < lead.length; start += chunk) {
    const out = frontEnd.push(lead.subarray(start, start + chunk), second?.subarray(start, start + chunk));
    for (const p of out.peaks) sourceByIndex.set(p.index, p.sourceSample);
    cut.push(...out.windows);
  }
  // the record's end cuts the last beats' wait for the beat after them, as a stopped stream does
  cut.push(...frontEnd.flush());
  const reference = annotations.filter((a) => isQrsCode(a.code));
  const detections = cut.map((w) => sourceByIndex.get(w.rPeak) ?? (w.rPeak * fs) / MODEL_HZ);
  const matcher = new Ec57Matcher({ fs, windowS: 0.15, excluded: [] });
  const { matches } = matcher.match(
    reference.map((a) => a.sample),
    detections,
  );
  const result = {
    windows: [] as Float32Array[],
    templates: [] as Float32Array[],
    secondWindows: [] as (Float32Array | undefined)[],
    secondTemplates: [] as (Float32Array | undefined)[],
    rr: [] as Float32Array[],
    rrBaseline: [] as number[],
    rrIrregularity: [] as number[],
    rrNext: [] as number[],
    pWaveAgreement: [] as number[],
    labels: [] as number[],
    sourceSample: [] as number[],
    referenceSample: [] as number[],
  };
  const matchOf = new Map(matches.map((m) => [m.detection, m.reference]));
  let unlabelled = 0;
  cut.forEach((w, d) => {
    const matched = matchOf.get(d);
    const cls = matched === undefined ? undefined : aamiClass(reference[matched]!.symbol);
    if (matched !== undefined && cls === undefined) unlabelled++;
    const rr = new Float32Array(RR_FEATURES);
    rrFeatures(w, rr);
    result.windows.push(w.samples);
    result.templates.push(w.template);
    result.secondWindows.push(w.secondLead?.samples);
    result.secondTemplates.push(w.secondLead?.template);
    result.rr.push(rr);
    const rule = ruleInputsOf(w);
    for (const r of RULE_INPUTS) result[r].push(rule[r]);
    result.labels.push(cls === undefined ? UNLABELLED : classIndex(cls));
    result.sourceSample.push(detections[d]!);
    result.referenceSample.push(cls === undefined ? NaN : reference[matched!]!.sample);
  });
  return { ...result, stats: { detections: cut.length, unmatched: cut.length - matches.length, unlabelled } };
}

/** The per-beat numbers a record's beats keep as lists and the set as typed arrays (one per beat each). */
const BEAT_NUMBERS = [
  'rrBaseline',
  'rrIrregularity',
  'rrNext',
  'pWaveAgreement',
  'labels',
  'sourceSample',
  'referenceSample',
] as const;

const CACHE_VERSION = 9;

function cacheKey(records: readonly string[], config: Omit<EcgFrontEndConfig, 'sourceHz'>): string {
  // the window with its defaults filled in: asking for the default R index finds the same set
  const window = { ...DEFAULT_BEAT_WINDOW, ...config.window };
  return createHash('sha256')
    .update(JSON.stringify({ v: CACHE_VERSION, records, config: { ...config, window } }))
    .digest('hex')
    .slice(0, 16);
}

/**
 * Builds the beat set of many records, or reads it from `cacheDir` when the same records and
 * front-end configuration were built before (the key hashes both).
 */
export async function buildBeatSet(
  dir: string,
  records: readonly string[],
  options: { cacheDir?: string; frontEnd?: Omit<EcgFrontEndConfig, 'sourceHz'>; log?: (line: string) => void } = {},
): Promise<BeatSet> {
  const config = options.frontEnd ?? {};
  const windowLength = config.window?.length ?? DEFAULT_BEAT_WINDOW.length;
  const rIndex = config.window?.rIndex ?? DEFAULT_BEAT_WINDOW.rIndex;
  const cachePath =
    options.cacheDir === undefined
      ? undefined
      : join(options.cacheDir, `beats-v${CACHE_VERSION}-${cacheKey(records, config)}.bin`);
  if (cachePath !== undefined) {
    const cached = await readCache(cachePath, records, windowLength, rIndex, options.log);
    if (cached !== undefined) {
      options.log?.(
        `beat set: ${cached.count} beats (${labelledBeats(cached).length} labelled) from cache ${cachePath}`,
      );
      return cached;
    }
  }
  const parts = [];
  for (const record of records) {
    const beats = await recordBeats(dir, record, config);
    parts.push(beats);
    const { detections, unmatched, unlabelled } = beats.stats;
    options.log?.(
      `beat set: ${record} ${detections - unmatched - unlabelled} labelled beats, ` +
        `${unmatched + unlabelled} detections without a reference label (heard by beat families only)`,
    );
  }
  const count = parts.reduce((n, p) => n + p.labels.length, 0);
  const set: BeatSet = {
    windowLength,
    rIndex,
    count,
    recordNames: [...records],
    ...allocateArrays(count, windowLength, (length, type) => new type(length)),
  };
  let k = 0;
  parts.forEach((p, r) => {
    p.labels.forEach((_, i) => {
      set.windows.set(p.windows[i]!, k * windowLength);
      set.templates.set(p.templates[i]!, k * windowLength);
      const secondWindow = p.secondWindows[i];
      const secondTemplate = p.secondTemplates[i];
      if (secondWindow !== undefined) set.secondWindows.set(secondWindow, k * windowLength);
      if (secondTemplate !== undefined) set.secondTemplates.set(secondTemplate, k * windowLength);
      set.rr.set(p.rr[i]!, k * RR_FEATURES);
      for (const key of BEAT_NUMBERS) set[key][k] = p[key][i]!;
      set.recordIndex[k] = r;
      k++;
    });
  });
  if (cachePath !== undefined) {
    await writeCache(cachePath, set);
    await removeStaleCaches(dirname(cachePath), options.log);
  }
  return set;
}

/**
 * Removes what no build will read again (each set is hundreds of MB): caches of an older beat-set
 * layout (`CACHE_VERSION`; before version 8 the name carried none), and the temporary files of
 * builds that were killed before they finished (their process is gone).
 */
async function removeStaleCaches(dir: string, log?: (line: string) => void): Promise<void> {
  const stale: string[] = [];
  for (const name of await readdir(dir)) {
    const cache = /^beats-(?:v(\d+)-)?[0-9a-f]{16}\.bin$/.exec(name);
    const partial = /^beats-.*\.bin\.(\d+)-[0-9a-f]{8}\.tmp$/.exec(name);
    if (
      (cache !== null && Number(cache[1] ?? 0) !== CACHE_VERSION) ||
      (partial !== null && !running(Number(partial[1])))
    )
      stale.push(join(dir, name));
  }
  let bytes = 0;
  for (const path of stale) {
    try {
      bytes += (await stat(path)).size;
      await unlink(path);
    } catch (error) {
      // another build removing the same file at once
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  if (stale.length > 0)
    log?.(
      `beat set: removed ${stale.length} stale file(s) from ${dir} (${(bytes / 1e6).toFixed(0)} MB: older layouts, killed builds): ${stale.map((p) => basename(p)).join(', ')}`,
    );
}

/** Whether a process of this id is alive (signal 0 only checks). */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: alive, another user's
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

type BeatArrays = Omit<BeatSet, 'windowLength' | 'rIndex' | 'count' | 'recordNames'>;
type ArrayType = Float32ArrayConstructor | Float64ArrayConstructor | Uint16ArrayConstructor | Uint8ArrayConstructor;

/**
 * The set's per-beat arrays in the order the cache file stores them, each with its element type
 * and values per beat: one list that building, writing and reading all follow, so that a new
 * field cannot be written in one order and read in another (a change here is a new
 * `CACHE_VERSION`).
 */
const CACHE_LAYOUT: readonly { key: keyof BeatArrays; type: ArrayType; values: (windowLength: number) => number }[] = [
  { key: 'windows', type: Float32Array, values: (w) => w },
  { key: 'templates', type: Float32Array, values: (w) => w },
  { key: 'secondWindows', type: Float32Array, values: (w) => w },
  { key: 'secondTemplates', type: Float32Array, values: (w) => w },
  { key: 'rr', type: Float32Array, values: () => RR_FEATURES },
  { key: 'rrBaseline', type: Float32Array, values: () => 1 },
  { key: 'rrIrregularity', type: Float32Array, values: () => 1 },
  { key: 'rrNext', type: Float32Array, values: () => 1 },
  { key: 'pWaveAgreement', type: Float32Array, values: () => 1 },
  { key: 'sourceSample', type: Float64Array, values: () => 1 },
  { key: 'referenceSample', type: Float64Array, values: () => 1 },
  { key: 'recordIndex', type: Uint16Array, values: () => 1 },
  { key: 'labels', type: Uint8Array, values: () => 1 },
];

/** Each of the layout's arrays for `count` beats, made (new, or read in file order) by `make`. */
function allocateArrays(
  count: number,
  windowLength: number,
  make: (length: number, type: ArrayType) => BeatArrays[keyof BeatArrays],
): BeatArrays {
  return Object.fromEntries(
    CACHE_LAYOUT.map(({ key, type, values }) => [key, make(count * values(windowLength), type)]),
  ) as unknown as BeatArrays;
}

async function writeCache(path: string, set: BeatSet): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const header = Buffer.from(
    JSON.stringify({
      count: set.count,
      windowLength: set.windowLength,
      rIndex: set.rIndex,
      recordNames: set.recordNames,
    }),
  );
  const length = Buffer.alloc(4);
  length.writeUInt32LE(header.length);
  // a file of its own: two trainings started together build the same set at once
  const tmp = `${path}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
  // bytes in fixed order; each typed array is copied so its alignment never matters on reading
  await writeFile(
    tmp,
    Buffer.concat([
      length,
      header,
      ...CACHE_LAYOUT.map(({ key }) => Buffer.from(set[key].buffer, set[key].byteOffset, set[key].byteLength)),
    ]),
  );
  await rename(tmp, path); // a killed build never leaves a half-written cache behind
}

async function readCache(
  path: string,
  records: readonly string[],
  windowLength: number,
  rIndex: number,
  log?: (line: string) => void,
): Promise<BeatSet | undefined> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch {
    return undefined; // no cache yet: build it
  }
  let headerLength: number;
  let header: { count: number; windowLength: number; rIndex: number; recordNames: string[] };
  try {
    headerLength = bytes.readUInt32LE(0);
    header = JSON.parse(bytes.subarray(4, 4 + headerLength).toString('utf8')) as typeof header;
    if (!Number.isInteger(header.count) || !Array.isArray(header.recordNames)) throw new Error('header incomplete');
  } catch (error) {
    // a cache is only ever a copy of what the records give: a damaged one is rebuilt, and said so
    log?.(`beat set: cache ${path} is damaged (${(error as Error).message}); rebuilding it`);
    return undefined;
  }
  if (
    header.windowLength !== windowLength ||
    header.rIndex !== rIndex ||
    header.recordNames.join() !== records.join()
  ) {
    return undefined;
  }
  const n = header.count;
  let offset = 4 + headerLength;
  const perBeat = CACHE_LAYOUT.reduce(
    (sum, { type, values }) => sum + type.BYTES_PER_ELEMENT * values(windowLength),
    0,
  );
  const expected = offset + n * perBeat;
  if (bytes.length !== expected) {
    log?.(`beat set: cache ${path} holds ${bytes.length} bytes, not ${expected}; rebuilding it`);
    return undefined;
  }
  const arrays = allocateArrays(n, windowLength, (length, type) => {
    const byteLength = length * type.BYTES_PER_ELEMENT;
    const slice = bytes.buffer.slice(bytes.byteOffset + offset, bytes.byteOffset + offset + byteLength) as ArrayBuffer;
    offset += byteLength;
    return new type(slice);
  });
  return { windowLength, rIndex, count: n, recordNames: header.recordNames, ...arrays };
}

export type SplitName = 'intra' | 'inter';

export interface Split {
  readonly name: SplitName;
  readonly train: Int32Array;
  readonly validation: Int32Array;
  readonly test: Int32Array;
}

/**
 * Labelled beat indices of a split. intra: stratified random 80/20 of all beats (what the seed
 * notebooks report). inter: de Chazal DS1 trains, DS2 tests, paced records in neither. Either
 * way 10 % of the training beats, stratified, are held out for validation and early stopping;
 * or, for inter, every beat of `validationRecords` (training records): a validation set of
 * patients the model has not seen, which is what the inter split's test asks of it.
 */
export function splitBeats(
  set: BeatSet,
  name: SplitName,
  seed: number,
  validationRecords: readonly string[] = [],
): Split {
  const random = seededRandom(seed);
  const byClass = (indices: number[]): number[][] => {
    const groups: number[][] = AAMI_CLASSES.map(() => []);
    for (const i of indices) groups[set.labels[i]!]!.push(i);
    return groups;
  };
  const takeFraction = (indices: number[], fraction: number): [number[], number[]] => {
    const picked: number[] = [];
    const rest: number[] = [];
    for (const group of byClass(indices)) {
      shuffle(group, random);
      const k = Math.round(group.length * fraction);
      picked.push(...group.slice(0, k));
      rest.push(...group.slice(k));
    }
    return [picked, rest];
  };
  const all = Array.from(labelledBeats(set));
  let trainPool: number[];
  let test: number[];
  if (name === 'intra') {
    [test, trainPool] = takeFraction(all, 0.2);
  } else {
    const inDs1 = new Set<number>(DS1.map((r) => set.recordNames.indexOf(r)));
    const inDs2 = new Set<number>(DS2.map((r) => set.recordNames.indexOf(r)));
    trainPool = all.filter((i) => inDs1.has(set.recordIndex[i]!));
    test = all.filter((i) => inDs2.has(set.recordIndex[i]!));
  }
  let validation: number[];
  let train: number[];
  if (validationRecords.length === 0) [validation, train] = takeFraction(trainPool, 0.1);
  else {
    if (name !== 'inter') throw new ConfigError('validation records: only the inter split holds patients out');
    const held = new Set(validationRecords.map((r) => set.recordNames.indexOf(r)));
    const pool = new Set(trainPool.map((i) => set.recordIndex[i]!));
    const outside = validationRecords.filter((r) => !pool.has(set.recordNames.indexOf(r)));
    if (outside.length > 0)
      throw new ConfigError(`validation records ${outside.join(', ')} are not training (DS1) records of this beat set`);
    validation = trainPool.filter((i) => held.has(set.recordIndex[i]!));
    train = trainPool.filter((i) => !held.has(set.recordIndex[i]!));
  }
  const sorted = (a: number[]): Int32Array => Int32Array.from(a).sort();
  return { name, train: sorted(train), validation: sorted(validation), test: sorted(test) };
}
