import { MalformedMessages } from './malformed.js';
import { FETCH_WAIT_MS, type KafkaClient } from './client.js';

/** A topic read from its beginning: what has arrived so far, and how to stop reading. */
export interface FollowedTopic<T> {
  readonly items: T[];
  stop(): Promise<void>;
}

/**
 * Follows a topic from its beginning with a consumer group of its own, decoding every message
 * (a malformed one is counted and skipped); `onItem` sees each item as it arrives.
 */
export async function followTopic<T>(
  kafka: KafkaClient,
  topic: string,
  decode: (bytes: Uint8Array) => T,
  options: { groupId?: string; onItem?: (item: T) => void; malformed?: MalformedMessages } = {},
): Promise<FollowedTopic<T>> {
  const consumer = kafka.consumer({
    groupId: options.groupId ?? `reader-${topic}-${process.hrtime.bigint()}`,
    maxWaitTimeInMs: FETCH_WAIT_MS,
  });
  const malformed = options.malformed ?? new MalformedMessages();
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const items: T[] = [];
  await consumer.run({
    eachBatch: async (batch) => {
      for (const message of batch.messages) {
        const item = malformed.decode(topic, message.value, decode);
        if (item === undefined) continue;
        items.push(item);
        options.onItem?.(item);
      }
    },
  });
  return { items, stop: () => consumer.disconnect() };
}
