import { Kafka, logLevel } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { publishReplay } from '../../simulators/publish.js';
import { EcgFrontEnd } from '../../stream/dsp/index.js';
import { startEmbeddedBroker } from '../../stream/kafka/embedded.js';
import { alertCodec, beatCodec, type AlertMessage, type BeatMessage } from '../../stream/kafka/messages.js';
import { TOPICS } from '../../stream/kafka/topics.js';
import { runPipelineWorker } from '../../stream/pipeline/worker.js';
import { mitdbDir, monitoringLeadIndex, readRecord, toPhysical } from '../../stream/wfdb/index.js';
import { followTopic, waitFor } from '../helpers/kafkaTopics.js';
import { referenceClassifier } from '../helpers/referenceClassifier.js';

const broker = startEmbeddedBroker();
afterAll(() => broker.close());
const kafka = new Kafka({ clientId: 'test', brokers: broker.bootstrap.split(','), logLevel: logLevel.NOTHING });
const FRAMES = 4 * 60 * 4; // four minutes of 250 ms frames per bed
const beds = [
  { bedId: 'bed-a', record: '208' },
  { bedId: 'bed-b', record: '119' },
];

async function readTopic<T>(
  topic: string,
  decode: (b: Uint8Array) => T,
  expected: (items: T[]) => boolean,
): Promise<T[]> {
  const follower = await followTopic(kafka, topic, decode);
  try {
    await waitFor(
      () => expected(follower.items),
      60_000,
      () => `${topic}: only ${follower.items.length} messages`,
    );
  } finally {
    await follower.stop();
  }
  return follower.items;
}

describe('replay → embedded Kafka → pipeline worker → ecg.beats / ecg.alerts', () => {
  it('publishes exactly the beats the offline front end finds, keyed by bed, and explained alarms', async () => {
    const stop = new AbortController();
    const classify = await referenceClassifier((bedId) => beds.find((b) => b.bedId === bedId)!.record);
    const worker = runPipelineWorker({ kafka, classify, modelId: 'reference-labels', stop: stop.signal });
    const producer = kafka.producer();
    await producer.connect();
    await publishReplay(producer, mitdbDir(), beds, { frameMs: 250, loop: false, speed: Infinity, maxFrames: FRAMES });
    await producer.disconnect();

    const offline = new Map<string, number>();
    for (const bed of beds) {
      const r = await readRecord(mitdbDir(), bed.record);
      const lead = toPhysical(r.signals[monitoringLeadIndex(r.header)]!).subarray(0, FRAMES * 90);
      offline.set(bed.bedId, new EcgFrontEnd({ sourceHz: 360 }).push(lead).windows.length);
    }
    const total = [...offline.values()].reduce((a, b) => a + b, 0);
    const beats = await readTopic<BeatMessage>(
      TOPICS.beats,
      (b) => beatCodec.decode(b),
      (items) => items.length >= total,
    );
    stop.abort();
    await worker;
    for (const bed of beds) {
      const mine = beats.filter((b) => b.bedId === bed.bedId).map((b) => b.rPeakSample);
      expect(mine.length, bed.bedId).toBe(offline.get(bed.bedId));
      expect(new Set(mine).size, `${bed.bedId} duplicates`).toBe(mine.length);
      expect(
        [...mine].sort((x, y) => x - y),
        `${bed.bedId} order`,
      ).toEqual(mine);
    }
    // record 208's PVC couplets raise explained, beat-driven alarms
    const alerts = await readTopic<AlertMessage>(
      TOPICS.alerts,
      (b) => alertCodec.decode(b),
      (items) => items.some((a) => a.type === 'couplet'),
    );
    const couplet = alerts.find((a) => a.type === 'couplet')!;
    expect(couplet.bedId).toBe('bed-a');
    expect(couplet.explanation).toHaveLength(2);
    expect(couplet.explanation[0]!.gradCam).toHaveLength(187);
  });
});
