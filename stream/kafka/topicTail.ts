import { type MalformedMessages } from './malformed.js';
import { randomUUID } from 'node:crypto';
import { FETCH_WAIT_MS, type KafkaAdmin, type KafkaClient, type KafkaConsumer } from './client.js';

/**
 * A topic read from `tail` messages before the end of each partition (its end when the reader
 * joined), and then followed, by a consumer of its own (a group of one, committing nothing):
 * what was written lately, without reading the topic's whole retention.
 */
export class TopicTail {
  /** Highest offset read per partition, +1. */
  private readonly position = new Map<number, bigint>();
  private joined = false;
  private failure: unknown;
  private readonly waiters = new Set<() => void>();

  private constructor(
    private readonly topic: string,
    private readonly tail: number,
    private readonly consumer: KafkaConsumer,
    private readonly admin: KafkaAdmin,
  ) {}

  /** Joins and starts reading; `onMessage` sees every message's value from the tail on. */
  static async start(
    kafka: KafkaClient,
    topic: string,
    options: { groupId: string; tail: number; onMessage: (value: Buffer | null) => void },
  ): Promise<TopicTail> {
    const consumer = kafka.consumer({ groupId: `${options.groupId}.${randomUUID()}`, maxWaitTimeInMs: FETCH_WAIT_MS });
    const admin = kafka.admin();
    await Promise.all([consumer.connect(), admin.connect()]);
    const reader = new TopicTail(topic, options.tail, consumer, admin);
    consumer.onGroupJoin(() => {
      reader.seekTail().catch((error: unknown) => {
        reader.failure = error;
        reader.wake();
      });
    });
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachBatch: async (batch) => {
        for (const message of batch.messages) options.onMessage(message.value);
        const last = batch.messages.at(-1);
        if (last !== undefined) reader.advance(batch.partition, BigInt(last.offset) + 1n);
      },
    });
    return reader;
  }

  /**
   * Resolves once every message written before the call has been read (and given to
   * `onMessage`). Rejects if `stop` fires first.
   */
  async caughtUp(stop: AbortSignal): Promise<void> {
    const ends = await this.admin.fetchTopicOffsets(this.topic);
    const behind = (): boolean =>
      !this.joined ||
      ends.some((p) => BigInt(p.high) > BigInt(p.low) && (this.position.get(p.partition) ?? 0n) < BigInt(p.high));
    while (behind()) {
      if (this.failure !== undefined) throw this.failure;
      if (stop.aborted) throw new Error(`stopped while reading ${this.topic}`);
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

  /** Starts every partition `tail` messages before its end. */
  private async seekTail(): Promise<void> {
    const ends = await this.admin.fetchTopicOffsets(this.topic);
    for (const p of ends) {
      const start = BigInt(p.high) - BigInt(this.tail);
      const from = start > BigInt(p.low) ? start : BigInt(p.low);
      this.consumer.seek({ topic: this.topic, partition: p.partition, offset: from.toString() });
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

/** A topic's tail read by a TopicTail, each message decoded (a malformed one is counted and skipped). */
export function followTail<T>(
  kafka: KafkaClient,
  topic: string,
  options: {
    groupId: string;
    tail: number;
    decode: (bytes: Uint8Array) => T;
    malformed: MalformedMessages;
    onItem: (item: T) => void;
  },
): Promise<TopicTail> {
  return TopicTail.start(kafka, topic, {
    groupId: options.groupId,
    tail: options.tail,
    onMessage: (value) => {
      const item = options.malformed.decode(topic, value, options.decode);
      if (item !== undefined) options.onItem(item);
    },
  });
}
