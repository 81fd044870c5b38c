import type { SampleFrame, StreamPosition } from '../stream/contracts/frame.js';
import type { ReferenceMessage } from '../stream/contracts/messages.js';
import {
  readAnnotations,
  readRecord,
  recordSignals,
  WfdbError,
  type Annotation,
  type WfdbRecord,
} from '../stream/wfdb/index.js';
import { synthesizeRecord, type SynthConfig } from './synth.js';

/**
 * A bed fed by a recorded database record (`database`: the database's name, default mitdb), or by
 * the synthetic ECG generator.
 */
export type ReplayBed =
  | { readonly bedId: string; readonly record: string; readonly database?: string }
  | { readonly bedId: string; readonly synth: SynthConfig };

/** A bed ready to replay: its signal, its reference annotations and its source name (`mitdb/208`, `synth/3`). */
export interface LoadedBed {
  readonly bed: ReplayBed;
  readonly record: WfdbRecord;
  readonly annotations: readonly Annotation[];
  readonly source: string;
  /** Where the bed's numbering goes on (its stream's end in `ecg.samples`); from 0 if not given. */
  readonly start?: StreamPosition;
}

/** A bed whose record could not be read, and the reader's reason (it names the file). */
export interface UnreadableBed {
  readonly bed: ReplayBed;
  readonly source: string;
  readonly reason: string;
}

/** Where a bed's signal comes from, as frames and events name it: `mitdb/208`, `svdb/800`, `synth/3`. */
function sourceOf(bed: ReplayBed): string {
  return 'synth' in bed ? `synth/${bed.synth.seed}` : `${bed.database ?? 'mitdb'}/${bed.record}`;
}

/** Reads one bed's record and annotations; a missing or corrupt file throws a WfdbError naming it. */
export async function loadBed(dir: string, bed: ReplayBed): Promise<LoadedBed> {
  const source = sourceOf(bed);
  if ('synth' in bed) return { bed, source, ...synthesizeRecord(bed.synth) };
  const [record, annotations] = await Promise.all([readRecord(dir, bed.record), readAnnotations(dir, bed.record)]);
  return { bed, record, annotations, source };
}

/**
 * Reads every bed's record. One that is missing or corrupt is set aside with its reason instead
 * of failing the rest: a ward replay, or a whole-database validation, goes on with the beds it
 * can read and says which it could not.
 */
export async function loadBeds(
  dir: string,
  beds: readonly ReplayBed[],
): Promise<{ loaded: LoadedBed[]; unreadable: UnreadableBed[] }> {
  const loaded: LoadedBed[] = [];
  const unreadable: UnreadableBed[] = [];
  for (const bed of beds) {
    try {
      loaded.push(await loadBed(dir, bed));
    } catch (error) {
      if (!(error instanceof WfdbError)) throw error;
      unreadable.push({ bed, source: sourceOf(bed), reason: error.message });
    }
  }
  return { loaded, unreadable };
}

export interface ReplayOptions {
  /** Frame length, ms (DESIGN.md: 250). */
  readonly frameMs: number;
  /** Start again at the end of the record (sample indices keep increasing). */
  readonly loop: boolean;
  /** Stop each bed after this many frames (default: the whole record). */
  readonly maxFrames?: number;
}

export const DEFAULT_REPLAY: ReplayOptions = { frameMs: 250, loop: false };

/** A record's frames, in order; `producedAtMs` is left 0 for the publisher to stamp. */
export function* recordFrames(
  record: WfdbRecord,
  bedId: string,
  source: string,
  options: ReplayOptions = DEFAULT_REPLAY,
  start: StreamPosition = { seq: 0, sample: 0 },
): Generator<SampleFrame> {
  const fs = record.header.samplingFrequency;
  const perFrame = Math.max(1, Math.round((fs * options.frameMs) / 1000));
  const length = record.signals[0]?.digital.length ?? 0;
  const leads = recordSignals(record.header).map((signal, l) => ({
    ...signal,
    units: record.signals[l]!.spec.units,
    gain: record.signals[l]!.spec.gain,
    baseline: record.signals[l]!.spec.baseline,
  }));
  let seq = start.seq;
  let offset = start.sample;
  const limit = start.seq + (options.maxFrames ?? Infinity);
  do {
    for (let start = 0; start < length && seq < limit; start += perFrame) {
      const n = Math.min(perFrame, length - start);
      const samples = new Int16Array(n * leads.length);
      for (let i = 0; i < n; i++) {
        for (let l = 0; l < leads.length; l++) samples[i * leads.length + l] = record.signals[l]!.digital[start + i]!;
      }
      yield { bedId, source, sampleRate: fs, leads, seq: seq++, firstSample: offset + start, producedAtMs: 0, samples };
    }
    offset += length;
  } while (options.loop && seq < limit);
}

/** Reference annotations (beats, rhythm changes, flutter marks) as `ecg.reference` messages. */
export function referenceMessages({ bed, record, annotations, source, start }: LoadedBed): ReferenceMessage[] {
  const fs = record.header.samplingFrequency;
  const offset = start?.sample ?? 0;
  return annotations.map((a) => ({
    v: 1 as const,
    bedId: bed.bedId,
    source,
    sample: offset + a.sample,
    timeS: (offset + a.sample) / fs,
    symbol: a.symbol,
    aux: a.aux,
  }));
}

/**
 * Streams several beds at `speed` times real time (Infinity: as fast as the sink takes them):
 * all beds' frames with the same index are published together, then the pacer waits.
 */
export interface ReplayRun extends ReplayOptions {
  /** x real time; Infinity publishes as fast as the sink accepts. */
  readonly speed: number;
  readonly signal?: AbortSignal;
  readonly now?: () => number;
  /** Rewrites each bed's frame stream (fault injection). */
  readonly transform?: (frames: Generator<SampleFrame>, bed: ReplayBed) => Generator<SampleFrame>;
  /**
   * Awaited before each publish with the frames sent so far: backpressure, so a fast replay
   * never runs further ahead of its consumers than the broker retains. A paced replay held
   * here goes on at its pace afterwards, without a burst to catch up.
   */
  readonly throttle?: (framesSent: number) => Promise<void>;
}

export async function replayBeds(
  beds: readonly LoadedBed[],
  publish: (frames: SampleFrame[]) => Promise<void>,
  options: ReplayRun = { ...DEFAULT_REPLAY, speed: 1 },
): Promise<{ frames: number }> {
  const now = options.now ?? Date.now;
  const transform = options.transform ?? ((frames: Generator<SampleFrame>) => frames);
  const generators = beds.map(({ bed, record, source, start }) =>
    transform(recordFrames(record, bed.bedId, source, options, start), bed),
  );
  let started = now();
  let frames = 0;
  for (let tick = 0; ; tick++) {
    if (options.signal?.aborted === true) break;
    const ready: SampleFrame[] = [];
    for (const g of generators) {
      const next = g.next();
      if (next.done !== true) ready.push(next.value);
    }
    if (ready.length === 0) break;
    if (options.throttle !== undefined) {
      const held = now();
      await options.throttle(frames);
      started += now() - held;
    }
    const producedAtMs = now();
    const batch = ready.map((frame) => ({ ...frame, producedAtMs }));
    await publish(batch);
    frames += batch.length;
    if (Number.isFinite(options.speed)) {
      const due = started + ((tick + 1) * options.frameMs) / options.speed;
      const wait = due - now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
  return { frames };
}
