import { z } from 'zod';
import { ConfigError } from '../contracts/errors.js';

/**
 * What a pipeline worker commits for an `ecg.samples` partition, and how a worker that takes
 * the partition over (after a crash or a rebalance) avoids losing or repeating beats.
 *
 * A frame's beats come out long after the frame: the R peak is confirmed a few hundred ms
 * later, the window needs 1 s of signal after it and the beat waits for the next R peak (up to
 * 2 s, `BeatWindow.rrNext`), and the detector and patient template need
 * seconds of history to be what they were. So the committed offset is not "everything read"
 * but a rebuild period before the oldest beat that may still be unpublished, and the commit's
 * metadata carries, per bed, the R peak of the last beat published (its watermark). The worker
 * that resumes there re-reads the rebuild period, rebuilds the bed's state from it, and drops
 * the beats it regenerates up to the watermark.
 *
 * A broker keeps a commit's metadata only up to `offset.metadata.max.bytes` (4 096 by default)
 * and refuses the commit beyond it, so the metadata holds only what a restart can need: the
 * beds with a frame at or after the committed offset (with its offset, so the next owner can
 * tell the same), and within the limit. A bed that left the ward is dropped once the commit
 * has passed its last frame, so ids given per admission do not pile up; a bed left out for
 * room has its regenerated beats dropped by what `ecg.beats` holds (followPublishedBeats).
 */
export interface CheckpointConfig {
  /** Signal re-read before the watermark to rebuild filters, detector, template and RR history, s. */
  readonly rebuildS: number;
  /** A regenerated beat within this of the watermark is the same beat, s (EC57's match window). */
  readonly sameBeatS: number;
  /** A bed silent longer than this (wall clock) no longer holds its partition's commit back, ms. */
  readonly idleBedMs: number;
  /** Beds without beats (flat line, asystole) are rebuilt from at most this far back, s. */
  readonly maxHoldS: number;
  /** The longest commit metadata, bytes: the cluster's `offset.metadata.max.bytes`. */
  readonly metadataMaxBytes: number;
}

export const DEFAULT_CHECKPOINT: CheckpointConfig = {
  rebuildS: 20,
  sameBeatS: 0.15,
  idleBedMs: 60_000,
  maxHoldS: 60,
  metadataMaxBytes: 4096,
};

/**
 * The cluster's `offset.metadata.max.bytes`, from KAFKA_OFFSET_METADATA_MAX_BYTES where its
 * operators changed Kafka's default: a commit with longer metadata is refused, and the worker
 * with it. A bad value ends the command before it starts.
 */
export function metadataMaxBytesFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const value = env.KAFKA_OFFSET_METADATA_MAX_BYTES;
  if (value === undefined || value === '') return DEFAULT_CHECKPOINT.metadataMaxBytes;
  const bytes = Number(value);
  if (!(/^\d+$/.test(value.trim()) && Number.isSafeInteger(bytes)))
    throw new ConfigError(
      `KAFKA_OFFSET_METADATA_MAX_BYTES must be a whole number of bytes (the cluster's offset.metadata.max.bytes), got "${value}"`,
    );
  return bytes;
}

/**
 * Per bed: [watermark (R peak sample), offset of the bed's last frame read]; `dead` (format 3):
 * offsets at or after the committed one whose frames were set aside (dead-lettered), which the
 * next owner skips unread. Format 2 has no `dead`.
 */
const MetadataSchema = z.object({
  v: z.union([z.literal(2), z.literal(3)]),
  beds: z.record(z.string(), z.tuple([z.number().int(), z.number().int().nonnegative()])),
  dead: z.array(z.number().int().nonnegative()).max(256).optional(),
});

/**
 * Set-aside offsets a commit carries at most per partition (the newest): each costs a few bytes
 * of metadata. A producer that keeps sending unusable frames on a partition beside streaming beds
 * may have older ones in the rebuild period set aside again after a restart.
 */
const MAX_DEAD_CARRIED = 128;

