import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../stream/contracts/errors.js';
import { FlatLineDetector, QrsConfirmation, type DetectedPeak } from '../../stream/dsp/index.js';

const chunk = (values: number[]) => Float32Array.from(values);
const peak = (amplitude: number): DetectedPeak => ({ index: 0, sourceSample: 0, amplitude }) as DetectedPeak;

describe('FlatLineDetector', () => {
  it('calls the lead off once its range has stayed under flatMv for flatS, and on as soon as it moves', () => {
    const d = new FlatLineDetector({ flatMv: 0.02, flatS: 2 });
    expect(d.push(chunk([0.5, -0.3, 1.1]), 0, 1)).toBe(false);
    expect(d.push(chunk([0.001, 0.002, 0]), 1, 2)).toBe(false); // flat for 1 s
    expect(d.flatNow).toBe(true);
    expect(d.push(chunk([0.001, 0.002, 0]), 2, 2.5)).toBe(false); // 1.5 s
    expect(d.push(chunk([0.001, 0.002, 0]), 2.5, 3)).toBe(true); // 2 s
    expect(d.push(chunk([0, 0.5, 0]), 3, 3.5)).toBe(false);
    expect(d.flatNow).toBe(false);
  });

  it('sees a lead stuck at a rail as flat too: the range matters, not the level', () => {
    const d = new FlatLineDetector({ flatMv: 0.02, flatS: 1 });
    expect(d.push(chunk([5, 5, 5]), 0, 1)).toBe(true);
  });

  it('refuses a configuration it cannot judge by', () => {
    expect(() => new FlatLineDetector({ flatMv: 0, flatS: 2 })).toThrow(ConfigError);
    expect(() => new FlatLineDetector({ flatMv: 0.02, flatS: Number.NaN })).toThrow(/flatMv and flatS/);
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
