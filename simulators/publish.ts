import type { KafkaProducer } from '../stream/kafka/client.js';
import { encodeFrame } from '../stream/kafka/frame.js';
import { referenceCodec } from '../stream/kafka/messages.js';
import { TOPICS } from '../stream/kafka/topics.js';
import { referenceMessages, replayBeds, type ReplayBed, type ReplayRun } from './replay.js';

/** Replays beds (records or synthetic) into `ecg.samples` (and their annotations into `ecg.reference`), keyed by bed. */
export async function publishReplay(
  producer: KafkaProducer,
  dir: string,
  beds: readonly ReplayBed[],
  options: ReplayRun,
): Promise<{ frames: number }> {
  for (const bed of beds) {
    const refs = await referenceMessages(dir, bed);
    await producer.send({
      topic: TOPICS.reference,
      messages: refs.map((r) => ({ key: r.bedId, value: referenceCodec.encode(r) })),
    });
  }
  return replayBeds(
    dir,
    beds,
    async (batch) => {
      await producer.send({
        topic: TOPICS.samples,
        messages: batch.map((f) => ({ key: f.bedId, value: Buffer.from(encodeFrame(f)) })),
      });
    },
    options,
  );
}
