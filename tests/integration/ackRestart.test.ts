import { AckKeyRing } from '../../stream/contracts/ackSignature.js';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ackCodec,
  alertCodec,
  beatCodec,
  type AlertMessage,
  type BeatMessage,
} from '../../stream/contracts/messages.js';
import { TOPICS } from '../../stream/contracts/topics.js';
import { runPipelineWorker } from '../../stream/pipeline/worker.js';
import { followTopic, replayBeds, waitFor } from '../helpers/kafkaTopics.js';
import { offlineBeds } from '../helpers/offline.js';
import { referenceClassifier } from '../helpers/referenceClassifier.js';
import { TRANSPORTS } from '../helpers/transports.js';

const FRAMES = 2 * 60 * 4; // two minutes of 250 ms frames
const beds = [{ bedId: 'bed-a', record: '208' }];

/** The keys the central station signs acknowledgements with, held by the workers too. */
const ACK_KEYS = AckKeyRing.generated('station');

describe('an acknowledged alarm and the worker that takes its bed over', () => {
  const { kafka, close } = TRANSPORTS[0]!.start();
  afterAll(close);

  it('raises it again from the frames it re-reads, acknowledged', async () => {
    const classify = await referenceClassifier(() => '208');
    const beats = await followTopic<BeatMessage>(kafka, TOPICS.beats, (b) => beatCodec.decode(b));
    const alerts = await followTopic<AlertMessage>(kafka, TOPICS.alerts, (b) => alertCodec.decode(b));
    const { total } = await offlineBeds(beds, FRAMES / 4);
    try {
      const stopFirst = new AbortController();
      const first = runPipelineWorker({
        kafka,
        classify,
        modelId: 'reference-labels',
        stop: stopFirst.signal,
        ackKeys: ACK_KEYS,
      });
      await replayBeds(kafka, beds, { speed: Infinity, frames: FRAMES });
      await waitFor(
        () => beats.items.length >= total,
        60_000,
        () => `${beats.items.length} of ${total} beats`,
      );
      // the latest couplet lies in the last 20 s, which a successor re-reads
      const latest = alerts.items.findLast((a) => a.type === 'couplet')!;
      expect(latest.onsetS).toBeGreaterThan(FRAMES / 4 - 15);
      const producer = kafka.producer();
      await producer.connect();
      await producer.send({
        topic: TOPICS.acks,
        messages: [
          {
            key: 'bed-a',
            value: ackCodec.encode(
              ACK_KEYS.sign({ bedId: 'bed-a', alertId: latest.id, by: 'nurse', atMs: Date.now() }),
            ),
          },
        ],
      });
      await producer.disconnect();
      const messagesOf = () => alerts.items.filter((a) => a.id === latest.id);
      await waitFor(
        () => messagesOf().some((a) => a.acknowledged),
        30_000,
        () => 'no acknowledged message',
      );
      stopFirst.abort();
      await first;
      const acknowledgedAt = messagesOf().findIndex((a) => a.acknowledged);

      const stopSecond = new AbortController();
      const second = runPipelineWorker({
        kafka,
        classify,
        modelId: 'reference-labels',
        stop: stopSecond.signal,
        ackKeys: ACK_KEYS,
      });
      await waitFor(
        () => messagesOf().length > acknowledgedAt + 2,
        60_000,
        () => `the successor raised ${latest.id} no more (${messagesOf().length} messages)`,
      );
      stopSecond.abort();
      await second;
      const again = messagesOf().slice(acknowledgedAt + 1);
      expect(again.map((a) => [a.state, a.acknowledged])).toEqual([
        ['active', true],
        ['ended', true],
      ]);
      expect(again[0]!.explanation).toEqual(latest.explanation);
    } finally {
      await Promise.all([beats.stop(), alerts.stop()]);
    }
  });
});
