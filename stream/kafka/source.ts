import type { Admin, Consumer } from 'kafkajs';
import { Observable } from 'rxjs';
import { decodeFrame, FrameDecodeError, type SampleFrame } from './frame.js';
import type { MalformedMessages } from './messages.js';
import { TOPICS } from './topics.js';

/** A decoded frame with where it came from. */
export interface SourcedFrame {
  readonly frame: SampleFrame;
  readonly partition: number;
  readonly offset: string;
  /** Counts the consumer's group joins: after a new one, partitions are read again from their commits. */
  readonly generation: number;
}

/** How the consumer's offsets follow the pipeline's progress (see BedCheckpoints). */
export interface CommitPolicy {
  /** The group was (re)joined: every assigned partition restarts at its committed offset. */
  reassigned(): void;
  /** A partition's last commit, with the metadata its committer left. */
  inherit(partition: number, metadata: string | null): void;
  /**
   * Awaited after a batch's frames went downstream: resolves once what they produced is
   * published, with the partition's offset to commit (undefined: commit nothing now).
   */
  settle(partition: number): Promise<{ offset: string; metadata: string } | undefined>;
}

/** Commit refusals that only mean the group is rebalancing: the next owner resumes from the last commit. */
const REBALANCING = new Set([
  'REBALANCE_IN_PROGRESS',
  'ILLEGAL_GENERATION',
  'UNKNOWN_MEMBER_ID',
  'NOT_COORDINATOR',
  'NOT_COORDINATOR_FOR_GROUP',
]);

export interface PartitionCommit {
  readonly partition: number;
  readonly offset: string;
  readonly metadata: string;
}

/** kafkajs wraps the broker's refusal after its retries: look at the cause too. */
function refusedForRebalance(error: unknown): boolean {
  const e = error as { type?: string; cause?: { type?: string } };
  return REBALANCING.has(e.type ?? '') || REBALANCING.has(e.cause?.type ?? '');
}

/**
 * Commits offsets. Returns false when the coordinator refused them because the group is
 * rebalancing (any other error is thrown).
 */
export async function commitSamples(consumer: Consumer, commits: readonly PartitionCommit[]): Promise<boolean> {
  if (commits.length === 0) return true;
  try {
    await consumer.commitOffsets(commits.map((c) => ({ topic: TOPICS.samples, ...c })));
    return true;
  } catch (error) {
    if (!refusedForRebalance(error)) throw error;
    return false;
  }
}

/**
 * Frames from `ecg.samples` through a consumer group. Each batch is decoded message by
 * message; a malformed frame is counted and skipped (it never stops a bed). Offsets are never
 * committed by kafkajs: after each batch the policy says, once the batch's results are
 * published, which offset is safe to commit.
 */
export function frameSource(
  consumer: Consumer,
  admin: Admin,
  groupId: string,
  malformed: MalformedMessages,
  policy: CommitPolicy,
): Observable<SourcedFrame> {
  return new Observable<SourcedFrame>((subscriber) => {
    let stopped = false;
    let generation = 0;
    let inherited: { generation: number; done: Promise<void> } | undefined;
    // Commits refused while the group rebalanced: they describe beats already published, so
    // they are made as soon as the group is joined again (a member may commit any partition),
    // before the partitions' new owners read them, or those would publish the beats again.
    const refused = new Map<number, PartitionCommit>();
    const removeJoinListener = consumer.on(consumer.events.GROUP_JOIN, () => {
      generation++;
      policy.reassigned();
      const late = [...refused.values()];
      refused.clear();
      void commitSamples(consumer, late).catch((error: unknown) => subscriber.error(error));
    });
    // the commits' metadata is read once per join, before the first frame of the new generation
    const inherit = (): Promise<void> => {
      if (inherited?.generation !== generation) {
        const done = admin.fetchOffsets({ groupId, topics: [TOPICS.samples] }).then((topics) => {
          for (const p of topics.flatMap((t) => t.partitions)) policy.inherit(p.partition, p.metadata);
        });
        inherited = { generation, done };
      }
      return inherited.done;
    };
    void (async () => {
      await consumer.subscribe({ topic: TOPICS.samples, fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: 8,
        eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
          await inherit();
          for (const message of batch.messages) {
            if (stopped || !isRunning() || isStale()) return;
            if (message.value !== null) {
              try {
                const frame = decodeFrame(new Uint8Array(message.value));
                subscriber.next({ frame, partition: batch.partition, offset: message.offset, generation });
              } catch (error) {
                if (!(error instanceof FrameDecodeError)) throw error;
                malformed.record(TOPICS.samples, error);
              }
            }
            resolveOffset(message.offset);
          }
          const commit = await policy.settle(batch.partition);
          if (commit !== undefined && !stopped) {
            const c = { partition: batch.partition, ...commit };
            if (!(await commitSamples(consumer, [c]))) refused.set(c.partition, c);
          }
          await heartbeat();
        },
      });
    })().catch((error: unknown) => subscriber.error(error));
    return () => {
      stopped = true;
      removeJoinListener();
    };
  });
}
