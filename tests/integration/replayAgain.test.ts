import { kafkajsClient } from '../../stream/kafka/kafkajs.js';
import { spawn } from 'node:child_process';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { startEmbeddedBroker } from '../../stream/kafka/embedded.js';
import { beatCodec, referenceCodec, type BeatMessage, type ReferenceMessage } from '../../stream/contracts/messages.js';
import { TOPICS } from '../../stream/contracts/topics.js';
import { runPipelineWorker } from '../../stream/pipeline/worker.js';
import { followTopic, repeats, waitFor } from '../helpers/kafkaTopics.js';
import { annotationClassifier } from '../helpers/referenceClassifier.js';

const broker = startEmbeddedBroker();
afterAll(() => broker.close());
const kafka = kafkajsClient(
  new Kafka({ clientId: 'test', brokers: broker.bootstrap.split(','), logLevel: logLevel.NOTHING }),
);
const SECONDS = 60;
const HZ = 250; // the synthetic bed's rate

/** `npm run simulate` as its own process on the test's broker: one synthetic bed of 60 s; its stderr. */
function simulate(): Promise<string> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'apps/monitor.ts',
      'simulate',
      '--synth',
      '1',
      '--synth-duration',
      String(SECONDS),
      '--speed',
      'max',
    ],
    { env: { ...process.env, KAFKA_BROKERS: broker.bootstrap }, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) =>
    child.once('exit', (code) =>
      code === 0 ? resolve(stderr) : reject(new Error(`simulate exited ${code}: ${stderr}`)),
    ),
  );
}

describe('a replay started again into the same cluster', () => {
  it("goes on with the bed's numbering, and the running pipeline publishes its beats too", async () => {
    const beats = await followTopic<BeatMessage>(kafka, TOPICS.beats, (b) => beatCodec.decode(b));
    const reference = await followTopic<ReferenceMessage>(kafka, TOPICS.reference, (b) => referenceCodec.decode(b));
    const stop = new AbortController();
    const worker = runPipelineWorker({
      kafka,
      classify: annotationClassifier(async () => []),
      modelId: 'test',
      stop: stop.signal,
    });
    try {
      expect(await simulate()).not.toMatch(/goes on from/);
      await waitFor(
        () => beats.items.length > 0 && Math.max(...beats.items.map((b) => b.timeS)) > SECONDS - 3,
        120_000,
        () => `${beats.items.length} beats of the first replay`,
      );
      const references = reference.items.length;

      // the same bed replayed again: numbered from 0, its frames would be dropped as duplicates
      // and its beats taken for ones already published
      // 239 frames of 63 samples (250 ms at 250 Hz, rounded), the last one shorter
      expect(await simulate()).toMatch(`synth-01 goes on from seq 239, sample ${SECONDS * HZ}`);
      // (the first replay's last beat is cut once the second brings the signal after it)
      const ofReplay = (k: 0 | 1): BeatMessage[] =>
        beats.items.filter((b) => (b.rPeakSample >= SECONDS * HZ ? 1 : 0) === k);
      await waitFor(
        () => ofReplay(1).length >= ofReplay(0).length - 2,
        120_000,
        () => `${ofReplay(1).length} beats of the second replay (the first had ${ofReplay(0).length})`,
      );
      expect(ofReplay(0).length).toBeGreaterThan(50);
      expect(repeats(beats.items, (b) => `${b.bedId}/${b.rPeakSample}`)).toEqual([]);
      // its reference annotations go on at the same place
      await waitFor(
        () => reference.items.length === 2 * references,
        30_000,
        () => `${reference.items.length} reference annotations`,
      );
      expect(reference.items.slice(references).map((r) => r.sample)).toEqual(
        reference.items.slice(0, references).map((r) => r.sample + SECONDS * HZ),
      );
    } finally {
      stop.abort();
      await worker;
      await Promise.all([beats.stop(), reference.stop()]);
    }
  }, 180_000);
});
