import { MalformedMessages } from '../kafka/malformed.js';
import { filter, groupBy, lastValueFrom, map, merge, mergeMap, Subject, takeUntil, tap } from 'rxjs';
import { deadLetterCodec, type DeadLetterMessage } from '../contracts/messages.js';
import type { SampleFrame } from '../contracts/frame.js';
import { TOPICS } from '../contracts/topics.js';
import { FETCH_WAIT_MS, type KafkaClient, type KafkaConsumer } from '../kafka/client.js';
import { BedCheckpoints, DEFAULT_CHECKPOINT, type CheckpointConfig } from '../kafka/checkpoint.js';
import { followAcks } from '../kafka/acks.js';
import { followPublishedBeats } from '../kafka/publishedBeats.js';
import { publishInBatches, type OutgoingRecord } from '../kafka/sink.js';
import {
  commitSamples,
  frameSource,
  type CommitPolicy,
  type PartitionCommit,
  type SourcedFrame,
} from '../kafka/source.js';
import { usableFrameProblem } from './frameChecks.js';
import { AlarmAcks } from './acks.js';
import type { AckKeyRing } from '../contracts/ackSignature.js';
import { wardMessages } from './messages.js';
import { monitorWard, type Classify, type ReleaseConfig, type WardEvent } from './ward.js';

/** What the worker publishes: the ward's events, and the dead letters of messages that are no frame. */
type Outgoing = WardEvent | { readonly kind: 'dead-letter'; readonly message: DeadLetterMessage };

/** A dead letter as the message it is, keyed by the bed it named where known. */
function deadLetterRecord(message: DeadLetterMessage): OutgoingRecord {
  return {
    topic: TOPICS.deadLetter,
    key: message.bedId ?? `${message.topic}/${message.partition}`,
    value: deadLetterCodec.encode(message),
  };
}

/** Beats and events a worker may hold unpublished before it stops fetching (bounds its memory). */
export const MAX_UNPUBLISHED = 2000;

/**
 * Counts beats and events between the ward pipeline and the sink: RxJS has no backpressure,
 * so the consumer waits while too many of them are unpublished (classified, published, or
 * dropped as repeats or as a past generation's).
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

  /** Beats and events read but not yet published. */
  backlog(): number {
    return this.staged - this.finished + (this.entered - this.handled);
  }

  /** Resolves once at most `limit` beats and events are unpublished, or `stop` fires. */
  async below(limit: number, stop: AbortSignal): Promise<void> {
    while (this.backlog() > limit && !stop.aborted) {
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
  }
}

/**
 * Commits `ecg.samples` offsets one request at a time, in the order they were computed, so a
 * stale commit never lands after a newer one. Commits the coordinator refused while the group
 * was rebalancing are retried with the next request, unless that one covers their partition.
 */
class OffsetCommitter {
  private chain: Promise<void> = Promise.resolve();
  private readonly refused = new Map<number, PartitionCommit>();
  private readonly consumer: KafkaConsumer;

  constructor(consumer: KafkaConsumer) {
    this.consumer = consumer;
  }

  /** Commits these offsets after the ones already asked for. */
  commit(commits: readonly PartitionCommit[]): Promise<void> {
    this.chain = this.chain.then(() => this.send(commits));
    return this.chain;
  }

  private async send(commits: readonly PartitionCommit[]): Promise<void> {
    const all = new Map(this.refused);
    for (const c of commits) all.set(c.partition, c);
    if (all.size === 0) return;
    const batch = [...all.values()];
    this.refused.clear();
    if (!(await commitSamples(this.consumer, batch))) for (const c of batch) this.refused.set(c.partition, c);
  }
}

/**
 * One pipeline worker: joins the `ecg.samples` consumer group, runs the ward pipeline and
 * publishes `ecg.beats` / `ecg.alerts` until `stop` aborts. More workers in the same group
 * share the partitions (Kafka's scale-out). Offsets are committed only behind published beats
 * (BedCheckpoints), so a worker killed at any moment loses no beat, and the one that resumes
 * its partitions repeats none: it skips the beats the commits' watermarks or `ecg.beats`
 * itself (followPublishedBeats) say were published. It follows `ecg.acks` for every bed, so
 * that the beds it takes over keep their acknowledged alarms acknowledged.
 */
