import { firstValueFrom, from, Subject, tap, toArray } from 'rxjs';
import type { Alarm } from '../../stream/alarms/types.js';
import { describe, expect, it } from 'vitest';
import { recordFrames } from '../../simulators/replay.js';
import { EcgFrontEnd } from '../../stream/dsp/index.js';
import type { SampleFrame } from '../../stream/contracts/frame.js';
import { AckKeyRing } from '../../stream/contracts/ackSignature.js';
import { MalformedMessages } from '../../stream/kafka/malformed.js';
import { AlarmAcks } from '../../stream/pipeline/acks.js';
import { DEFAULT_BED } from '../../stream/pipeline/bedMonitor.js';
import { monitorWard, type Classify, type WardEvent } from '../../stream/pipeline/ward.js';
import { mitdbDir, monitoringLeadIndex, readRecord, toPhysical } from '../../stream/wfdb/index.js';
import { waitFor } from '../helpers/kafkaTopics.js';
import { MITDB_HZ } from '../helpers/offline.js';
import { referenceClassifier } from '../helpers/referenceClassifier.js';

const MINUTES = 5;

const referenceClassifierOf = (record: string) => referenceClassifier(() => record);

async function framesOf(record: string): Promise<SampleFrame[]> {
  const r = await readRecord(mitdbDir(), record);
  const frames = [...recordFrames(r, `bed-${record}`, `mitdb/${record}`)];
  return frames.slice(0, (MINUTES * 60 * 1000) / 250);
}

async function run(frames: SampleFrame[], classify: Classify, acks?: AlarmAcks): Promise<WardEvent[]> {
  return firstValueFrom(
    from(frames).pipe(monitorWard({ classify, acks, batching: { maxBatch: 32, maxWaitMs: 1 } }), toArray()),
  );
}

const beatsOf = (events: WardEvent[]) => events.flatMap((e) => (e.kind === 'beat' ? [e.beat] : []));

