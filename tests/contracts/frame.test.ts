import { describe, expect, it } from 'vitest';
import {
  decodeFrame,
  encodeFrame,
  FrameDecodeError,
  leadMillivolts,
  type SampleFrame,
} from '../../stream/contracts/frame.js';

const frame: SampleFrame = {
  bedId: 'b1',
  source: 'mitdb/100',
  sampleRate: 360,
  leads: [
    { name: 'MLII', gain: 200, baseline: 1024 },
    { name: 'V5', gain: 200, baseline: 1024 },
  ],
  seq: 7,
  firstSample: 630,
  producedAtMs: 1_700_000_000_000,
  samples: Int16Array.from([1224, 1024, 824, 1124]),
};

// written by hand from the layout in stream/contracts/frame.ts (floats checked with python3 struct.pack);
// a change to the wire format must change this fixture
const FIXTURE = [
  '45 43 47 46',
  '01',
  '02',
  '02 00',
  '00 00 b4 43',
  '07 00 00 00',
  '00 00 00 00 00 b0 83 40',
  '00 00 80 56 fe bc 78 42',
  '02 62 31',
  '09 6d 69 74 64 62 2f 31 30 30',
  '04 4d 4c 49 49',
  '00 00 48 43',
  '00 04 00 00',
  '02 56 35',
  '00 00 48 43',
  '00 04 00 00',
  'c8 04',
  '00 04',
  '38 03',
  '64 04',
].join(' ');
const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(' ');

describe('ecg.samples frame v1', () => {
  it('encodes to the byte fixture and decodes back', () => {
    const bytes = encodeFrame(frame);
    expect(hex(bytes)).toBe(FIXTURE);
    expect(decodeFrame(bytes)).toEqual(frame);
    expect(Array.from(leadMillivolts(frame, 0))).toEqual([1, -1]);
  });

  it.each([
    ['too-short', (b: Uint8Array) => b.subarray(0, 10)],
    ['bad-magic', (b: Uint8Array) => Uint8Array.from(b, (x, i) => (i === 0 ? 0 : x))],
    ['unsupported-version', (b: Uint8Array) => Uint8Array.from(b, (x, i) => (i === 4 ? 2 : x))],
    ['bad-field', (b: Uint8Array) => Uint8Array.from(b, (x, i) => (i === 5 ? 0 : x))],
    ['truncated', (b: Uint8Array) => b.subarray(0, b.length - 1)],
    ['trailing-bytes', (b: Uint8Array) => Uint8Array.from([...b, 0, 0])],
  ] as const)('rejects a %s frame with that code', (code, damage) => {
    const error = (() => {
      try {
        decodeFrame(damage(encodeFrame(frame)));
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(FrameDecodeError);
    expect((error as FrameDecodeError).code).toBe(code);
    expect((error as FrameDecodeError).retriable).toBe(false);
  });
});