/**
 * A bed's frame whose first sample lies further than this (s) ahead of the bed's newest while the
 * bed streams is not taken into its track: a corrupt or forged index would otherwise prune the
 * frames a restart needs. A bed that resumes after such a silence has gone idle meanwhile and
 * starts a new track.
 */
const MAX_TRACKED_JUMP_S = 60;

/** A bed's entry in a commit's metadata. */
interface Carried {
  readonly bedId: string;
  readonly watermark: number;
  readonly lastOffset: bigint;
  /** When the bed's last frame was read (ms); undefined for one only inherited. */
  readonly lastFrameMs: number | undefined;
}

interface FrameMark {
  readonly offset: bigint;
  readonly firstSample: number;
}

interface BedTrack {
  readonly partition: number;
  sampleRate: number;
  /** Frames of the current assignment, oldest first, pruned to what a restart may need. */
  readonly frames: FrameMark[];
  lastFrameMs: number;
}

export class BedCheckpoints {
  private readonly config: CheckpointConfig;
  private readonly beds = new Map<string, BedTrack>();
  /** Last published R peak per bed: committed and inherited watermarks included. */
  private readonly published = new Map<string, number>();
  /** Last R peak let through to the sink per bed (ahead of `published` while a batch is in flight). */
  private readonly admitted = new Map<string, number>();
  /**
   * Beds that have let a beat through since the last (re)assignment. Until then a bed is being
   * rebuilt, and a beat just after its mark may be the last published one, placed a few samples
   * later by the rebuilt detector; after that, its beats are new, however close together.
   */
  private readonly continuing = new Set<string>();
  /** Per partition, the beds of its last commit's metadata and their last frame's offset. */
  private readonly inherited = new Map<number, Map<string, bigint>>();
  /** Highest offset read per partition, +1. */
  private readonly position = new Map<number, bigint>();

  /** Per partition, offsets whose frames were set aside, oldest first (this worker's and inherited). */
  private readonly dead = new Map<number, bigint[]>();

  /** Partitions whose metadata had to leave beds out: said once each. */
  private readonly trimmedWarned = new Set<number>();
  private readonly warn: (line: string) => void;

  constructor(
    config: CheckpointConfig = DEFAULT_CHECKPOINT,
    warn: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
  ) {
    this.config = config;
    this.warn = warn;
  }

  /** Partitions were (re)assigned: frames will be read again from the committed offsets. */
  reassigned(): void {
    this.beds.clear();
    this.continuing.clear();
    this.position.clear();
    this.inherited.clear();
    this.dead.clear();
  }

  /** A message was read at `offset` (whatever became of it): commits may pass it. */
  onRead(partition: number, offset: string): void {
    const next = BigInt(offset) + 1n;
    if (next > (this.position.get(partition) ?? -1n)) this.position.set(partition, next);
  }

  /** The message at `offset` was set aside (dead-lettered): the partition's next owner skips it. */
  onDeadLetter(partition: number, offset: string): void {
    const list = this.dead.get(partition) ?? [];
    const o = BigInt(offset);
    if (!list.includes(o)) list.push(o);
    if (list.length > MAX_DEAD_CARRIED * 4) list.splice(0, list.length - MAX_DEAD_CARRIED * 4);
    this.dead.set(partition, list);
  }

  /** Whether the message at `offset` was set aside by a previous owner of the partition: skipped unread. */
  skips(partition: number, offset: string): boolean {
    return this.dead.get(partition)?.includes(BigInt(offset)) === true;
  }

  /** Watermarks of a partition's last commit (its metadata); unreadable metadata is ignored. */
  inherit(partition: number, metadata: string | null): void {
    if (metadata === null || metadata === '') return;
    let parsed: z.infer<typeof MetadataSchema>;
    try {
      parsed = MetadataSchema.parse(JSON.parse(metadata));
    } catch {
      return;
    }
    for (const offset of parsed.dead ?? []) this.onDeadLetter(partition, String(offset));
    const beds = this.inherited.get(partition) ?? new Map<string, bigint>();
    for (const [bedId, [sample, lastOffset]] of Object.entries(parsed.beds)) {
      this.raise(this.published, bedId, sample);
      this.raise(this.admitted, bedId, sample);
      beds.set(bedId, BigInt(lastOffset));
    }
    this.inherited.set(partition, beds);
  }

