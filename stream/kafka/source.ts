import type { Consumer } from 'kafkajs';
import { Observable } from 'rxjs';
import { decodeFrame, FrameDecodeError, type SampleFrame } from './frame.js';
import type { MalformedMessages } from './messages.js';
import { TOPICS } from './topics.js';

/**
 * Frames from `ecg.samples` through a consumer group. Each batch is decoded message by
 * message; a malformed frame is counted and skipped (it never stops a bed), and a batch's
 * offsets are resolved only after its frames went through the synchronous stages downstream.
 */
export function frameSource(consumer: Consumer, malformed: MalformedMessages): Observable<SampleFrame> {
  return new Observable<SampleFrame>((subscriber) => {
    let stopped = false;
    void (async () => {
      await consumer.subscribe({ topic: TOPICS.samples, fromBeginning: true });
      await consumer.run({
        eachBatchAutoResolve: false,
        eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
          for (const message of batch.messages) {
            if (stopped || !isRunning() || isStale()) return;
            if (message.value !== null) {
              try {
                subscriber.next(decodeFrame(new Uint8Array(message.value)));
              } catch (error) {
                if (!(error instanceof FrameDecodeError)) throw error;
                malformed.record(TOPICS.samples, error);
              }
            }
            resolveOffset(message.offset);
          }
          await heartbeat();
        },
      });
    })().catch((error: unknown) => subscriber.error(error));
    return () => {
      stopped = true;
    };
  });
}
