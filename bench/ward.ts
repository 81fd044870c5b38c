import { publishReplay } from '../simulators/publish.js';
import type { LoadedBed } from '../simulators/replay.js';
import { loadBed } from '../simulators/replay.js';
import { alertCodec, type AlertMessage } from '../stream/contracts/messages.js';
import { TOPICS } from '../stream/contracts/topics.js';
import type { KafkaClient } from '../stream/kafka/client.js';
import { listRecords, mitdbDir } from '../stream/wfdb/index.js';

/**
 * What the central-station benchmarks feed a gateway: `beds` MIT-BIH records (two leads each,
 * 360 Hz; a record may serve two beds) streaming at real time into `ecg.samples`, and alerts written
 * to `ecg.alerts` (each stamped with the wall clock it was written at), without a pipeline worker.
 */
export async function recordWard(beds: number): Promise<LoadedBed[]> {
  const records = await listRecords(mitdbDir());
  const ward = Array.from({ length: beds }, (_, i) => ({
    bedId: `bed-${String(i + 1).padStart(2, '0')}`,
    record: records[i % records.length]!,
  }));
  return Promise.all(ward.map((bed) => loadBed(mitdbDir(), bed)));
}

/** Streams the ward at real time until `stop` (its recordings loop). */
export async function streamWard(kafka: KafkaClient, beds: readonly LoadedBed[], stop: AbortSignal): Promise<void> {
  const producer = kafka.producer();
  await producer.connect();
  try {
    await publishReplay(producer, beds, { frameMs: 250, loop: true, speed: 1, signal: stop });
  } finally {
    await producer.disconnect();
  }
}

/** An alert of bed `bedId` as a worker writes one, numbered `n`, stamped now. */
export function benchAlert(bedId: string, n: number, state: 'active' | 'ended' = 'ended'): AlertMessage {
  const now = Date.now();
  return {
    v: 1,
    id: `${bedId}/couplet/${n}`,
    bedId,
    type: 'couplet',
    priority: 'medium',
    state,
    acknowledged: false,
    onsetS: n,
    raisedS: n,
    endS: state === 'ended' ? n : null,
    evidence: [],
    explanation: [],
    raisedAtMs: now,
    publishedMs: now,
  };
}

/** Writes alerts to `ecg.alerts` with one producer. */
export class AlertWriter {
  private readonly producer;

  private constructor(kafka: KafkaClient) {
    this.producer = kafka.producer();
  }

  static async open(kafka: KafkaClient): Promise<AlertWriter> {
    const writer = new AlertWriter(kafka);
    await writer.producer.connect();
    return writer;
  }

  async write(alert: AlertMessage): Promise<void> {
    await this.producer.send({
      topic: TOPICS.alerts,
      messages: [{ key: alert.bedId, value: alertCodec.encode(alert) }],
    });
  }

  close(): Promise<void> {
    return this.producer.disconnect();
  }
}

/** The p-th percentile of `values` (nearest rank). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
