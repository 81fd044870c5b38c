import { from } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import type { SampleFrame } from '../../stream/contracts/frame.js';
import { orderFrames, type OrderedFrameEvent } from '../../stream/pipeline/orderFrames.js';

const frame = (seq: number, producedAtMs = 0): SampleFrame => ({
  bedId: 'b',
  source: 't',
  sampleRate: 360,
  leads: [{ name: 'MLII', kind: 'ecg', units: 'mV', gain: 200, baseline: 0 }],
  seq,
  firstSample: seq * 90,
  producedAtMs,
  samples: new Int16Array(90),
});
const f = (seq: number): OrderedFrameEvent => ({ kind: 'frame', frame: frame(seq) });

function scheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

describe('orderFrames (marble tests)', () => {
  it('passes frames in order straight through', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const source = cold('a-b-c|', { a: frame(0), b: frame(1), c: frame(2) });
      expectObservable(source.pipe(orderFrames({ maxHeld: 4, maxWaitMs: 10, confirmJump: 3 }))).toBe('a-b-c|', {
        a: f(0),
        b: f(1),
        c: f(2),
      });
    });
  });

  it('reorders a late frame inside the window and drops a duplicate', () => {
    scheduler().run(({ cold, expectObservable }) => {
      // a group "(bc)" spans as many frames as it has characters: the source leaves room after it
      const source = cold('a-c-b------b|', { a: frame(0), b: frame(1), c: frame(2) });
      expectObservable(source.pipe(orderFrames({ maxHeld: 4, maxWaitMs: 10, confirmJump: 3 }))).toBe('a---(bc)---d|', {
        a: f(0),
        b: f(1),
        c: f(2),
        d: { kind: 'duplicate', bedId: 'b', seq: 1, renumbered: false },
      });
    });
  });

  it('declares a gap when the wait expires, on the scheduler', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const source = cold('a-c 20ms d|', { a: frame(0), c: frame(2), d: frame(3) });
      expectObservable(source.pipe(orderFrames({ maxHeld: 4, maxWaitMs: 10, confirmJump: 3 }))).toBe(
        'a 11ms (gc) 7ms d|',
        {
          a: f(0),
          g: { kind: 'gap', bedId: 'b', fromSeq: 1, toSeq: 2 },
          c: f(2),
          d: f(3),
        },
      );
    });
  });

  it('declares a gap at once when too many frames are held', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const source = cold('a-c-d-e-------|', { a: frame(0), c: frame(2), d: frame(3), e: frame(4) });
      expectObservable(source.pipe(orderFrames({ maxHeld: 2, maxWaitMs: 100, confirmJump: 3 }))).toBe(
        'a-----(gcde)--|',
        {
          a: f(0),
          g: { kind: 'gap', bedId: 'b', fromSeq: 1, toSeq: 2 },
          c: f(2),
          d: f(3),
          e: f(4),
        },
      );
    });
  });

  it('tells a producer that started its numbering over from copies and late frames', () => {
    // frames 0..11 produced 250 ms apart, as a replay at real time sends them
    const stream = Array.from({ length: 12 }, (_, k) => frame(k, 1000 + 250 * k));
    const taken = stream.map((x) => ({ kind: 'frame', frame: x }));
    const after = (...more: SampleFrame[]): OrderedFrameEvent[] => {
      const out: OrderedFrameEvent[] = [];
      from([...stream, ...more])
        .pipe(orderFrames({ maxHeld: 4, maxWaitMs: 10, confirmJump: 3 }))
        .subscribe((e) => out.push(e));
      expect(out.slice(0, stream.length)).toEqual(taken);
      return out.slice(stream.length);
    };
    const duplicate = (seq: number, renumbered: boolean): OrderedFrameEvent => ({
      kind: 'duplicate',
      bedId: 'b',
      seq,
      renumbered,
    });
    // a redelivered message is a copy: it carries its original's production time
    expect(after(stream[2]!)).toEqual([duplicate(2, false)]);
    // a copy sent again later (as the simulator's duplicate fault does) is one frame back
    expect(after(frame(10, 9000))).toEqual([duplicate(10, false)]);
    // numbered from 0 again, produced after every frame taken: a restarted producer
    expect(after(frame(0, 9000), frame(1, 9250))).toEqual([duplicate(0, true), duplicate(1, true)]);
  });

  it('sets aside one frame numbered far ahead: the real frames after it go on, none dropped', () => {
    const forged = { ...frame(1), seq: 0xfffffff0 };
    const events: OrderedFrameEvent[] = [];
    from([frame(0), forged, frame(1), frame(2), frame(3), frame(4)])
      .pipe(orderFrames({ maxHeld: 8, maxWaitMs: 10, confirmJump: 3 }))
      .subscribe((e) => events.push(e));
    expect(events).toEqual([f(0), f(1), f(2), { kind: 'implausible', frame: forged }, f(3), f(4)]);
  });

  it('resynchronises on a far jump once the frames after it confirm the new numbering', () => {
    const events: OrderedFrameEvent[] = [];
    from([frame(0), frame(1), frame(500), frame(501), frame(502), frame(503)])
      .pipe(orderFrames({ maxHeld: 8, maxWaitMs: 10, confirmJump: 3 }))
      .subscribe((e) => events.push(e));
    expect(events).toEqual([
      f(0),
      f(1),
      { kind: 'gap', bedId: 'b', fromSeq: 2, toSeq: 500 },
      f(500),
      f(501),
      f(502),
      f(503),
    ]);
  });

  it('never takes an unconfirmed jump, also when the stream ends on it', () => {
    const events: OrderedFrameEvent[] = [];
    from([frame(0), frame(900), frame(901)])
      .pipe(orderFrames({ maxHeld: 8, maxWaitMs: 10, confirmJump: 3 }))
      .subscribe((e) => events.push(e));
    expect(events).toEqual([
      f(0),
      { kind: 'implausible', frame: frame(900) },
      { kind: 'implausible', frame: frame(901) },
    ]);
  });
});
