import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../stream/contracts/errors.js';
import {
  chunkFault,
  DEFAULT_LEAD_CHECK,
  LeadCheck,
  QrsConfirmation,
  type DetectedPeak,
} from '../../stream/dsp/index.js';

const chunk = (values: number[]) => Float32Array.from(values);
const peak = (amplitude: number): DetectedPeak => ({ index: 0, sourceSample: 0, amplitude }) as DetectedPeak;

describe('LeadCheck', () => {
  it('calls a lead flat once its range has stayed under flatMv for faultS, and readable as soon as it moves', () => {
    const d = new LeadCheck({ ...DEFAULT_LEAD_CHECK, flatMv: 0.02, faultS: 2 });
    expect(d.push(chunk([0.5, -0.3, 1.1]), 0, 1)).toBeUndefined();
    expect(d.push(chunk([0.001, 0.002, 0]), 1, 2)).toBeUndefined(); // flat for 1 s
    expect(d.faultyNow).toBe(true);
    expect(d.push(chunk([0.001, 0.002, 0]), 2, 2.5)).toBeUndefined(); // 1.5 s
    expect(d.push(chunk([0.001, 0.002, 0]), 2.5, 3)).toBe('flat-line'); // 2 s
    expect(d.push(chunk([0, 0.5, 0]), 3, 3.5)).toBeUndefined();
    expect(d.faultyNow).toBe(false);
  });

  it('sees a lead stuck at a rail as flat too: the range matters, not the level', () => {
    const d = new LeadCheck({ ...DEFAULT_LEAD_CHECK, faultS: 1 });
    expect(d.push(chunk([5, 5, 5]), 0, 1)).toBe('flat-line');
  });

  it('calls a lead off where the device marks its samples invalid, and saturated where it sits clipped at one value', () => {
    const d = new LeadCheck({ ...DEFAULT_LEAD_CHECK, faultS: 1 });
    expect(d.push(chunk([Number.NaN, Number.NaN, 0.3, Number.NaN]), 0, 1)).toBe('lead-off');
    expect(d.push(chunk([0.1, 0.4, 0.2, Number.NaN]), 1, 2)).toBeUndefined(); // mostly valid again
    const clipped = [
      ...Array.from({ length: 30 }, () => 6.4),
      0.2,
      1.5,
      3.1,
      5.5,
      ...Array.from({ length: 30 }, () => 6.4),
    ];
    expect(d.push(chunk(clipped), 2, 3)).toBe('saturation');
    // a plain ECG chunk: its highest value is one sample, however coarse the resolution
    const ecg = [0, 0.01, 0.02, 0.01, 0, 0.2, 1.2, -0.3, 0, 0.05, 0.1, 0.15, 0.1, 0.05, 0];
    expect(chunkFault(chunk(ecg), DEFAULT_LEAD_CHECK)).toBeUndefined();
  });

  it('refuses a configuration it cannot judge by', () => {
    expect(() => new LeadCheck({ ...DEFAULT_LEAD_CHECK, flatMv: 0 })).toThrow(ConfigError);
    expect(() => new LeadCheck({ ...DEFAULT_LEAD_CHECK, faultS: Number.NaN })).toThrow(/flatMv and faultS/);
    expect(() => new LeadCheck({ ...DEFAULT_LEAD_CHECK, invalidShare: 0 })).toThrow(/invalidShare/);
  });
});

describe('QrsConfirmation', () => {
  it('confirms complexes of the usual polarity and at least half the usual size, once it knows the usual', () => {
    const c = new QrsConfirmation();
    expect(c.push([peak(1)])).toEqual([]); // nothing known yet
    expect(c.push([peak(1.1), peak(0.9)]).map((p) => p.amplitude)).toEqual([1.1, 0.9]);
    expect(c.push([peak(0.2)])).toEqual([]); // a blip of noise
    expect(c.push([peak(-1)])).toEqual([]); // the other polarity
    expect(c.push([peak(0.6)]).map((p) => p.amplitude)).toEqual([0.6]);
  });

  it('forgets the usual amplitude on reset', () => {
    const c = new QrsConfirmation();
    c.push([peak(1), peak(1)]);
    c.reset();
    expect(c.push([peak(1)])).toEqual([]);
  });
});
