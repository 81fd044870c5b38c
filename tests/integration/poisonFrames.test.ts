import { afterAll, describe, expect, it } from 'vitest';
import { publishReplay } from '../../simulators/publish.js';
import { loadBed } from '../../simulators/replay.js';
import type { SampleFrame } from '../../stream/contracts/frame.js';
import {
  alertCodec,
  beatCodec,
  deadLetterCodec,
  type AlertMessage,
  type BeatMessage,
  type DeadLetterMessage,
} from '../../stream/contracts/messages.js';
import { TOPICS } from '../../stream/contracts/topics.js';
import { MalformedMessages } from '../../stream/kafka/malformed.js';
import { runPipelineWorker } from '../../stream/pipeline/worker.js';
import { mitdbDir } from '../../stream/wfdb/index.js';
import { allArrived, followTopic, waitFor } from '../helpers/kafkaTopics.js';
import { expectNoBeatLostOrRepeated, expectOfflineBeats, MITDB_HZ, offlineBeds } from '../helpers/offline.js';
import { referenceClassifier } from '../helpers/referenceClassifier.js';
import { TRANSPORTS } from '../helpers/transports.js';

const FRAMES = 3 * 60 * 4;
const good = [
  { bedId: 'bed-a', record: '119' },
  { bedId: 'bed-b', record: '208' },
];
/** A bed whose producer sends only frames no bed can use. */
const broken = { bedId: 'bed-x', record: '100' };

/** The poison frames of the attack, made from one real frame of the bed, with their dead-letter code. */
const POISONS: [string, (f: SampleFrame) => SampleFrame][] = [
  ['sample-rate', (f) => ({ ...f, sampleRate: 50 })],
  ['sample-rate', (f) => ({ ...f, sampleRate: 5000.001 })],
  ['sample-rate', (f) => ({ ...f, sampleRate: 80 })],
  ['gain', (f) => ({ ...f, leads: f.leads.map((l) => ({ ...l, gain: 1e-44 })) })],
  ['baseline', (f) => ({ ...f, leads: f.leads.map((l) => ({ ...l, baseline: 2 ** 31 - 1 })) })],
  ['seq', (f) => ({ ...f, seq: 0xfffffff0 })],
  ['sample-count', (f) => ({ ...f, samples: new Int16Array(0) })],
];

/** bed-a's stream with a poison frame before every 25th frame (the real one follows it); bed-x all at 50 Hz. */
function* attacked(frames: Generator<SampleFrame>, bedId: string): Generator<SampleFrame> {
  let k = 0;
  for (const frame of frames) {
    if (bedId === broken.bedId) yield { ...frame, sampleRate: 50 };
    else {
      if (bedId === 'bed-a' && frame.seq % 25 === 12) yield POISONS[k++ % POISONS.length]![1](frame);
      yield frame;
    }
  }
}

