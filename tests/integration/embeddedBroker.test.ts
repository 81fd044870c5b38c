import { runMonitor } from '../helpers/cli.js';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { startEmbeddedBroker } from '../../stream/kafka/embedded.js';
import { decodeFrame, encodeFrame } from '../../stream/contracts/frame.js';
import { TOPICS } from '../../stream/contracts/topics.js';

const broker = startEmbeddedBroker({ partitions: { 'ecg.samples': 4 } });
afterAll(() => broker.close());

describe('embedded broker (librdkafka mock cluster through koffi)', () => {
  it('carries frames from a kafkajs producer to a consumer group, each bed in order on its partition', async () => {
    expect(broker.bootstrap).toMatch(/^127\.0\.0\.1:\d+/);
    const kafka = new Kafka({ clientId: 'test', brokers: broker.bootstrap.split(','), logLevel: logLevel.NOTHING });
    // the mock cluster answers metadata without a controller, which kafkajs's idempotent mode needs
    const producer = kafka.producer({ maxInFlightRequests: 1 });
    await producer.connect();
    const beds = ['bed-1', 'bed-2', 'bed-3'];
    const messages = beds.flatMap((bedId) =>
      Array.from({ length: 5 }, (_, seq) => ({
        key: bedId,
        value: Buffer.from(
          encodeFrame({
            bedId,
            source: 'test',
            sampleRate: 360,
            leads: [{ name: 'MLII', kind: 'ecg', units: 'mV', gain: 200, baseline: 0 }],
            seq,
            firstSample: seq * 90,
            producedAtMs: Date.now(),
            samples: new Int16Array(90),
          }),
        ),
      })),
    );
    await producer.send({ topic: TOPICS.samples, messages });
    const consumer = kafka.consumer({ groupId: 'embedded-test' });
    await consumer.connect();
    await consumer.subscribe({ topic: TOPICS.samples, fromBeginning: true });
    const seen = new Map<string, number[]>();
    const partitionOf = new Map<string, Set<number>>();
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('timed out waiting for 15 frames')), 30_000);
      void consumer.run({
        eachMessage: async ({ partition, message }) => {
          const frame = decodeFrame(new Uint8Array(message.value!));
          seen.set(frame.bedId, [...(seen.get(frame.bedId) ?? []), frame.seq]);
          partitionOf.set(frame.bedId, new Set([...(partitionOf.get(frame.bedId) ?? []), partition]));
          if ([...seen.values()].flat().length === 15) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
    for (const bed of beds) {
      expect(seen.get(bed)).toEqual([0, 1, 2, 3, 4]);
      expect(partitionOf.get(bed)!.size).toBe(1);
    }
    await consumer.disconnect();
    await producer.disconnect();
  });
});

describe('npm start on the embedded broker', () => {
  it('stops cleanly when --duration ends before the pipeline has joined its consumer group', async () => {
    // 5 s (the model loads first) is shorter than the group join: the worker is stopped while kafkajs is still joining
    const { code, stderr } = await runMonitor(['start', '--duration', '5'], {}, 45_000);
    // before the fix the consumer finished joining after the broker had closed, retried it for
    // 20 s and restarted itself: the process never ended
    expect(stderr).not.toMatch(/ECONNREFUSED|Restarting the consumer/);
    expect(code).toBe(0);
  }, 60_000);
});
