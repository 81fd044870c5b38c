import { afterAll, describe, expect, it } from 'vitest';
import { beatCodec, type BeatMessage } from '../../stream/kafka/messages.js';
import { TOPICS } from '../../stream/kafka/topics.js';
import { runPipelineWorker } from '../../stream/pipeline/worker.js';
import { allArrived, followTopic, replayBeds, waitFor } from '../helpers/kafkaTopics.js';
import { expectNoBeatLostOrRepeated, MITDB_HZ, offlineBeds } from '../helpers/offline.js';
import { referenceClassifier } from '../helpers/referenceClassifier.js';
import { TRANSPORTS } from '../helpers/transports.js';

const FRAMES = 3 * 60 * 4;
const beds = ['100', '105', '119', '201', '208', '233'].map((record, i) => ({ bedId: `bed-${i}`, record }));

describe.each(TRANSPORTS)('two pipeline workers in one consumer group on $name', ({ start }) => {
  const { kafka, close } = start();
  afterAll(close);

  it('share the beds when the second joins, hand them back when one leaves, and lose or repeat no beat', async () => {
    const beats = await followTopic<BeatMessage>(kafka, TOPICS.beats, (b) => beatCodec.decode(b));
    const { expected, total } = await offlineBeds(beds, FRAMES / 4);
    const classify = await referenceClassifier((bedId) => beds.find((b) => b.bedId === bedId)!.record);
    const published = { a: 0, b: 0 };
    const worker = (name: 'a' | 'b', stop: AbortSignal) =>
      runPipelineWorker({
        kafka,
        classify,
        modelId: 'reference-labels',
        stop,
        onEvent: (e) => {
          if (e.kind === 'beat') published[name]++;
        },
      });

    const stopA = new AbortController();
    const stopB = new AbortController();
    const a = worker('a', stopA.signal);
    // 6x real time: 30 s of replay, so B's join and the rebalance (several seconds on the
    // mock cluster) come well before the end whatever the machine's load
    const replay = replayBeds(kafka, beds, { speed: 6, frames: FRAMES });
    await waitFor(
      () => beats.items.length >= total / 4,
      120_000,
      () => `${beats.items.length} beats before B joins`,
    );
    const b = worker('b', stopB.signal);
    await waitFor(
      () => published.b > 0,
      120_000,
      () => 'B never got a partition',
    );
    const aBeforeLeaving = published.a;
    expect(beats.items.length).toBeLessThan(total * 0.8);
    stopA.abort();
    await a;
    await replay;
    await allArrived(beats.items, total);
    stopB.abort();
    await b;
    await beats.stop();

    expect(aBeforeLeaving).toBeGreaterThan(0);
    expect(published.b).toBeGreaterThan(0);
    expectNoBeatLostOrRepeated(beats.items, expected, MITDB_HZ);
  });
});
