import { type MalformedMessages } from './malformed.js';
import type { KafkaClient } from './client.js';
import { ackCodec, type AckMessage } from '../contracts/messages.js';
import { followTail, type TopicTail } from './topicTail.js';
import { TOPICS } from '../contracts/topics.js';

/**
 * Acknowledgements re-read per `ecg.acks` partition when a worker starts: those of the alarms it
 * may raise again from the frames it re-reads (the last 20 s of each bed it takes over), which
 * were acknowledged in the last minutes, far fewer than this.
 */
export const ACK_TAIL = 1000;

/** Follows `ecg.acks` from its tail on: `onAck` sees every acknowledgement, of every bed. */
export function followAcks(
  kafka: KafkaClient,
  groupId: string,
  onAck: (ack: AckMessage) => void,
  malformed: MalformedMessages,
): Promise<TopicTail> {
  return followTail(kafka, TOPICS.acks, {
    groupId: `${groupId}.acks`,
    tail: ACK_TAIL,
    decode: (b) => ackCodec.decode(b),
    malformed,
    onItem: onAck,
  });
}