  onFrame(
    partition: number,
    offset: string,
    frame: { bedId: string; firstSample: number; sampleRate: number },
    nowMs: number,
  ): void {
    this.onRead(partition, offset);
    let bed = this.beds.get(frame.bedId);
    // A frame that does not go on from the bed's newest (a duplicate, a late one, or one of a
    // producer that numbered the bed from 0 again) brings no signal the pipeline uses: tracking
    // it would keep the bed active and its list unpruned for as long as such frames come.
    if (bed?.partition === partition && frame.firstSample <= bed.frames.at(-1)!.firstSample) return;
    if (
      bed?.partition === partition &&
      nowMs - bed.lastFrameMs <= this.config.idleBedMs &&
      frame.firstSample - bed.frames.at(-1)!.firstSample > MAX_TRACKED_JUMP_S * frame.sampleRate
    )
      return;
    if (bed === undefined || bed.partition !== partition) {
      bed = { partition, sampleRate: frame.sampleRate, frames: [], lastFrameMs: nowMs };
      this.beds.set(frame.bedId, bed);
    }
    bed.sampleRate = frame.sampleRate;
    bed.lastFrameMs = nowMs;
    bed.frames.push({ offset: BigInt(offset), firstSample: frame.firstSample });
    this.prune(frame.bedId, bed);
  }

  /**
   * Whether a beat goes to the sink: false for a beat already published before a restart (at or,
   * while the bed is rebuilt, just after the bed's watermark). Admitted beats raise the in-flight
   * mark at once, so a beat regenerated by this very worker after a rebalance is caught too. In
   * uninterrupted streaming every beat the detector finds goes through, as it does offline.
   */
  admit(bedId: string, rPeakSample: number, sampleRate: number): boolean {
    const last = this.admitted.get(bedId);
    const sameBeat = this.continuing.has(bedId) ? 0 : this.config.sameBeatS * sampleRate;
    if (last !== undefined && rPeakSample <= last + sameBeat) return false;
    this.admitted.set(bedId, rPeakSample);
    this.continuing.add(bedId);
    return true;
  }

  /** A beat reached `ecg.beats` (published by this worker, or read there: see followPublishedBeats). */
  onPublished(bedId: string, rPeakSample: number): void {
    this.raise(this.published, bedId, rPeakSample);
    this.raise(this.admitted, bedId, rPeakSample);
    const bed = this.beds.get(bedId);
    if (bed !== undefined) this.prune(bedId, bed);
  }

  /** Partitions read since the last (re)assignment. */
  partitions(): number[] {
    return [...this.position.keys()];
  }

  /**
   * The offset to commit for a partition and its metadata, once everything read from it has
   * been published: the earliest rebuild point over its active beds. Undefined before any frame.
   */
  commit(partition: number, nowMs: number): { offset: string; metadata: string } | undefined {
    const position = this.position.get(partition);
    if (position === undefined) return undefined;
    let offset = position;
    const carried: Carried[] = [];
    for (const [bedId, bed] of this.beds) {
      if (bed.partition !== partition) continue;
      const watermark = this.published.get(bedId);
      if (watermark !== undefined)
        carried.push({ bedId, watermark, lastOffset: bed.frames.at(-1)!.offset, lastFrameMs: bed.lastFrameMs });
      if (nowMs - bed.lastFrameMs > this.config.idleBedMs) continue;
      const restart = this.restartFrame(bedId, bed);
      if (restart !== undefined && restart.offset < offset) offset = restart.offset;
    }
    const inherited = this.inherited.get(partition) ?? new Map<string, bigint>();
    for (const [bedId, lastOffset] of inherited) {
      const watermark = this.published.get(bedId);
      const seen = this.beds.get(bedId)?.partition === partition;
      if (watermark !== undefined && !seen) carried.push({ bedId, watermark, lastOffset, lastFrameMs: undefined });
    }
    // A restart from `offset` re-reads no frame of a bed whose last frame lies before it: such a
    // bed (idle, or gone from the ward) needs neither its entry nor its track. Should it stream
    // again, its numbering goes on, so its beats are new.
    const needed: Carried[] = [];
    for (const c of carried) {
      if (c.lastOffset >= offset) needed.push(c);
      else if (c.lastFrameMs === undefined) inherited.delete(c.bedId);
      else this.beds.delete(c.bedId);
    }
    const dead = this.dead.get(partition) ?? [];
    const stillAhead = dead.filter((o) => o >= offset);
    if (stillAhead.length < dead.length) this.dead.set(partition, stillAhead);
    return {
      offset: offset.toString(),
      metadata: this.metadata(partition, needed, stillAhead.slice(-MAX_DEAD_CARRIED)),
    };
  }

