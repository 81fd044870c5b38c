import type { Kafka } from 'kafkajs';
import { filter, groupBy, lastValueFrom, map, mergeMap, Subject, takeUntil, tap } from 'rxjs';
import { BedCheckpoints, DEFAULT_CHECKPOINT, type CheckpointConfig } from '../kafka/checkpoint.js';
import { MalformedMessages } from '../kafka/messages.js';
import { publishWard } from '../kafka/sink.js';
import { commitSamples, frameSource, type CommitPolicy } from '../kafka/source.js';
import { monitorWard, type Classify, type WardEvent } from './ward.js';

/** Longest a fetch waits for new frames, ms. */
export const FETCH_WAIT_MS = 50;

/**
 * Counts beats between the ward pipeline and the sink, so that a consumed batch is committed
 * only once every beat its frames completed has been published (or dropped as a repeat).
 */
class PublishProgress {
  private staged = 0;
  private finished = 0;
  private entered = 0;
  private handled = 0;
  private readonly changed = new Subject<void>();

  /** A beat window was cut: it will reach the sink once classified. */
  beatStaged(): void {
    this.staged++;
  }

  /** An event left the ward pipeline for the sink. */
  eventEntered(): void {
    this.entered++;
  }

  /** Events done with (published or dropped), `beats` of them beats. */
  eventsDone(events: number, beats: number): void {
    this.handled += events;
    this.finished += beats;
    this.changed.next();
  }

  /** Resolves true when everything staged so far is out, false if `stop` fires first. */
  async idle(stop: AbortSignal): Promise<boolean> {
    const target = this.staged;
    while (!(this.finished >= target && this.handled >= this.entered)) {
      if (stop.aborted) return false;
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          sub.unsubscribe();
          stop.removeEventListener('abort', wake);
          resolve();
        };
        const sub = this.changed.subscribe(wake);
        stop.addEventListener('abort', wake);
      });
    }
    return !stop.aborted;
  }
}

/**
 * One pipeline worker: joins the `ecg.samples` consumer group, runs the ward pipeline and
 * publishes `ecg.beats` / `ecg.alerts` until `stop` aborts. More workers in the same group
 * share the partitions (Kafka's scale-out). Offsets are committed only behind published beats
 * (BedCheckpoints), so a worker killed at any moment loses no beat, and the one that resumes
 * its partitions repeats none.
 */
export async function runPipelineWorker(options: {
  kafka: Kafka;
  classify: Classify;
  modelId: string;
  stop: AbortSignal;
  groupId?: string;
  checkpoint?: CheckpointConfig;
  onEvent?: (event: WardEvent) => void;
  /** Called for every frame consumed (progress, draining a replay). */
  onFrame?: () => void;
  /** Called with the number of messages of each batch published to ecg.beats / ecg.alerts. */
  onPublished?: (messages: number) => void;
  malformed?: MalformedMessages;
}): Promise<void> {
  const groupId = options.groupId ?? 'ecg-pipeline';
  // a fetch waits at most 50 ms for data: the default 5 s long poll would be added to every
  // beat's latency by brokers that answer at the deadline (librdkafka's mock cluster does).
  // A crashed worker's partitions move after 10 s instead of kafkajs's default 30 s.
  const consumer = options.kafka.consumer({
    groupId,
    maxWaitTimeInMs: FETCH_WAIT_MS,
    sessionTimeout: 10_000,
    heartbeatInterval: 1_000,
  });
  const producer = options.kafka.producer();
  const admin = options.kafka.admin();
  await Promise.all([consumer.connect(), producer.connect(), admin.connect()]);
  const stopped = new Subject<void>();
  const onAbort = (): void => stopped.next();
  options.stop.addEventListener('abort', onAbort);
  const checkpoints = new BedCheckpoints(options.checkpoint ?? DEFAULT_CHECKPOINT);
  const progress = new PublishProgress();
  const policy: CommitPolicy = {
    reassigned: () => checkpoints.reassigned(),
    inherit: (partition, metadata) => checkpoints.inherit(partition, metadata),
    settle: async (partition) =>
      (await progress.idle(options.stop)) ? checkpoints.commit(partition, Date.now()) : undefined,
  };
  const sampleRates = new Map<string, number>();
  const generations = new Subject<number>();
  try {
    const frames = frameSource(consumer, admin, groupId, options.malformed ?? new MalformedMessages(), policy).pipe(
      takeUntil(stopped),
      tap((s) => {
        checkpoints.onFrame(s.partition, s.offset, s.frame, Date.now());
        sampleRates.set(s.frame.bedId, s.frame.sampleRate);
        generations.next(s.generation);
        options.onFrame?.();
      }),
    );
    // a new group generation re-reads its partitions from the commits: each generation gets
    // fresh bed state, and the previous one finishes what it has in flight
    const events = frames.pipe(
      groupBy((s) => s.generation, { duration: (g) => generations.pipe(filter((n) => n > g.key)) }),
      mergeMap((generation) =>
        generation.pipe(
          map((s) => s.frame),
          monitorWard({ classify: options.classify, onPending: () => progress.beatStaged() }),
        ),
      ),
      tap(() => progress.eventEntered()),
      filter((e) => {
        if (e.kind !== 'beat') return true;
        const fs = sampleRates.get(e.beat.bedId) ?? 1;
        if (checkpoints.admit(e.beat.bedId, e.beat.rPeakSample, fs)) return true;
        progress.eventsDone(1, 1);
        return false;
      }),
      tap((e) => options.onEvent?.(e)),
    );
    if (!options.stop.aborted) {
      await lastValueFrom(
        publishWard(events, producer, options.modelId).pipe(
          tap(({ events: published, messages }) => {
            let beats = 0;
            for (const e of published) {
              if (e.kind !== 'beat') continue;
              beats++;
              checkpoints.onPublished(e.beat.bedId, e.beat.rPeakSample);
            }
            progress.eventsDone(published.length, beats);
            options.onPublished?.(messages);
          }),
        ),
        { defaultValue: undefined },
      );
      // stopped and drained: the final watermarks let the partitions' next owner go on
      // without repeating what this worker published after its last batch commit
      const now = Date.now();
      await commitSamples(
        consumer,
        checkpoints.partitions().flatMap((partition) => {
          const commit = checkpoints.commit(partition, now);
          return commit === undefined ? [] : [{ partition, ...commit }];
        }),
      );
    }
  } finally {
    options.stop.removeEventListener('abort', onAbort);
    await Promise.all([consumer.disconnect(), producer.disconnect(), admin.disconnect()]);
  }
}
