import { type MalformedMessages } from './malformed.js';
import type { KafkaClient } from './client.js';
import { decodeFrame, positionAfter, type StreamPosition } from '../contracts/frame.js';
import { TopicTail } from './topicTail.js';
import { TOPICS } from '../contracts/topics.js';

/**
 * Messages read back per `ecg.samples` partition to find where beds' streams end: at 4 frames
 * a second per bed, the last 4 minutes of 20 beds sharing a partition.
 */
export const SAMPLES_TAIL = 20_000;

/**
 * Where each of `bedIds` left off in `ecg.samples` (the frame after its last one), for a producer
 * that starts again: a bed whose numbering started over would have its frames dropped by the
 * pipeline as duplicates, and its beats and alarms taken for ones already published. A bed not
 * in the topic's tail is absent (a new bed, or one silent for longer than the tail reaches).
 */
export async function streamEnds(
  kafka: KafkaClient,
  bedIds: readonly string[],
  malformed: MalformedMessages,
  stop: AbortSignal,
): Promise<Map<string, StreamPosition>> {
  const wanted = new Set(bedIds);
  const ends = new Map<string, StreamPosition>();
  // a fresh broker (npm start's embedded one) has nothing to read: no group to join for it
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(TOPICS.samples);
    if (offsets.every((p) => BigInt(p.high) <= BigInt(p.low))) return ends;
  } finally {
    await admin.disconnect();
  }
  const tail = await TopicTail.start(kafka, TOPICS.samples, {
    groupId: 'stream-ends',
    tail: SAMPLES_TAIL,
    onMessage: (value) => {
      const frame = malformed.decode(TOPICS.samples, value, decodeFrame);
      if (frame === undefined || !wanted.has(frame.bedId)) return;
      const after = positionAfter(frame);
      const known = ends.get(frame.bedId);
      // duplicated and reordered frames: the furthest either number has gone
      ends.set(
        frame.bedId,
        known === undefined
          ? after
          : { seq: Math.max(known.seq, after.seq), sample: Math.max(known.sample, after.sample) },
      );
    },
  });
  try {
    await tail.caughtUp(stop);
  } finally {
    await tail.stop();
  }
  return ends;
}