describe('monitorWard: frames in, classified beats and alarms out', () => {
  it('loses no beat: the same beats as the offline front end over the same signal', async () => {
    const record = '208';
    const frames = await framesOf(record);
    const events = await run(frames, await referenceClassifierOf(record));
    const r = await readRecord(mitdbDir(), record);
    const lead = toPhysical(r.signals[monitoringLeadIndex(r.header)]!).subarray(0, frames.length * 90);
    const offline = new EcgFrontEnd({ sourceHz: 360 }).push(lead).windows;
    const live = beatsOf(events);
    expect(live.length).toBe(offline.length);
    expect(live.map((b) => b.window.rPeak)).toEqual(offline.map((w) => w.rPeak));
    // record 208 is full of PVCs: some must have been classified V and explained
    expect(live.filter((b) => b.label === 'V' && b.gradCam !== undefined).length).toBeGreaterThan(50);
  });

  it("cuts each bed's second lead only for a classifier that takes it", async () => {
    const frames = (await framesOf('100')).slice(0, 120);
    const classify = await referenceClassifierOf('100');
    const seconds = async (c: Classify) => {
      const pending: boolean[] = [];
      await firstValueFrom(
        from(frames).pipe(
          monitorWard({ classify: c, onPending: (b) => pending.push(b.window.secondLead !== undefined) }),
          toArray(),
        ),
      );
      return pending;
    };
    const oneLead = await seconds(classify);
    const twoLead = await seconds(
      Object.assign((beats: Parameters<Classify>[0]) => classify(beats), { usesSecondLead: true }),
    );
    expect(oneLead.length).toBeGreaterThan(20);
    expect(oneLead.every((has) => !has)).toBe(true);
    expect(twoLead).toHaveLength(oneLead.length);
    expect(twoLead.every((has) => has)).toBe(true);
  });

  it("cuts each bed's windows with the R peak where the classifier's model takes it", async () => {
    const frames = (await framesOf('100')).slice(0, 120);
    const classify = await referenceClassifierOf('100');
    const windows = async (c: Classify) => {
      const cut = new Map<number, Float32Array>();
      await firstValueFrom(
        from(frames).pipe(
          monitorWard({ classify: c, onPending: (b) => cut.set(b.window.rPeak, b.window.samples) }),
          toArray(),
        ),
      );
      return cut;
    };
    const asShipped = await windows(classify);
    const taking = (window: { length: number; rIndex: number }) =>
      windows(Object.assign((beats: Parameters<Classify>[0]) => classify(beats), { window }));
    const centred = await taking({ length: 187, rIndex: 93 });
    // an ensemble of networks taking 62 and 93: one window holding both
    const spanning = await taking({ length: 218, rIndex: 93 });
    // the same R peaks, each window starting 31 samples earlier in the same signal
    const both = [...asShipped.keys()].filter((r) => centred.has(r) && spanning.has(r));
    expect(both.length).toBeGreaterThan(20);
    expect(both.length).toBeGreaterThanOrEqual(asShipped.size - 1);
    for (const r of both) {
      expect(Array.from(centred.get(r)!.subarray(31))).toEqual(Array.from(asShipped.get(r)!.subarray(0, 187 - 31)));
      expect(spanning.get(r)!).toHaveLength(218);
      expect(Array.from(spanning.get(r)!.subarray(31))).toEqual(Array.from(asShipped.get(r)!));
      expect(Array.from(spanning.get(r)!.subarray(0, 187))).toEqual(Array.from(centred.get(r)!));
    }
  });

  it('reordered and duplicated frames give the same beats; dropped frames raise a technical gap alarm', async () => {
    const record = '119';
    const classify = await referenceClassifierOf(record);
    const frames = await framesOf(record);
    const clean = beatsOf(await run(frames, classify)).map((b) => b.rPeakSample);
    const shuffled = frames.flatMap((f, i) => (i % 10 === 3 ? [] : i % 10 === 4 ? [f, frames[i - 1]!, f] : [f]));
    const messy = await run(shuffled, classify);
    expect(beatsOf(messy).map((b) => b.rPeakSample)).toEqual(clean);
    expect(messy.filter((e) => e.kind === 'duplicate').length).toBeGreaterThan(100);

    const dropped = frames.filter((_, i) => i < 400 || i >= 420); // 5 s missing
    const withGap = await run(dropped, classify);
    const alarms = withGap.flatMap((e) => (e.kind === 'alarm' ? [e.alarm] : []));
    expect(withGap.filter((e) => e.kind === 'gap')).toEqual([{ kind: 'gap', bedId: 'bed-119', lostFrames: 20 }]);
    expect(alarms.filter((a) => a.type === 'signal-gap' && a.state === 'active')).toHaveLength(1);
    expect(alarms.filter((a) => a.type === 'asystole' || a.type === 'pause')).toEqual([]);
  });
});

describe('monitorWard: a bed whose stream stops', () => {
  it('raises stream-stalled on the wall clock and ends it when frames come back', async () => {
    const frames = (await framesOf('100')).slice(0, 12);
    const input = new Subject<SampleFrame>();
    const alarms: Alarm[] = [];
    const done = firstValueFrom(
      input.pipe(
        monitorWard({ classify: await referenceClassifierOf('100'), stall: { afterMs: 40 } }),
        tap((e) => void (e.kind === 'alarm' && alarms.push(e.alarm))),
        toArray(),
      ),
    );
    for (const f of frames.slice(0, 8)) input.next(f);
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(alarms.map((a) => [a.type, a.state])).toEqual([['stream-stalled', 'active']]);
    expect(alarms[0]!.onsetS).toBeCloseTo(2, 5); // the end of the eighth 250 ms frame
    for (const f of frames.slice(8)) input.next(f);
    input.complete();
    await done;
    expect(alarms.map((a) => [a.type, a.state])).toEqual([
      ['stream-stalled', 'active'],
      ['stream-stalled', 'ended'],
    ]);
  });
});

