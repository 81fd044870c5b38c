import { AckKeyRing } from '../../stream/contracts/ackSignature.js';
import { MalformedMessages } from '../../stream/kafka/malformed.js';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ackCodec,
  alertCodec,
  beatCodec,
  type AlertMessage,
  type BeatMessage,
} from '../../stream/contracts/messages.js';
import type { KafkaClient } from '../../stream/kafka/client.js';
import { TOPICS } from '../../stream/contracts/topics.js';
import { runPipelineWorker } from '../../stream/pipeline/worker.js';
import { followTopic, replayBeds, waitFor } from '../helpers/kafkaTopics.js';
import { expectOfflineBeats, offlineBeds } from '../helpers/offline.js';
import { referenceClassifier } from '../helpers/referenceClassifier.js';
import { TRANSPORTS } from '../helpers/transports.js';

const FRAMES = 4 * 60 * 4; // four minutes of 250 ms frames per bed
const beds = [
  { bedId: 'bed-a', record: '208' },
  { bedId: 'bed-b', record: '119' },
];

async function readTopic<T>(
  kafka: KafkaClient,
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

/** The keys the central station signs acknowledgements with, held by the workers too. */
const ACK_KEYS = AckKeyRing.generated('station');

describe.each(TRANSPORTS)('replay → $name → pipeline worker → ecg.beats / ecg.alerts', ({ start }) => {
  const { kafka, close } = start();
  afterAll(close);

  it('publishes exactly the beats the offline front end finds, keyed by bed, and explained alarms', async () => {
    const stop = new AbortController();
    const classify = await referenceClassifier((bedId) => beds.find((b) => b.bedId === bedId)!.record);
    const warnings: string[] = [];
    const malformed = new MalformedMessages((line) => warnings.push(line));
    const rejections = new MalformedMessages(() => undefined);
    const worker = runPipelineWorker({
      kafka,
      classify,
      modelId: 'reference-labels',
      stop: stop.signal,
      malformed,
      rejections,
      ackKeys: ACK_KEYS,
    });
    await replayBeds(kafka, beds, { speed: Infinity, frames: FRAMES });

    const { expected, total } = await offlineBeds(beds, FRAMES / 4);
    const beats = await readTopic<BeatMessage>(
      kafka,
      TOPICS.beats,
      (b) => beatCodec.decode(b),
      (items) => items.length >= total,
    );
    expectOfflineBeats(beats, expected);
    // record 208's PVC couplets raise explained, beat-driven alarms
    const alerts = await readTopic<AlertMessage>(
      kafka,
      TOPICS.alerts,
      (b) => alertCodec.decode(b),
      (items) => items.some((a) => a.type === 'couplet'),
    );
    const couplet = alerts.find((a) => a.type === 'couplet')!;
    expect(couplet.bedId).toBe('bed-a');
    expect(couplet.explanation).toHaveLength(2);
    expect(couplet.explanation[0]!.gradCam).toHaveLength(187);

    // a nurse acknowledges the latest through ecg.acks: the worker publishes it again, acknowledged;
    // an unsigned one, one signed with a key the workers do not hold, and one made before its
    // alarm was raised change nothing
    const latest = alerts.findLast((a) => a.type === 'couplet')!;
    // an earlier couplet the worker can still acknowledge (among the bed's last 16 ended alarms)
    const earliest = alerts.filter((a) => a.type === 'couplet' && a.state === 'ended').at(-2)!;
    const ackOf = (alert: AlertMessage, atMs = Date.now()) => ({
      bedId: 'bed-a',
      alertId: alert.id,
      by: 'nurse',
      atMs,
    });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic: TOPICS.acks,
      messages: [
        { key: 'bed-a', value: Buffer.from('{"v":1,"bedId":"bed-a"}') }, // malformed: counted, skipped
        { key: 'bed-a', value: ackCodec.encode({ v: 1, ...ackOf(earliest) }) },
        { key: 'bed-a', value: ackCodec.encode(AckKeyRing.generated('mallory').sign(ackOf(earliest))) },
        { key: 'bed-a', value: ackCodec.encode(ACK_KEYS.sign(ackOf(earliest, earliest.raisedAtMs! - 60_000))) },
        { key: 'bed-a', value: ackCodec.encode(ACK_KEYS.sign(ackOf(latest))) },
      ],
    });
    await producer.disconnect();
    const updates = await readTopic<AlertMessage>(
      kafka,
      TOPICS.alerts,
      (b) => alertCodec.decode(b),
      (items) => items.some((a) => a.acknowledged),
    );
    stop.abort();
    await worker;
    const acknowledged = updates.filter((a) => a.acknowledged);
    expect(acknowledged.map((a) => [a.id, a.state])).toEqual([[latest.id, 'ended']]);
    expect(acknowledged[0]!.explanation).toEqual(latest.explanation);
    expect(latest.explanation).toHaveLength(2);
    expect(malformed.snapshot()).toEqual({ 'ecg.acks:invalid': 1 });
    expect(rejections.snapshot()).toEqual({ 'ecg.acks:unsigned': 1, 'ecg.acks:unknown-key': 1, 'ecg.acks:advance': 1 });
    expect(warnings).toEqual([expect.stringMatching(/^warning \[ecg\.acks:invalid\]: .*alertId: Required/)]);
  });
});
