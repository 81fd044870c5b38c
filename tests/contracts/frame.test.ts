import { describe, expect, it } from 'vitest';
import {
  decodeFrame,
  encodeFrame,
  FrameDecodeError,
  frameProblem,
  leadMillivolts,
  type SampleFrame,
} from '../../stream/contracts/frame.js';
import { usableFrameProblem } from '../../stream/pipeline/frameChecks.js';

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

describe('frames a bed can use', () => {
  const lead = frame.leads[0]!;
  const withLead = (changes: Partial<SampleFrame['leads'][number]>): SampleFrame => ({
    ...frame,
    leads: [{ ...lead, ...changes }, frame.leads[1]!],
  });

  it('accept what devices and PhysioNet records send', () => {
    expect(frameProblem(frame)).toBeUndefined();
    for (const sampleRate of [125, 128, 250, 256, 257.3, 360, 500, 1000])
      expect(usableFrameProblem({ ...frame, sampleRate })).toBeUndefined();
    expect(frameProblem(withLead({ gain: 7247 }))).toBeUndefined();
  });

  it('refuse each poison with a code and one line a nurse can read', () => {
    const refused: [SampleFrame, string, string][] = [
      [{ ...frame, sampleRate: 50 }, 'sample-rate', 'sample rate 50 Hz below 100 Hz'],
      [{ ...frame, sampleRate: 80 }, 'sample-rate', 'sample rate 80 Hz below 100 Hz'],
      [{ ...frame, sampleRate: 5000.001 }, 'sample-rate', 'sample rate 5000.001 Hz above 2000 Hz'],
      [{ ...frame, samples: new Int16Array(0) }, 'sample-count', 'no samples'],
      [
        { ...frame, samples: new Int16Array(2 * 360 * 11) },
        'sample-count',
        '3960 samples per lead, more than 10 s at 360 Hz',
      ],
      [withLead({ gain: 1e-44 }), 'gain', 'lead MLII: gain 1e-44 outside 0.01 to 1000000 ADC units per mV'],
      [
        withLead({ baseline: 2 ** 31 - 1 }),
        'baseline',
        "lead MLII: baseline 2147483647 outside the int16 samples' range",
      ],
      [withLead({ name: 'V5' }), 'lead-name', 'lead V5 appears twice'],
      [
        withLead({ name: 'x'.repeat(33) }),
        'lead-name',
        `lead name "${'x'.repeat(33)}" is not 1 to 32 printable characters`,
      ],
      [{ ...frame, bedId: 'bed 1' }, 'bed-id', 'bed id "bed 1" is not 1 to 64 letters, digits or . _ : / -'],
    ];
    for (const [bad, code, reason] of refused) expect(frameProblem(bad), reason).toEqual({ code, reason });
  });

  it('refuse a rate the front end cannot resample within its bounds (given finer than 0.1 Hz)', () => {
    expect(usableFrameProblem({ ...frame, sampleRate: 1999.999 })).toEqual({
      code: 'sample-rate',
      reason: expect.stringMatching(/^sample rate 1999\.99\d+ Hz needs \d+ resampler phases \(at most 1250\)/),
    });
  });
});