describe('monitorWard: a bed silent past the release time', () => {
  const STALL = { afterMs: 20 };
  const RELEASE = { afterMs: 60 };
  const RESUME = 600; // frames before the silence: 150 s

  /** Frames 0..RESUME-1, a silence past the release time, then `after`; the classifier's forgotten beds. */
  async function silentThen(frames: SampleFrame[], after: SampleFrame[], classify: Classify) {
    const forgotten: string[] = [];
    const forgetting = Object.assign((beats: Parameters<Classify>[0]) => classify(beats), {
      forget: (bedId: string) => void forgotten.push(bedId),
    });
    const input = new Subject<SampleFrame>();
    const done = firstValueFrom(
      input.pipe(monitorWard({ classify: forgetting, stall: STALL, release: RELEASE }), toArray()),
    );
    for (const f of frames.slice(0, RESUME)) input.next(f);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const forgottenWhileSilent = [...forgotten];
    for (const f of after) input.next(f);
    input.complete();
    return { events: await done, forgottenWhileSilent };
  }

  it('gives up its analysis, and goes on where its stream stopped when it comes back', async () => {
    const record = '119';
    const classify = await referenceClassifierOf(record);
    const frames = await framesOf(record);
    const clean = beatsOf(await run(frames, classify)).map((b) => b.rPeakSample);
    const { events, forgottenWhileSilent } = await silentThen(frames, frames.slice(RESUME), classify);
    expect(forgottenWhileSilent).toEqual(['bed-119']);

    // the same beats, but for those whose window the old analysis had not finished when the
    // stream stopped, and those the restarted detector finds while it learns the signal again
    const resumeS = frames[RESUME]!.firstSample / MITDB_HZ;
    const live = beatsOf(events).map((b) => b.rPeakSample);
    const lost = clean.filter((s) => !live.includes(s));
    expect(live.every((s) => clean.includes(s))).toBe(true);
    expect(lost.length).toBeGreaterThan(0);
    expect(lost.length).toBeLessThanOrEqual(5);
    for (const s of lost) expect(s / MITDB_HZ).toSatisfy((t: number) => t > resumeS - 1 && t < resumeS + 3);

    const alarms = events.flatMap((e) => (e.kind === 'alarm' ? [e.alarm] : []));
    expect(alarms.filter((a) => a.type === 'stream-stalled').map((a) => a.state)).toEqual(['active', 'ended']);
    // no sample was missing: no technical gap, and no pause or asystole across the beats not found
    expect(events.filter((e) => e.kind === 'gap' || e.kind === 'duplicate')).toEqual([]);
    expect(alarms.filter((a) => ['signal-gap', 'pause', 'asystole'].includes(a.type))).toEqual([]);
  });

  it('reports frames lost while it was released, and takes its first frames back in order', async () => {
    const record = '119';
    const frames = await framesOf(record);
    // twenty frames lost in the silence, and the two after them swapped
    const after = [frames[RESUME + 21]!, frames[RESUME + 20]!, ...frames.slice(RESUME + 22)];
    const { events } = await silentThen(frames, after, await referenceClassifierOf(record));
    expect(events.filter((e) => e.kind === 'gap')).toEqual([{ kind: 'gap', bedId: 'bed-119', lostFrames: 20 }]);
    expect(events.filter((e) => e.kind === 'duplicate')).toEqual([]);
    const gaps = events.flatMap((e) => (e.kind === 'alarm' && e.alarm.type === 'signal-gap' ? [e.alarm] : []));
    expect(gaps.map((a) => [a.state, a.onsetS, a.endS])).toEqual([
      ['active', 150, undefined],
      ['ended', 150, 155],
    ]);
  });

  it('refuses a release time not longer than the stall time', async () => {
    const classify = await referenceClassifierOf('100');
    expect(() => monitorWard({ classify, stall: { afterMs: 5000 }, release: { afterMs: 5000 } })).toThrow(
      'monitorWard: the release time (5000 ms) must be longer than the stall time (5000 ms)',
    );
  });
});