export async function runPipelineWorker(options: {
  kafka: KafkaClient;
  classify: Classify;
  modelId: string;
  stop: AbortSignal;
  groupId?: string;
  checkpoint?: CheckpointConfig;
  onEvent?: (event: WardEvent) => void;
  /**
   * Called at every group (re)join, once the worker is ready to consume, with the `ecg.samples`
   * partitions it now owns (none when the group has more workers than partitions).
   */
  onAssigned?: (partitions: readonly number[]) => void;
  /** Called for every frame consumed (progress, draining a replay). */
  onFrame?: () => void;
  /** Called with the number of messages of each batch published to ecg.beats / ecg.alerts. */
  onPublished?: (messages: number) => void;
  malformed?: MalformedMessages;
  /**
   * Frames set aside (invalid, implausibly numbered, or a bed's processing failed), counted and
   * warned about once per kind: the worker's health.
   */
  rejections?: MalformedMessages;
  /** Warnings about the worker's own bookkeeping (a commit metadata that had to leave beds out). */
  warn?: (line: string) => void;
  /** When a silent bed's analysis is released (default DEFAULT_RELEASE). */
  release?: ReleaseConfig;
  /** The keys acknowledgements must be signed with; without them every acknowledgement is refused. */
  ackKeys?: AckKeyRing;
}): Promise<void> {
  const groupId = options.groupId ?? 'ecg-pipeline';
  // A crashed worker's partitions move after 10 s instead of kafkajs's default 30 s.
  const consumer = options.kafka.consumer({
    groupId,
    maxWaitTimeInMs: FETCH_WAIT_MS,
    sessionTimeout: 10_000,
    heartbeatInterval: 1_000,
  });
  const producer = options.kafka.producer();
  const admin = options.kafka.admin();
  const malformed = options.malformed ?? new MalformedMessages();
  const rejections = options.rejections ?? new MalformedMessages(undefined, 'setting aside a frame');
  const checkpoints = new BedCheckpoints(options.checkpoint ?? DEFAULT_CHECKPOINT, options.warn);
  const acks = new AlarmAcks(options.ackKeys, rejections);
  const [publishedBeats, ackTail] = await Promise.all([
    followPublishedBeats(options.kafka, groupId, (bedId, r) => checkpoints.onPublished(bedId, r), malformed),
    followAcks(options.kafka, groupId, (ack) => acks.receive(ack), malformed),
    consumer.connect(),
    producer.connect(),
    admin.connect(),
  ]);
  const stopped = new Subject<void>();
  const onAbort = (): void => stopped.next();
  options.stop.addEventListener('abort', onAbort);
  const progress = new PublishProgress();
  const committer = new OffsetCommitter(consumer);
  const currentCommits = (): PartitionCommit[] => {
    const now = Date.now();
    return checkpoints.partitions().flatMap((partition) => {
      const commit = checkpoints.commit(partition, now);
      return commit === undefined ? [] : [{ partition, ...commit }];
    });
  };
  const generations = new Subject<number>();
  let generation = 0;
  /** Where each frame in flight was read: a frame a bed sets aside is dead-lettered with it. */
  const sources = new WeakMap<SampleFrame, Pick<SourcedFrame, 'partition' | 'offset' | 'bytes'>>();
  /** Messages that are no frame, dead-lettered beside the ward's events. */
  const unreadable = new Subject<{ event: Outgoing; generation: number }>();
  const deadLetter = (
    source: Pick<SourcedFrame, 'partition' | 'offset' | 'bytes'>,
    bedId: string | null,
    code: string,
    reason: string,
  ): DeadLetterMessage => {
    checkpoints.onDeadLetter(source.partition, source.offset);
    return {
      v: 1,
      topic: TOPICS.samples,
      partition: source.partition,
      offset: source.offset,
      bedId,
      code,
      reason,
      by: groupId,
      atMs: Date.now(),
      payload: source.bytes.toString('base64'),
    };
  };
  const policy: CommitPolicy = {
    skip: (partition, offset) => checkpoints.skips(partition, offset),
    malformed: (partition, offset, bytes, error) => {
      checkpoints.onRead(partition, offset);
      const message = deadLetter({ partition, offset, bytes }, null, error.code, error.message);
      unreadable.next({ event: { kind: 'dead-letter', message }, generation });
    },
    backpressure: () => progress.below(MAX_UNPUBLISHED, options.stop),
    rejoined: currentCommits,
    reassigned: (next) => {
      checkpoints.reassigned();
      generation = next;
      // the previous generation's bed state ends here, not at the first frame of the next one:
      // a worker left without partitions must not keep (and stall-alarm) beds it gave away
      generations.next(next);
    },
    inherit: (partition, metadata) => checkpoints.inherit(partition, metadata),
    resume: async (partitions) => {
      await Promise.all([publishedBeats.caughtUp(options.stop), ackTail.caughtUp(options.stop)]);
      options.onAssigned?.(partitions);
    },
  };
  const sampleRates = new Map<string, number>();
  let joining: Promise<void> = Promise.resolve();
  try {
    const frames = frameSource(
      consumer,
      admin,
      groupId,
      malformed,
      policy,
      (commits) => committer.commit(commits),
      (started) => (joining = started),
    ).pipe(
      takeUntil(stopped),
      tap((s) => {
        sources.set(s.frame, s);
        // a frame no bed can use (the ward sets it aside) must not move a bed's rebuild point
        if (usableFrameProblem(s.frame) === undefined) checkpoints.onFrame(s.partition, s.offset, s.frame, Date.now());
        else checkpoints.onRead(s.partition, s.offset);
        sampleRates.set(s.frame.bedId, s.frame.sampleRate);
        options.onFrame?.();
      }),
    );
    // a new group generation re-reads its partitions from the commits with fresh bed state;
    // what the previous one still had in flight is dropped (its partitions may have moved, and
    // their new owner publishes those beats)
    const wardEvents = frames.pipe(
      groupBy((s) => s.generation, { duration: (g) => generations.pipe(filter((n) => n > g.key)) }),
      mergeMap((group) =>
        group.pipe(
          map((s) => s.frame),
          monitorWard({
            classify: options.classify,
            onPending: () => progress.beatStaged(),
            release: options.release,
            acks,
          }),
          map((event): { event: Outgoing; generation: number } => ({ event, generation: group.key })),
        ),
      ),
    );
    const events = merge(wardEvents, unreadable.pipe(takeUntil(stopped))).pipe(
      tap(({ event: e }) => {
        progress.eventEntered();
        if (e.kind === 'rejected')
          rejections.record(TOPICS.samples, { code: e.code, message: `${e.bedId}: ${e.reason}` });
      }),
      filter(({ event: e, generation: g }) => {
        const keep =
          g === generation &&
          (e.kind !== 'beat' ||
            checkpoints.admit(e.beat.bedId, e.beat.rPeakSample, sampleRates.get(e.beat.bedId) ?? 1));
        if (!keep) progress.eventsDone(1, e.kind === 'beat' ? 1 : 0);
        return keep;
      }),
      map(({ event }) => event),
      tap((e) => {
        if (e.kind !== 'dead-letter') options.onEvent?.(e);
      }),
    );
    const toMessages = (e: Outgoing, now: number): OutgoingRecord[] => {
      if (e.kind === 'dead-letter') return [deadLetterRecord(e.message)];
      if (e.kind !== 'rejected') return wardMessages(e, options.modelId, now);
      const source = e.frame === undefined ? undefined : sources.get(e.frame);
      return source === undefined ? [] : [deadLetterRecord(deadLetter(source, e.bedId, e.code, e.reason))];
    };
    if (!options.stop.aborted) {
      await lastValueFrom(
        publishInBatches(events, producer, toMessages, {
          // the commit follows each published batch before the next is sent: a worker killed at
          // any moment has committed watermarks at most one batch behind what it published
          acknowledged: async ({ events: published, messages }) => {
            let beats = 0;
            for (const e of published) {
              if (e.kind !== 'beat') continue;
              beats++;
              checkpoints.onPublished(e.beat.bedId, e.beat.rPeakSample);
            }
            if (beats > 0) await committer.commit(currentCommits());
            progress.eventsDone(published.length, beats);
            options.onPublished?.(messages);
          },
        }),
        { defaultValue: undefined },
      );
      // stopped and drained: the final watermarks let the partitions' next owner go on
      // without repeating what this worker published after its last commit
      await committer.commit(currentCommits());
    }
  } finally {
    options.stop.removeEventListener('abort', onAbort);
    await joining.catch(() => undefined); // its failure, if any, was reported through the frames
    await Promise.all([
      consumer.disconnect(),
      producer.disconnect(),
      admin.disconnect(),
      publishedBeats.stop(),
      ackTail.stop(),
    ]);
  }
}

/**
 * Rejects with a running worker's error if it fails, and never settles otherwise. A command that
 * replays records into its own worker races each wait of the replay against it: a worker that
 * fails (a lost broker) then ends the command with its error, where the replay, waiting for its
 * frames to be consumed, would wait for ever, and the error would surface only as an unhandled
 * rejection.
 */
export function workerFailure(worker: Promise<void>): Promise<never> {
  const failure = worker.then(() => new Promise<never>(() => undefined));
  // raced later: until then its rejection must not count as unhandled
  failure.catch(() => undefined);
  return failure;
}
