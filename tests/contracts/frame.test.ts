import { describe, expect, it } from 'vitest';
import {
  decodeFrame,
  encodeFrame,
  FrameDecodeError,
  frameProblem,
  INVALID_SAMPLE,
  leadPhysical,
  type SampleFrame,
} from '../../stream/contracts/frame.js';
import { usableFrameProblem } from '../../stream/pipeline/frameChecks.js';

const frame: SampleFrame = {
  bedId: 'b1',
  source: 'mitdb/100',
  sampleRate: 360,
  leads: [
    { name: 'MLII', kind: 'ecg', units: 'mV', gain: 200, baseline: 1024 },
    { name: 'V5', kind: 'ecg', units: 'mV', gain: 200, baseline: 1024 },
  ],
  seq: 7,
  firstSample: 630,
  producedAtMs: 1_700_000_000_000,
  samples: Int16Array.from([1224, 1024, 824, 1124]),
};

// written by hand from the layout in stream/contracts/frame.ts (floats checked with python3 struct.pack);
// a change to the wire format must change these fixtures. Version 1, as monitors before 0.11 wrote it:
const FIXTURE_V1 = [
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

/** Version 2: an ECG lead beside a pleth, each with its kind and units, and an invalid ECG sample. */
const withPleth: SampleFrame = {
  ...frame,
  leads: [
    { name: 'MLII', kind: 'ecg', units: 'mV', gain: 200, baseline: 1024 },
    { name: 'PLETH', kind: 'pleth', units: 'NU', gain: 100, baseline: 0 },
  ],
  samples: Int16Array.from([1224, 50, INVALID_SAMPLE, 150]),
};
const FIXTURE_V2 = [
  '45 43 47 46',
  '02',
  '02',
  '02 00',
  '00 00 b4 43',
  '07 00 00 00',
  '00 00 00 00 00 b0 83 40',
  '00 00 80 56 fe bc 78 42',
  '02 62 31',
  '09 6d 69 74 64 62 2f 31 30 30',
  '04 4d 4c 49 49',
  '00',
  '02 6d 56',
  '00 00 48 43',
  '00 04 00 00',
  '05 50 4c 45 54 48',
  '01',
  '02 4e 55',
  '00 00 c8 42',
  '00 00 00 00',
  'c8 04',
  '32 00',
  '00 80',
  '96 00',
].join(' ');
const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(' ');
const bytesOf = (fixture: string) => Uint8Array.from(fixture.split(' '), (x) => Number.parseInt(x, 16));

describe('ecg.samples frame', () => {
  it('encodes version 2 to the byte fixture and decodes it back: kinds, units and invalid samples', () => {
    const bytes = encodeFrame(withPleth);
    expect(hex(bytes)).toBe(FIXTURE_V2);
    expect(decodeFrame(bytes)).toEqual(withPleth);
    expect(Array.from(leadPhysical(withPleth, 0))).toEqual([1, Number.NaN]);
    expect(Array.from(leadPhysical(withPleth, 1))).toEqual([0.5, 1.5]);
    expect(decodeFrame(encodeFrame(frame))).toEqual(frame);
  });

  it('still decodes version 1: every lead in mV, its kind from its name', () => {
    expect(decodeFrame(bytesOf(FIXTURE_V1))).toEqual(frame);
    expect(Array.from(leadPhysical(frame, 0))).toEqual([1, -1]);
  });

  it('refuses a frame without an ECG lead, and units no device writes', () => {
    const plethOnly = { ...withPleth, leads: [withPleth.leads[1]!], samples: Int16Array.from([50, 150]) };
    expect(frameProblem(plethOnly)).toEqual({ code: 'no-ecg', reason: 'no ECG lead among PLETH (pleth)' });
    const badUnits = { ...frame, leads: [{ ...frame.leads[0]!, units: 'x'.repeat(17) }, frame.leads[1]!] };
    expect(frameProblem(badUnits)?.code).toBe('units');
  });

  it.each([
    ['too-short', (b: Uint8Array) => b.subarray(0, 10)],
    ['bad-magic', (b: Uint8Array) => Uint8Array.from(b, (x, i) => (i === 0 ? 0 : x))],
    ['unsupported-version', (b: Uint8Array) => Uint8Array.from(b, (x, i) => (i === 4 ? 3 : x))],
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
