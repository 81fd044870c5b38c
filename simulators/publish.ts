import { type MalformedMessages } from '../stream/kafka/malformed.js';
import type { KafkaClient, KafkaProducer } from '../stream/kafka/client.js';
import { encodeFrame } from '../stream/contracts/frame.js';
import { referenceCodec } from '../stream/contracts/messages.js';
import { streamEnds } from '../stream/kafka/streamEnds.js';
import { TOPICS } from '../stream/contracts/topics.js';
import { referenceMessages, replayBeds, type LoadedBed, type ReplayRun } from './replay.js';

/**
 * The beds, each going on from where its stream in `ecg.samples` ends (a bed that streamed
 * before: an earlier replay into the same cluster), so that its numbering never goes back.
 */
export async function continuedBeds(
  kafka: KafkaClient,
  beds: readonly LoadedBed[],
  malformed: MalformedMessages,
  stop: AbortSignal,
): Promise<LoadedBed[]> {
  const ends = await streamEnds(
    kafka,
    beds.map((b) => b.bed.bedId),
    malformed,
    stop,
  );
  return beds.map((b) => {
    const start = ends.get(b.bed.bedId);
    return start === undefined ? b : { ...b, start };
  });
}

/** Replays beds (records or synthetic) into `ecg.samples` (and their annotations into `ecg.reference`), keyed by bed. */
export async function publishReplay(
  producer: KafkaProducer,
  beds: readonly LoadedBed[],
  options: ReplayRun,
): Promise<{ frames: number }> {
  for (const bed of beds) {
    const refs = referenceMessages(bed);
    await producer.send({
      topic: TOPICS.reference,
      messages: refs.map((r) => ({ key: r.bedId, value: referenceCodec.encode(r) })),
    });
  }
  return replayBeds(
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

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Paces a replay at full speed against the pipeline worker that consumes it: the replay never
 * runs more than `ahead` frames ahead of what the worker took in (the embedded broker keeps only
 * 5 MiB per partition), and `allConsumed` says when the worker has every frame. Stopping the
 * worker then drains it: everything those frames produce is published before it resolves (a
 * quiet spell would not tell: a busy event loop can hold readers back for seconds).
 */
export class ReplayPacer {
  private consumed = 0;

  constructor(private readonly ahead = 2000) {}

  /** For the worker's `onFrame`. */
  readonly onFrame = (): void => {
    this.consumed++;
  };

  /** For the replay's `throttle`. */
  readonly throttle = async (sent: number): Promise<void> => {
    while (sent - this.consumed > this.ahead) await sleep(5);
  };

  async allConsumed(frames: number): Promise<void> {
    while (this.consumed < frames) await sleep(50);
  }
}
