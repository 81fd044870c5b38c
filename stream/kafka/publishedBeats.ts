import { type MalformedMessages } from './malformed.js';
import type { KafkaClient } from './client.js';
import { beatCodec } from '../contracts/messages.js';
import { followTail, type TopicTail } from './topicTail.js';
import { TOPICS } from '../contracts/topics.js';

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
 * librdkafka's mock cluster does not offer). The tail of every partition is read from the
 * worker's start on, and then the topic is followed: `onBeat` sees every beat any worker published.
 */
export function followPublishedBeats(
  kafka: KafkaClient,
  groupId: string,
  onBeat: (bedId: string, rPeakSample: number) => void,
  malformed: MalformedMessages,
): Promise<TopicTail> {
  return followTail(kafka, TOPICS.beats, {
    groupId: `${groupId}.published`,
    tail: PUBLISHED_TAIL,
    decode: (b) => beatCodec.decode(b),
    malformed,
    onItem: (beat) => onBeat(beat.bedId, beat.rPeakSample),
  });
}