describe('poison frames through the embedded broker', () => {
  const { kafka, close } = TRANSPORTS[0]!.start();
  afterAll(close);

  it('never cost another bed a beat, quarantine their bed, and are not met again by a restarted worker', async () => {
    const classify = await referenceClassifier((bedId) => [...good, broken].find((b) => b.bedId === bedId)!.record);
    const beats = await followTopic<BeatMessage>(kafka, TOPICS.beats, (b) => beatCodec.decode(b));
    const alerts = await followTopic<AlertMessage>(kafka, TOPICS.alerts, (b) => alertCodec.decode(b));
    const letters = await followTopic<DeadLetterMessage>(kafka, TOPICS.deadLetter, (b) => deadLetterCodec.decode(b));
    const rejections = new MalformedMessages(() => undefined, 'setting aside a frame');
    const { expected, total } = await offlineBeds(good, FRAMES / 4);
    try {
      const stopFirst = new AbortController();
      const first = runPipelineWorker({
        kafka,
        classify,
        modelId: 'reference-labels',
        stop: stopFirst.signal,
        rejections,
        malformed: new MalformedMessages(() => undefined),
      });
      const producer = kafka.producer();
      await producer.connect();
      await producer.send({ topic: TOPICS.samples, messages: [{ key: 'bed-a', value: Buffer.from('not a frame') }] });
      const loaded = await Promise.all([...good, broken].map((bed) => loadBed(mitdbDir(), bed)));
      await publishReplay(producer, loaded, {
        frameMs: 250,
        loop: false,
        speed: Infinity,
        maxFrames: FRAMES,
        transform: (frames, bed) => attacked(frames, bed.bedId),
      });
      await producer.disconnect();
      await allArrived(beats.items, total);
      // the good beds: every beat the offline front end finds, none twice, none lost
      expectOfflineBeats(beats.items, expected);
      expect(beats.items.filter((b) => b.bedId === broken.bedId)).toEqual([]);
      // every poison frame and the unreadable message are dead letters, with the reason and offset
      const poisonCount = Math.floor((FRAMES - 13) / 25) + 1;
      await waitFor(
        () => letters.items.length >= poisonCount + FRAMES + 1,
        30_000,
        () => `${letters.items.length} dead letters of ${poisonCount + FRAMES + 1}`,
      );
      const ofBed = (bedId: string | null) => letters.items.filter((l) => l.bedId === bedId);
      expect(ofBed('bed-a').map((l) => l.code)).toEqual(
        Array.from({ length: poisonCount }, (_, k) => POISONS[k % POISONS.length]![0]),
      );
      expect(ofBed('bed-x')).toHaveLength(FRAMES);
      expect(ofBed('bed-x')[0]!.reason).toBe('sample rate 50 Hz below 100 Hz');
      expect(ofBed(null).map((l) => l.code)).toEqual(['too-short']);
      expect(ofBed('bed-b')).toEqual([]);
      expect(new Set(letters.items.map((l) => `${l.partition}/${l.offset}`)).size).toBe(letters.items.length);
      // the broken bed and the attacked one say why; the untouched bed has no technical alarm of the kind
      const invalid = alerts.items.filter((a) => a.type === 'invalid-input');
      expect(new Set(invalid.map((a) => a.bedId))).toEqual(new Set(['bed-a', 'bed-x']));
      expect(invalid.find((a) => a.bedId === 'bed-x')).toMatchObject({
        state: 'active',
        priority: 'technical',
        detail: 'sample rate 50 Hz below 100 Hz',
      });
      expect(rejections.snapshot()).toMatchObject({ 'ecg.samples:sample-rate': expect.any(Number) });

      // a restarted worker resumes 20 s back, reads neither a poison frame nor the bad message again
      stopFirst.abort();
      await first;
      const lettersBefore = letters.items.length;
      const setAsideBefore = new Set(letters.items.map((l) => `${l.partition}/${l.offset}`));
      const stopSecond = new AbortController();
      const second = runPipelineWorker({ kafka, classify, modelId: 'reference-labels', stop: stopSecond.signal });
      const more = [{ bedId: 'bed-a', record: '119' }];
      const resumed = await loadBed(mitdbDir(), more[0]!);
      const producer2 = kafka.producer();
      await producer2.connect();
      await publishReplay(producer2, [{ ...resumed, start: { seq: FRAMES, sample: FRAMES * 90 } }], {
        frameMs: 250,
        loop: false,
        speed: Infinity,
        maxFrames: 40,
      });
      await producer2.disconnect();
      await waitFor(
        () => beats.items.some((b) => b.bedId === 'bed-a' && b.rPeakSample > FRAMES * 90 + 5 * MITDB_HZ),
        60_000,
        () => 'no beat of the resumed stream',
      );
      stopSecond.abort();
      await second;
      // bed-a's poison frames and the bad message are skipped unread; frames of a producer that
      // never stops sending unusable ones may be set aside again beyond the newest 128 carried
      const again = letters.items.slice(lettersBefore);
      expect(again.filter((l) => l.bedId !== broken.bedId)).toEqual([]);
      expect(again.every((l) => setAsideBefore.has(`${l.partition}/${l.offset}`))).toBe(true);
      const { expected: longer } = await offlineBeds(good.slice(0, 1), FRAMES / 4);
      expectNoBeatLostOrRepeated(
        beats.items.filter((b) => b.bedId === 'bed-a' && b.rPeakSample < FRAMES * 90),
        longer,
        MITDB_HZ,
      );
    } finally {
      await Promise.all([beats.stop(), alerts.stop(), letters.stop()]);
    }
  }, 240_000);
});