  /**
   * The metadata JSON within `metadataMaxBytes`. Over it, the beds whose last frame is oldest
   * go in first: the last beats of the beds streaming now are the newest in `ecg.beats`, whose
   * tail a successor reads anyway.
   */
  private metadata(partition: number, carried: Carried[], dead: readonly bigint[]): string {
    const entries = carried.map((c) => ({ c, json: `${JSON.stringify(c.bedId)}:[${c.watermark},${c.lastOffset}]` }));
    const skipped = dead.length === 0 ? '' : `,"dead":[${dead.join(',')}]`;
    const asJson = (kept: readonly string[]): string => `{"v":3,"beds":{${kept.join(',')}}${skipped}}`;
    const all = asJson(entries.map((e) => e.json));
    if (Buffer.byteLength(all) <= this.config.metadataMaxBytes) return all;
    entries.sort((a, b) => (a.c.lastFrameMs ?? -1) - (b.c.lastFrameMs ?? -1)); // inherited ones first
    const kept: string[] = [];
    let bytes = Buffer.byteLength(asJson([]));
    for (const { json } of entries) {
      const more = Buffer.byteLength(json) + (kept.length > 0 ? 1 : 0);
      if (bytes + more > this.config.metadataMaxBytes) break;
      kept.push(json);
      bytes += more;
    }
    if (kept.length < carried.length && !this.trimmedWarned.has(partition)) {
      this.trimmedWarned.add(partition);
      this.warn(
        `warning [ecg.samples/${partition}]: the commit metadata holds the watermarks of ${kept.length} of ` +
          `${carried.length} beds (${this.config.metadataMaxBytes} bytes, the cluster's offset.metadata.max.bytes); ` +
          'the others are taken from the tail of ecg.beats after a restart. More partitions keep every bed in it.',
      );
    }
    // a budget too small for the format itself: no metadata at all, the tail of ecg.beats does it all
    return bytes > this.config.metadataMaxBytes ? '' : asJson(kept);
  }

  /** The frame a restart must begin with to rebuild the bed before its first unpublished beat. */
  private restartFrame(bedId: string, bed: BedTrack): FrameMark | undefined {
    const target = this.target(bedId, bed);
    let chosen = bed.frames[0];
    for (const f of bed.frames) {
      if (f.firstSample > target) break;
      chosen = f;
    }
    return chosen;
  }

  private target(bedId: string, bed: BedTrack): number {
    const newest = bed.frames.at(-1)?.firstSample ?? 0;
    const watermark = this.published.get(bedId) ?? -Infinity;
    return Math.max(watermark, newest - this.config.maxHoldS * bed.sampleRate) - this.config.rebuildS * bed.sampleRate;
  }

  /** Drops frames older than the one a restart would begin with. */
  private prune(bedId: string, bed: BedTrack): void {
    const target = this.target(bedId, bed);
    let drop = 0;
    while (drop + 1 < bed.frames.length && bed.frames[drop + 1]!.firstSample <= target) drop++;
    if (drop > 0) bed.frames.splice(0, drop);
  }

  private raise(map: Map<string, number>, bedId: string, sample: number): void {
    const current = map.get(bedId);
    if (current === undefined || sample > current) map.set(bedId, sample);
  }
}
