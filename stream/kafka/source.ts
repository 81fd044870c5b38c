import { type MalformedMessages } from './malformed.js';
import { MonitorError } from '../contracts/errors.js';
import type { FetchedBatch, KafkaAdmin, KafkaConsumer } from './client.js';
import { Observable } from 'rxjs';
import { decodeFrame, FrameDecodeError, type SampleFrame } from '../contracts/frame.js';
import { TOPICS } from '../contracts/topics.js';

/** A decoded frame with where it came from. */
export interface SourcedFrame {
  readonly frame: SampleFrame;
  readonly partition: number;
  readonly offset: string;
  /** The message as it was read (what a dead letter carries). */
  readonly bytes: Buffer;
  /** Counts the consumer's group joins: after a new one, partitions are read again from their commits. */
  readonly generation: number;
}

/** How the consumer's offsets follow the pipeline's progress (see BedCheckpoints). */
export interface CommitPolicy {
  /**
   * Awaited after each batch went downstream, before the next fetch: holds the consumer while
   * too much of what it read is still unpublished (RxJS has no backpressure of its own).
   */
  backpressure(): Promise<void>;
  /** The group was joined again: the commits that record what was published so far. */
  rejoined(): PartitionCommit[];
  /**
   * Partitions restart at their committed offsets from now on, as group generation
   * `generation`: what the previous generation still has in flight is not published.
   */
  reassigned(generation: number): void;
  /** A partition's last commit, with the metadata its committer left. */
  inherit(partition: number, metadata: string | null): void;
  /**
   * Awaited before the new generation's first frame, with the partitions it owns: learns what
   * `ecg.beats` already holds.
   */
  resume(partitions: readonly number[]): Promise<void>;
  /** Whether a message was set aside by the partition's previous owner: skipped unread. */
  skip(partition: number, offset: string): boolean;
  /** A message that is no frame: counted by the source, set aside by the policy. */
  malformed(partition: number, offset: string, bytes: Buffer, error: FrameDecodeError): void;
}

/**
 * How long a worker that joined waits before it reads the commits and the published beats: the
 * partitions' previous owners commit their final watermarks as soon as they have rejoined, and
 * the last batch they had sent is acknowledged within this (ms).
 */
export const INHERIT_GRACE_MS = 1500;

export interface PartitionCommit {
  readonly partition: number;
  readonly offset: string;
  readonly metadata: string;
}

/**
 * Commits offsets. Returns false when the cluster refused them for a reason a later commit can
 * get past (`retriable`: the group is rebalancing, and the next owner resumes from the last
 * commit); any other error is thrown.
 */
export async function commitSamples(consumer: KafkaConsumer, commits: readonly PartitionCommit[]): Promise<boolean> {
  if (commits.length === 0) return true;
  try {
    await consumer.commitOffsets(commits.map((c) => ({ topic: TOPICS.samples, ...c })));
    return true;
  } catch (error) {
    if (error instanceof MonitorError && error.retriable) return false;
    throw error;
  }
}

/**
 * Frames from `ecg.samples` through a consumer group. Each batch is decoded message by
 * message; a malformed frame is counted and skipped (it never stops a bed). kafkajs never
 * commits on its own: the caller commits what is published (BedCheckpoints), and at every
 * (re)join this source commits the previous assignment's final watermarks before any frame of
 * the new generation goes downstream. `onJoining` receives the consumer's start (its group join):
 * a disconnect must wait for it, or kafkajs finishes the join afterwards, fails against a closed
 * broker and restarts the consumer (a run stopped seconds after it began).
 */
export function frameSource(
  consumer: KafkaConsumer,
  admin: KafkaAdmin,
  groupId: string,
  malformed: MalformedMessages,
  policy: CommitPolicy,
  commit: (commits: readonly PartitionCommit[]) => Promise<void>,
  onJoining: (started: Promise<void>) => void = () => undefined,
): Observable<SourcedFrame> {
  return new Observable<SourcedFrame>((subscriber) => {
    let stopped = false;
    let generation = 0;
    let joined: Promise<void> = Promise.resolve();
    const fail = (error: unknown): void => subscriber.error(error);
    const removeJoinListener = consumer.onGroupJoin((partitions) => {
      const published = policy.rejoined();
      policy.reassigned(++generation);
      const previous = joined;
      joined = (async () => {
        await previous.catch(() => undefined); // already reported
        await commit(published);
        await new Promise((resolve) => setTimeout(resolve, INHERIT_GRACE_MS));
        const topics = await admin.fetchOffsets({ groupId, topics: [TOPICS.samples] });
        for (const p of topics.flatMap((t) => t.partitions)) policy.inherit(p.partition, p.metadata);
        await policy.resume(partitions);
      })();
      joined.catch(fail);
    });
    const started = (async () => {
      await consumer.subscribe({ topic: TOPICS.samples, fromBeginning: true });
      if (stopped) return; // stopped while subscribing: nothing to join
      await consumer.run({
        autoResolve: false,
        partitionsConsumedConcurrently: 8,
        eachBatch: async (batch: FetchedBatch) => {
          const { resolveOffset, heartbeat, isRunning, isStale } = batch;
          await joined;
          const fetchedIn = generation;
          for (const message of batch.messages) {
            if (stopped || !isRunning() || isStale() || generation !== fetchedIn) return;
            if (message.value !== null && !policy.skip(batch.partition, message.offset)) {
              let frame: SampleFrame;
              try {
                frame = decodeFrame(new Uint8Array(message.value));
              } catch (error) {
                if (!(error instanceof FrameDecodeError)) throw error;
                malformed.record(TOPICS.samples, error);
                policy.malformed(batch.partition, message.offset, message.value, error);
                resolveOffset(message.offset);
                continue;
              }
              subscriber.next({
                frame,
                partition: batch.partition,
                offset: message.offset,
                bytes: message.value,
                generation: fetchedIn,
              });
            }
            resolveOffset(message.offset);
          }
          await policy.backpressure();
          await heartbeat();
        },
      });
    })();
    started.catch(fail);
    onJoining(started);
    return () => {
      stopped = true;
      removeJoinListener();
    };
  });
}
