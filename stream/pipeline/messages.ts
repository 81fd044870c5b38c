import { alertCodec, beatCodec } from '../contracts/messages.js';
import { TOPICS } from '../contracts/topics.js';
import type { OutgoingRecord } from '../kafka/sink.js';
import type { WardEvent } from './ward.js';

/** The `ecg.beats` / `ecg.alerts` messages of a ward event (none for gaps and duplicates). */
export function wardMessages(event: WardEvent, modelId: string, now: number): OutgoingRecord[] {
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
            rIndex: b.modelInputRIndex,
          })),
          raisedAtMs: a.raisedAtMs,
          ...(a.detail === undefined ? {} : { detail: a.detail }),
          ...(a.lead === undefined ? {} : { lead: a.lead }),
          publishedMs: now,
        }),
      },
    ];
  }
  return [];
}
