import type { KafkaProducer } from './client.js';
import { bufferTime, concatMap, filter, type Observable } from 'rxjs';
import type { WardEvent } from '../pipeline/ward.js';
import { alertCodec, beatCodec } from './messages.js';
import { TOPICS } from './topics.js';

/** The `ecg.beats` / `ecg.alerts` messages of a ward event (none for gaps and duplicates). */
export function wardMessages(
  event: WardEvent,
  modelId: string,
  now: number,
): { topic: string; key: string; value: Buffer }[] {
  if (event.kind === 'beat') {
    const b = event.beat;
    return [
      {
        topic: TOPICS.beats,
        key: b.bedId,
        value: beatCodec.encode({
          v: 1,
          bedId: b.bedId,
          source: b.source,
          rPeakSample: b.rPeakSample,
          timeS: b.timeS,
          rrS: b.rrS,
          label: b.label,
          probabilities: b.probabilities,
          decision: b.decision,
          modelId,
          quality: b.quality,
          latency: { windowCompleteMs: b.windowCompleteMs, publishedMs: now },
        }),
      },
    ];
  }
  if (event.kind === 'alarm') {
    const a = event.alarm;
    return [
      {
        topic: TOPICS.alerts,
        key: a.bedId,
        value: alertCodec.encode({
          v: 1,
          id: a.id,
          bedId: a.bedId,
          type: a.type,
          priority: a.priority,
          state: a.state,
          acknowledged: a.acknowledged,
          onsetS: a.onsetS,
          raisedS: a.raisedS,
          endS: a.endS ?? null,
          evidence: [...a.evidence],
          explanation: event.explanation.map((b) => ({
            rPeakSample: b.rPeakSample,
            label: b.label,
            window: Array.from(b.modelInput, (v) => Number(v.toFixed(4))),
            gradCam: Array.from(b.gradCam ?? [], (v) => Number(v.toFixed(3))),
          })),
          publishedMs: now,
        }),
      },
    ];
  }
  return [];
}

/** A batch of ward events the broker has acknowledged, with the number of messages it made. */
export interface PublishedBatch {
  readonly events: WardEvent[];
  readonly messages: number;
}

export interface PublishOptions {
  /** Longest an event waits for its batch, ms (a batch also closes at 500 events). */
  readonly flushMs?: number;
  /**
   * Awaited after a batch is acknowledged and before the next one is sent: what it does (the
   * worker commits its offsets there) is never behind more than one published batch.
   */
  readonly acknowledged?: (batch: PublishedBatch) => Promise<void> | void;
}

/** Publishes ward events in batches, keyed by bed; emits each batch once the broker has acknowledged it. */
export function publishWard(
  events: Observable<WardEvent>,
  producer: KafkaProducer,
  modelId: string,
  options: PublishOptions = {},
): Observable<PublishedBatch> {
  return events.pipe(
    bufferTime(options.flushMs ?? 20, null, 500),
    filter((batch) => batch.length > 0),
    concatMap(async (batch) => {
      const now = Date.now();
      const messages = batch.flatMap((e) => wardMessages(e, modelId, now));
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
