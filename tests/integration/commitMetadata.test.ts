import { describe, expect, it } from 'vitest';
import { InProcessKafka, KAFKA_OFFSET_METADATA_MAX_BYTES } from '../../stream/kafka/inProcess.js';
import { beatCodec, type BeatMessage } from '../../stream/contracts/messages.js';
import { TOPICS } from '../../stream/contracts/topics.js';
import { runPipelineWorker, workerFailure } from '../../stream/pipeline/worker.js';
import { allArrived, followTopic, replayBeds, waitFor } from '../helpers/kafkaTopics.js';
import { expectNoBeatLostOrRepeated, MITDB_HZ, offlineBeds } from '../helpers/offline.js';
import { referenceClassifier } from '../helpers/referenceClassifier.js';

const FRAMES = 40 * 4; // forty seconds of 250 ms frames per bed
const RECORDS = ['100', '119', '208', '233'];
// ids per admission, as a hospital's systems give them: long enough that one watermark per
// bed takes about 50 bytes, and 100 beds take more than Kafka's default 4 096
const beds = Array.from({ length: 100 }, (_, i) => ({
  bedId: `admission-2026-11-23-ward-7-${String(i).padStart(4, '0')}`,
  record: RECORDS[i % RECORDS.length]!,
}));

describe('a ward of 100 beds on one ecg.samples partition, on a broker with Kafka default metadata limit', () => {
  it('keeps each commit within the limit, and a worker that takes over loses and repeats no beat', async () => {
    // the in-process transport refuses longer metadata as a Kafka broker does (the mock cluster does not)
    const kafka = new InProcessKafka({ partitions: { [TOPICS.samples]: 1 } });
    const beats = await followTopic<BeatMessage>(kafka, TOPICS.beats, (b) => beatCodec.decode(b));
    const { expected, total } = await offlineBeds(beds, FRAMES / 4);
    const classify = await referenceClassifier((bedId) => beds.find((b) => b.bedId === bedId)!.record);
    const warnings: string[] = [];
    const worker = (stop: AbortSignal) =>
      runPipelineWorker({ kafka, classify, modelId: 'reference-labels', stop, warn: (l) => warnings.push(l) });

    const stopFirst = new AbortController();
    const first = worker(stopFirst.signal);
    const firstFailed = workerFailure(first);
    const replay = replayBeds(kafka, beds, { speed: 8, frames: FRAMES });
    await Promise.race([
      waitFor(
        () => beats.items.length >= total / 2,
        120_000,
        () => `${beats.items.length} beats before the hand-over`,
      ),
      firstFailed,
    ]);
    stopFirst.abort();
    await first;

    const stopSecond = new AbortController();
    const second = worker(stopSecond.signal);
    await Promise.race([replay.then(() => allArrived(beats.items, total)), workerFailure(second)]);
    stopSecond.abort();
    await second;
    await beats.stop();

    expectNoBeatLostOrRepeated(beats.items, expected, MITDB_HZ);
    const admin = kafka.admin();
    const [committed] = await admin.fetchOffsets({ groupId: 'ecg-pipeline', topics: [TOPICS.samples] });
    const metadata = committed!.partitions[0]!.metadata!;
    expect(Buffer.byteLength(metadata)).toBeLessThanOrEqual(KAFKA_OFFSET_METADATA_MAX_BYTES);
    const carried = Object.keys((JSON.parse(metadata) as { beds: object }).beds).length;
    expect(carried).toBeGreaterThan(50);
    expect(carried).toBeLessThan(beds.length);
    // each worker said once that the metadata leaves beds out, and how many it holds
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(/holds the watermarks of \d+ of 100 beds/);
  });
});
