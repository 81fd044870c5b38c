import { bufferTime, concatMap, filter, type Observable } from 'rxjs';
import type { KafkaProducer } from './client.js';

/** A message for a topic, keyed (by bed id everywhere). */
export interface OutgoingRecord {
  readonly topic: string;
  readonly key: string;
  readonly value: Buffer;
}

/** A batch of events the broker has acknowledged, with the number of messages it made. */
export interface PublishedBatch<T> {
  readonly events: T[];
  readonly messages: number;
}

export interface PublishOptions<T> {
  /** Longest an event waits for its batch, ms (a batch also closes at 500 events). */
  readonly flushMs?: number;
  /**
   * Awaited after a batch is acknowledged and before the next one is sent: what it does (the
   * worker commits its offsets there) is never behind more than one published batch.
   */
  readonly acknowledged?: (batch: PublishedBatch<T>) => Promise<void> | void;
}

/**
 * Publishes events in batches, each as the messages `toMessages` makes of it; emits each batch
 * once the broker has acknowledged it.
 */
export function publishInBatches<T>(
  events: Observable<T>,
  producer: KafkaProducer,
  toMessages: (event: T, nowMs: number) => OutgoingRecord[],
  options: PublishOptions<T> = {},
): Observable<PublishedBatch<T>> {
  return events.pipe(
    bufferTime(options.flushMs ?? 20, null, 500),
    filter((batch) => batch.length > 0),
    concatMap(async (batch) => {
      const now = Date.now();
      const messages = batch.flatMap((e) => toMessages(e, now));
      const byTopic = new Map<string, { key: string; value: Buffer }[]>();
      for (const { topic, key, value } of messages) {
        const list = byTopic.get(topic) ?? [];
        list.push({ key, value });
        byTopic.set(topic, list);
      }
      if (byTopic.size > 0) {
        await producer.sendBatch({ topicMessages: [...byTopic].map(([topic, msgs]) => ({ topic, messages: msgs })) });
      }
      const published = { events: batch, messages: messages.length };
      await options.acknowledged?.(published);
      return published;
    }),
  );
}
