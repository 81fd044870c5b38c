import { decodeFrame, FrameDecodeError, type SampleFrame } from '../stream/contracts/frame.js';
import {
  ackCodec,
  alertCodec,
  beatCodec,
  referenceCodec,
  type AckMessage,
  type AlertMessage,
  type BeatMessage,
  type ReferenceMessage,
} from '../stream/contracts/messages.js';
import { TOPICS } from '../stream/contracts/topics.js';
import { FETCH_WAIT_MS, type KafkaClient } from '../stream/kafka/client.js';
import type { MalformedMessages } from '../stream/kafka/malformed.js';
import { TopicTail, followTail } from '../stream/kafka/topicTail.js';

/** What the gateway does with each topic's messages. */
export interface FeedHandlers {
  frame(frame: SampleFrame): void;
  beat(beat: BeatMessage): void;
  reference(ref: ReferenceMessage): void;
  /** An alert message and where it was read (`topic/partition/offset`), before its offset is committed. */
  alert(alert: AlertMessage, source: string): void;
  ack(ack: AckMessage, source: string): void;
}

export interface Feeds {
  stop(): Promise<void>;
}

/**
 * Messages read back per partition when the gateway starts: the last seconds of every bed's
 * signal (the snapshot's 10 s, for 50 beds a partition), and of its beats.
 */
const SAMPLES_TAIL = 2000;
const BEATS_TAIL = 2000;
/** A replay sends its reference annotations at its start: a record's whole set (about 2 500 beats) per bed. */
const REFERENCE_TAIL = 50_000;

/**
 * The gateway's Kafka readers. `ecg.samples`, `ecg.beats` and `ecg.reference` are followed from
 * their tails (a live view); `ecg.alerts` and `ecg.acks` in a consumer group of this gateway's own
 * (`groupId`: every instance sees every bed), committed once stored, so a restarted gateway goes
 * on where it stopped and misses none.
 */
export async function startFeeds(
  kafka: KafkaClient,
  groupId: string,
  handlers: FeedHandlers,
  malformed: MalformedMessages,
): Promise<Feeds> {
  // each tail waits for its topic's history: started side by side, the station is up in the time
  // of the slowest rather than of all of them
  const tails: TopicTail[] = await Promise.all([
    TopicTail.start(kafka, TOPICS.samples, {
      groupId: `${groupId}.samples`,
      tail: SAMPLES_TAIL,
      onMessage: (value) => {
        if (value === null) return;
        try {
          handlers.frame(decodeFrame(new Uint8Array(value)));
        } catch (error) {
          if (!(error instanceof FrameDecodeError)) throw error;
          malformed.record(TOPICS.samples, error);
        }
      },
    }),
    followTail(kafka, TOPICS.beats, {
      groupId: `${groupId}.beats`,
      tail: BEATS_TAIL,
      decode: (b) => beatCodec.decode(b),
      malformed,
      onItem: (beat) => handlers.beat(beat),
    }),
    followTail(kafka, TOPICS.reference, {
      groupId: `${groupId}.reference`,
      tail: REFERENCE_TAIL,
      decode: (b) => referenceCodec.decode(b),
      malformed,
      onItem: (ref) => handlers.reference(ref),
    }),
  ]);
  const consumer = kafka.consumer({ groupId: `${groupId}.alerts`, maxWaitTimeInMs: FETCH_WAIT_MS });
  await consumer.connect();
  await consumer.subscribe({ topic: TOPICS.alerts, fromBeginning: true });
  await consumer.subscribe({ topic: TOPICS.acks, fromBeginning: true });
  await consumer.run({
    eachBatch: async (batch) => {
      for (const message of batch.messages) {
        const source = `${batch.topic}/${batch.partition}/${message.offset}`;
        if (batch.topic === TOPICS.alerts) {
          const alert = malformed.decode(TOPICS.alerts, message.value, (b) => alertCodec.decode(b));
          if (alert !== undefined) handlers.alert(alert, source);
        } else {
          const ack = malformed.decode(TOPICS.acks, message.value, (b) => ackCodec.decode(b));
          if (ack !== undefined) handlers.ack(ack, source);
        }
      }
      const last = batch.messages.at(-1);
      // stored before committed: a gateway killed in between reads them again, and stores them once
      if (last !== undefined)
        await consumer.commitOffsets([
          { topic: batch.topic, partition: batch.partition, offset: String(BigInt(last.offset) + 1n) },
        ]);
    },
  });
  return {
    stop: async () => {
      await Promise.all([consumer.disconnect(), ...tails.map((t) => t.stop())]);
    },
  };
}
