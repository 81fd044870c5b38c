import { randomUUID } from 'node:crypto';
import { FETCH_WAIT_MS, type KafkaAdmin, type KafkaClient, type KafkaConsumer } from './client.js';
import { beatCodec, type MalformedMessages } from './messages.js';
import { TOPICS } from './topics.js';

/**
 * Messages re-read per `ecg.beats` partition when a worker starts: the beats its partitions'
 * previous owner may have published after its last commit (at most a publish batch of 500
 * events per worker, far less than this).
 */
export const PUBLISHED_TAIL = 5000;

/**
 * What `ecg.beats` already holds, bed by bed. A worker killed between publishing a batch of
 * beats and committing it leaves beats its commit does not know of; its successor learns them
 * here and does not publish them again (Kafka's exactly-once without transactions, which
 * librdkafka's mock cluster does not offer).
 *
 * A consumer of its own (a group of one, committing nothing) reads the tail of every partition
 * from the worker's start on, and then follows the topic.
 */
export class PublishedBeats {
  /** Highest offset read per partition, +1. */
  private readonly position = new Map<number, bigint>();
  private joined = false;
  private failure: unknown;
  private readonly waiters = new Set<() => void>();

  private constructor(
    private readonly consumer: KafkaConsumer,
    private readonly admin: KafkaAdmin,
  ) {}

  /** Joins and starts following `ecg.beats`; `onBeat` sees every beat any worker published. */
  static async start(
    kafka: KafkaClient,
    groupId: string,
    onBeat: (bedId: string, rPeakSample: number) => void,
    malformed: MalformedMessages,
  ): Promise<PublishedBeats> {
    const consumer = kafka.consumer({
      groupId: `${groupId}.published.${randomUUID()}`,
      maxWaitTimeInMs: FETCH_WAIT_MS,
    });
    const admin = kafka.admin();
    await Promise.all([consumer.connect(), admin.connect()]);
    const tail = new PublishedBeats(consumer, admin);
    consumer.onGroupJoin(() => {
      tail.seekTail().catch((error: unknown) => {
        tail.failure = error;
        tail.wake();
      });
    });
    await consumer.subscribe({ topic: TOPICS.beats, fromBeginning: true });
    await consumer.run({
      eachBatch: async (batch) => {
        for (const message of batch.messages) {
          const beat = malformed.decode(TOPICS.beats, message.value, (b) => beatCodec.decode(b));
          if (beat !== undefined) onBeat(beat.bedId, beat.rPeakSample);
        }
        const last = batch.messages.at(-1);
        if (last !== undefined) tail.advance(batch.partition, BigInt(last.offset) + 1n);
      },
    });
    return tail;
  }

  /**
   * Resolves once every beat published before the call has been read (and given to `onBeat`).
   * Rejects if `stop` fires first.
   */
  async caughtUp(stop: AbortSignal): Promise<void> {
    const ends = await this.admin.fetchTopicOffsets(TOPICS.beats);
    const behind = (): boolean =>
      !this.joined ||
      ends.some((p) => BigInt(p.high) > BigInt(p.low) && (this.position.get(p.partition) ?? 0n) < BigInt(p.high));
    while (behind()) {
      if (this.failure !== undefined) throw this.failure;
      if (stop.aborted) throw new Error('stopped while reading ecg.beats');
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          this.waiters.delete(wake);
          stop.removeEventListener('abort', wake);
          resolve();
        };
        this.waiters.add(wake);
        stop.addEventListener('abort', wake);
      });
    }
  }

  async stop(): Promise<void> {
    await Promise.all([this.consumer.disconnect(), this.admin.disconnect()]);
  }

  /** Starts every partition PUBLISHED_TAIL messages before its end (older beats are long committed). */
  private async seekTail(): Promise<void> {
    const ends = await this.admin.fetchTopicOffsets(TOPICS.beats);
    for (const p of ends) {
      const start = BigInt(p.high) - BigInt(PUBLISHED_TAIL);
      const from = start > BigInt(p.low) ? start : BigInt(p.low);
      this.consumer.seek({ topic: TOPICS.beats, partition: p.partition, offset: from.toString() });
      this.position.set(p.partition, from);
    }
    this.joined = true;
    this.wake();
  }

  private advance(partition: number, next: bigint): void {
    if (next > (this.position.get(partition) ?? -1n)) this.position.set(partition, next);
    this.wake();
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }
}
