import { kafkajsClient } from '../../stream/kafka/kafkajs.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { Kafka, logLevel } from 'kafkajs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startEmbeddedBroker } from '../../stream/kafka/embedded.js';
import { beatCodec, type BeatMessage } from '../../stream/contracts/messages.js';
import { TOPICS } from '../../stream/contracts/topics.js';
import { ENSEMBLE_FILE, type EnsembleJson } from '../../stream/model/io.js';
import { windowLayoutOf } from '../../stream/model/inference.js';
import { SHIPPED_MODEL_DIR } from '../../stream/model/shipped.js';
import { allArrived, followTopic, replayBeds, waitFor } from '../helpers/kafkaTopics.js';
import { expectNoBeatLostOrRepeated, MITDB_HZ, offlineBeds } from '../helpers/offline.js';

const broker = startEmbeddedBroker();
afterAll(() => broker.close());
const kafka = kafkajsClient(
  new Kafka({ clientId: 'test', brokers: broker.bootstrap.split(','), logLevel: logLevel.NOTHING }),
);
const FRAMES = 3 * 60 * 4; // three minutes of 250 ms frames per bed
const beds = [
  { bedId: 'bed-a', record: '208' },
  { bedId: 'bed-b', record: '119' },
  { bedId: 'bed-c', record: '203' },
];

/** `npm run pipeline` as its own process, on the test's broker, with the shipped model. */
function pipelineProcess(): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', 'apps/monitor.ts', 'pipeline', '--summary-every', '600'], {
    env: { ...process.env, KAFKA_BROKERS: broker.bootstrap, TFJS_BACKEND: 'wasm' },
    stdio: 'ignore',
  });
}

describe('a pipeline worker killed mid-replay', () => {
  it('loses and repeats no beat: its successor resumes from the committed offsets and watermarks', async () => {
    const beats = await followTopic<BeatMessage>(kafka, TOPICS.beats, (b) => beatCodec.decode(b));
    // the shipped model's windows decide which beats near the start and the end are cut
    const shipped = JSON.parse(await readFile(join(SHIPPED_MODEL_DIR, ENSEMBLE_FILE), 'utf8')) as EnsembleJson;
    const { expected, total } = await offlineBeds(beds, FRAMES / 4, windowLayoutOf(shipped.metadata).cut);

    const first = pipelineProcess();
    // 12x real time: the replay lasts 15 s, and the worker is killed a third of the way in
    const replay = replayBeds(kafka, beds, { speed: 12, frames: FRAMES });
    await waitFor(
      () => beats.items.length >= total / 3,
      120_000,
      () => `${beats.items.length} beats before the kill`,
    );
    first.kill('SIGKILL');
    const beforeKill = beats.items.length;
    expect(beforeKill).toBeLessThan(total * 0.6);

    const second = pipelineProcess();
    await replay;
    await allArrived(beats.items, total);
    second.kill('SIGTERM');
    await new Promise((resolve) => second.once('exit', resolve));
    await beats.stop();

    expectNoBeatLostOrRepeated(beats.items, expected, MITDB_HZ);
    // the successor started from commits, not from the beginning: they carry the watermarks
    const admin = kafka.admin();
    await admin.connect();
    const [committed] = await admin.fetchOffsets({ groupId: 'ecg-pipeline', topics: [TOPICS.samples] });
    await admin.disconnect();
    const withMetadata = committed!.partitions.filter((p) => Number(p.offset) > 0 && p.metadata !== null);
    expect(withMetadata.length).toBeGreaterThan(0);
  });
});
