import { afterAll, describe, expect, it } from 'vitest';
import { beatCodec, type BeatMessage } from '../../stream/contracts/messages.js';
import { TOPICS } from '../../stream/contracts/topics.js';
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
    const assigned: Record<'a' | 'b', (readonly number[])[]> = { a: [], b: [] };
    const worker = (name: 'a' | 'b', stop: AbortSignal) =>
      runPipelineWorker({
        kafka,
        classify,
        modelId: 'reference-labels',
        stop,
        onAssigned: (partitions) => assigned[name].push(partitions),
        onEvent: (e) => {
          if (e.kind === 'beat') published[name]++;
        },
      });

    const stopA = new AbortController();
    const stopB = new AbortController();
    const a = worker('a', stopA.signal);
    // 6x real time, held at the middle until B has joined and A has given up its share (a
    // rebalance takes seconds on the mock cluster, and longer on a loaded machine): B's share
    // of the second half is B's to publish whatever the machine's load, and A is still
    // publishing the first half's last frames while the group rebalances
    let bothOwnPartitions!: () => void;
    const rebalanced = new Promise<void>((resolve) => (bothOwnPartitions = resolve));
    const half = (FRAMES / 2) * beds.length;
    const replay = replayBeds(kafka, beds, {
      speed: 6,
      frames: FRAMES,
      throttle: (sent) => (sent < half ? Promise.resolve() : rebalanced),
    });
    await waitFor(
      () => beats.items.length >= total / 4,
      120_000,
      () => `${beats.items.length} beats before B joins`,
    );
    const b = worker('b', stopB.signal);
    await waitFor(
      () => assigned.b.some((p) => p.length > 0) && assigned.a.length >= 2,
      120_000,
      () => `no rebalance: A was assigned ${JSON.stringify(assigned.a)}, B ${JSON.stringify(assigned.b)}`,
    );
    bothOwnPartitions();
    const [ownedByA, ownedByB] = [assigned.a.at(-1)!, assigned.b.at(-1)!];
    expect(ownedByA.filter((p) => ownedByB.includes(p))).toEqual([]);
    await waitFor(
      () => published.b > 0,
      120_000,
      () => `B, assigned ${JSON.stringify(ownedByB)}, published no beat`,
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