describe('monitorWard: acknowledgements', () => {
  const keys = AckKeyRing.generated('ward-1');
  /** Frames stamped as a producer at real time would stamp them, from 1 000 s on. */
  const T0 = 1_000_000;
  const ackOf = (alarm: Alarm, atMs = alarm.raisedAtMs + 3000) =>
    keys.sign({ bedId: alarm.bedId, alertId: alarm.id, by: 'nurse', atMs });

  it('publishes an acknowledged alarm again, explained, and keeps it acknowledged when raised again', async () => {
    const record = '208';
    const frames = (await framesOf(record)).slice(0, 2 * 60 * 4).map((f) => ({ ...f, producedAtMs: T0 + 250 * f.seq }));
    const classify = await referenceClassifierOf(record);
    const refused = new MalformedMessages(() => undefined);
    const acks = new AlarmAcks(keys, refused);
    const input = new Subject<SampleFrame>();
    const events: WardEvent[] = [];
    const done = firstValueFrom(
      input.pipe(
        monitorWard({ classify, acks, batching: { maxBatch: 32, maxWaitMs: 1 } }),
        tap((e) => void events.push(e)),
        toArray(),
      ),
    );
    for (const f of frames.slice(0, 40)) input.next(f); // 10 s: 208's first couplets
    const alarmEvents = () => events.flatMap((e) => (e.kind === 'alarm' ? [e] : []));
    const firstCouplet = () => alarmEvents().find((e) => e.alarm.type === 'couplet' && e.alarm.state === 'ended');
    await waitFor(
      () => firstCouplet() !== undefined,
      10_000,
      () => 'no couplet in the first 10 s of 208',
    );
    const raised = firstCouplet()!;
    expect(raised.explanation.length).toBe(2);
    expect(raised.alarm.raisedAtMs).toBeGreaterThan(T0);
    const before = alarmEvents().length;
    const valid = ackOf(raised.alarm);
    // none of these may acknowledge it: unsigned, signed with a key the worker does not hold, a
    // signature that does not cover the fields, made before the alarm was raised
    const fields = { bedId: valid.bedId, alertId: valid.alertId, by: valid.by, atMs: valid.atMs };
    acks.receive({ v: 1, ...fields });
    acks.receive(AckKeyRing.generated('elsewhere').sign(fields));
    acks.receive({ ...valid, by: 'mallory' });
    acks.receive(ackOf(raised.alarm, raised.alarm.raisedAtMs - 60_000));
    for (const f of frames.slice(40, 48)) input.next(f);
    await waitFor(
      () => refused.snapshot()['ecg.acks:advance'] === 1,
      10_000,
      () => `refusals: ${JSON.stringify(refused.snapshot())}`,
    );
    expect(
      alarmEvents()
        .slice(before)
        .filter((e) => e.alarm.acknowledged),
    ).toEqual([]);
    acks.receive(valid);
    acks.receive(valid); // the same message again
    acks.receive(ackOf({ ...raised.alarm, id: `${raised.alarm.bedId}/pause/1` })); // no such alarm
    for (const f of frames.slice(48)) input.next(f);
    input.complete();
    await done;
    expect(refused.snapshot()).toEqual({
      'ecg.acks:unsigned': 1,
      'ecg.acks:unknown-key': 1,
      'ecg.acks:bad-signature': 1,
      'ecg.acks:advance': 1,
      'ecg.acks:replayed': 1,
    });
    const after = alarmEvents().slice(before);
    const acknowledged = after.filter((e) => e.alarm.acknowledged);
    expect(acknowledged).toHaveLength(1);
    expect(acknowledged[0]!.alarm).toEqual({ ...raised.alarm, acknowledged: true });
    expect(acknowledged[0]!.explanation).toEqual(raised.explanation);

    // the same frames again (a worker that took the bed over): that alarm comes out acknowledged
    const again = (await run(frames, classify, acks)).flatMap((e) => (e.kind === 'alarm' ? [e.alarm] : []));
    const couplets = again.filter((a) => a.type === 'couplet');
    expect(couplets.length).toBeGreaterThan(2);
    expect(couplets.filter((a) => a.acknowledged).map((a) => [a.id, a.state])).toEqual([
      [raised.alarm.id, 'active'],
      [raised.alarm.id, 'ended'],
    ]);
  });
});

