import type { Kafka } from 'kafkajs';
import { lastValueFrom, Subject, takeUntil, tap } from 'rxjs';
import { MalformedMessages } from '../kafka/messages.js';
import { publishWard } from '../kafka/sink.js';
import { frameSource } from '../kafka/source.js';
import { monitorWard, type Classify, type WardEvent } from './ward.js';

/**
 * One pipeline worker: joins the `ecg.samples` consumer group, runs the ward pipeline and
 * publishes `ecg.beats` / `ecg.alerts` until `stop` aborts. More workers in the same group
 * share the partitions (Kafka's scale-out).
 */
/** Longest a fetch waits for new frames, ms. */
export const FETCH_WAIT_MS = 50;

export async function runPipelineWorker(options: {
  kafka: Kafka;
  classify: Classify;
  modelId: string;
  stop: AbortSignal;
  groupId?: string;
  onEvent?: (event: WardEvent) => void;
  /** Called for every frame consumed (progress, draining a replay). */
  onFrame?: () => void;
  /** Called with the number of messages of each batch published to ecg.beats / ecg.alerts. */
  onPublished?: (messages: number) => void;
  malformed?: MalformedMessages;
}): Promise<void> {
  // a fetch waits at most 50 ms for data: the default 5 s long poll would be added to every
  // beat's latency by brokers that answer at the deadline (librdkafka's mock cluster does)
  const consumer = options.kafka.consumer({
    groupId: options.groupId ?? 'ecg-pipeline',
    maxWaitTimeInMs: FETCH_WAIT_MS,
  });
  const producer = options.kafka.producer();
  await Promise.all([consumer.connect(), producer.connect()]);
  const stopped = new Subject<void>();
  const onAbort = (): void => stopped.next();
  options.stop.addEventListener('abort', onAbort);
  try {
    const events = frameSource(consumer, options.malformed ?? new MalformedMessages()).pipe(
      takeUntil(stopped),
      tap(() => options.onFrame?.()),
      monitorWard({ classify: options.classify }),
      tap((e) => options.onEvent?.(e)),
    );
    if (!options.stop.aborted) {
      await lastValueFrom(publishWard(events, producer, options.modelId).pipe(tap((n) => options.onPublished?.(n))), {
        defaultValue: 0,
      });
    }
  } finally {
    options.stop.removeEventListener('abort', onAbort);
    await Promise.all([consumer.disconnect(), producer.disconnect()]);
  }
}