describe('monitorWard: a bed that cannot be processed', () => {
  /** The first 60 s of 119 as bed-119, and of 208 as bed-208, interleaved frame by frame. */
  async function twoBeds(): Promise<SampleFrame[][]> {
    return [
      (await framesOf('119')).slice(0, 240),
      (await framesOf('208')).slice(0, 240).map((f) => ({ ...f, bedId: 'bed-208' })),
    ];
  }
  const interleave = (beds: SampleFrame[][]) => beds[0]!.flatMap((f, i) => [f, ...beds.slice(1).map((b) => b[i]!)]);

  it('sets aside frames no bed can use, with the invalid-input alarm on that bed only; the other bed loses nothing', async () => {
    const [good, other] = await twoBeds();
    const classify = await referenceClassifier((bedId) => (bedId === 'bed-119' ? '119' : '208'));
    const clean = await run(interleave([good!, other!]), classify);
    // every 20th frame of bed-208 is poison: a 50 Hz rate, a gain of 1e-44, a forged seq
    const poison = (f: SampleFrame, k: number): SampleFrame =>
      k % 3 === 0
        ? { ...f, sampleRate: 50 }
        : k % 3 === 1
          ? { ...f, leads: f.leads.map((l) => ({ ...l, gain: 1e-44 })) }
          : { ...f, seq: 0xfffffff0 };
    const poisoned = other!.flatMap((f, i) => (i % 20 === 10 ? [poison(f, Math.floor(i / 20)), f] : [f]));
    const events = await run(
      interleave([good!, poisoned.slice(0, good!.length)]).concat(poisoned.slice(good!.length)),
      classify,
    );
    const beatsOfBed = (list: WardEvent[], bedId: string) => beatsOf(list).filter((b) => b.bedId === bedId);
    expect(beatsOfBed(events, 'bed-119').map((b) => b.rPeakSample)).toEqual(
      beatsOfBed(clean, 'bed-119').map((b) => b.rPeakSample),
    );
    expect(beatsOfBed(events, 'bed-208').map((b) => b.rPeakSample)).toEqual(
      beatsOfBed(clean, 'bed-208').map((b) => b.rPeakSample),
    );
    const rejected = events.flatMap((e) => (e.kind === 'rejected' ? [e] : []));
    expect(new Set(rejected.map((e) => e.bedId))).toEqual(new Set(['bed-208']));
    expect(new Set(rejected.map((e) => e.code))).toEqual(new Set(['sample-rate', 'gain', 'seq']));
    expect(rejected.every((e) => e.frame !== undefined)).toBe(true);
    const invalid = events.flatMap((e) => (e.kind === 'alarm' && e.alarm.type === 'invalid-input' ? [e.alarm] : []));
    expect(invalid.length).toBeGreaterThan(0);
    expect(invalid.every((a) => a.bedId === 'bed-208' && a.priority === 'technical')).toBe(true);
    expect(invalid[0]!.detail).toBe('sample rate 50 Hz below 100 Hz');
    expect(events.filter((e) => e.kind === 'gap' || e.kind === 'duplicate')).toEqual([]);
  });

  it('quarantines a bed whose processing throws, never the other beds or the ward', async () => {
    const [good, other] = await twoBeds();
    // a front end that this bed's rate cannot have: resampling keeps 55 Hz, over 100 Hz's Nyquist
    const slow = other!.map((f) => ({ ...f, sampleRate: 100 }));
    const classify = await referenceClassifier((bedId) => (bedId === 'bed-119' ? '119' : '208'));
    const bed = { ...DEFAULT_BED, frontEnd: { resampler: { passbandHz: 55, attenuationDb: 40 } } };
    const events = await firstValueFrom(
      from(interleave([good!, slow])).pipe(
        monitorWard({ classify, bed, batching: { maxBatch: 32, maxWaitMs: 1 } }),
        toArray(),
      ),
    );
    expect(beatsOf(events).filter((b) => b.bedId === 'bed-119').length).toBeGreaterThan(60);
    expect(beatsOf(events).filter((b) => b.bedId === 'bed-208')).toEqual([]);
    const failures = events.flatMap((e) => (e.kind === 'rejected' ? [e] : []));
    expect(failures.length).toBe(slow.length);
    expect(failures[0]).toMatchObject({ bedId: 'bed-208', code: 'bed-failure' });
    expect(failures[0]!.reason).toMatch(
      /^processing failed: Resampler: passband 55 Hz must lie below the Nyquist frequency 50 Hz/,
    );
    const alarms = events.flatMap((e) => (e.kind === 'alarm' ? [e.alarm] : []));
    expect(alarms.filter((a) => a.type === 'invalid-input').map((a) => [a.bedId, a.state])).toEqual([
      ['bed-208', 'active'],
    ]);
  });
});
