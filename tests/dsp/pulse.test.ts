import { describe, expect, it } from 'vitest';
import { DEFAULT_PULSE_DETECTOR, PulseDetector } from '../../stream/dsp/pulse.js';
import { ConfigError } from '../../stream/contracts/errors.js';
import { readRecord, recordSignals, sharedDataDir, toPhysical } from '../../stream/wfdb/index.js';

const FS = 250;

/** A pleth-like pulse train: a steep upstroke, a slower fall and a dicrotic notch, at `bpm`. */
function plethAt(bpm: number, seconds: number, noise = 0): Float32Array {
  const period = (60 / bpm) * FS;
  let seed = 7;
  const random = (): number => ((seed = (seed * 16807) % 2147483647) / 2147483647 - 0.5) * 2;
  return Float32Array.from({ length: seconds * FS }, (_, n) => {
    const phase = (n % period) / period;
    const beat = phase < 0.15 ? Math.sin((phase / 0.15) * (Math.PI / 2)) : Math.exp(-(phase - 0.15) * 4);
    const notch = 0.1 * Math.exp(-(((phase - 0.45) / 0.03) ** 2));
    return 50 + 20 * (beat + notch) + noise * random();
  });
}

const pulsesOf = (x: Float32Array, chunk: number): number[] => {
  const d = new PulseDetector({ ...DEFAULT_PULSE_DETECTOR, fs: FS });
  const out: number[] = [];
  for (let i = 0; i < x.length; i += chunk) out.push(...d.push(x.subarray(i, i + chunk)).map((p) => p.sample));
  return out;
};

describe('PulseDetector (slope sum)', () => {
  it('finds one pulse per beat of a pleth, whatever the chunking, and none in a flat or missing signal', () => {
    const x = plethAt(72, 30, 0.5);
    const pulses = pulsesOf(x, 62);
    // after the 3 s of learning, every beat once: 27 s at 72 bpm
    expect(pulses.length).toBeGreaterThanOrEqual(31);
    expect(pulses.length).toBeLessThanOrEqual(33);
    const rr = pulses.slice(1).map((p, i) => (p - pulses[i]!) / FS);
    for (const interval of rr) expect(interval).toBeCloseTo(60 / 72, 1);
    expect(pulsesOf(x, 1)).toEqual(pulses);
    expect(pulsesOf(x, 1000)).toEqual(pulses);
    expect(pulsesOf(new Float32Array(10 * FS).fill(50), 62)).toEqual([]);
    expect(pulsesOf(new Float32Array(10 * FS).fill(Number.NaN), 62)).toEqual([]);
  });

  it('follows a rate that changes, and finds the pulse again after a stretch without one', () => {
    const x = new Float32Array([...plethAt(60, 10), ...new Float32Array(8 * FS).fill(50), ...plethAt(120, 10)]);
    const pulses = pulsesOf(x, 62).map((p) => p / FS);
    expect(pulses.filter((t) => t > 10 && t < 18)).toEqual([]);
    // the last 5 s: 120 bpm
    expect(pulses.filter((t) => t > 23).length).toBeGreaterThanOrEqual(9);
  });

  it('reads the arterial pressure of a CinC 2015 record at the rate of its ECG', async () => {
    // a109l: a false asystole alarm; the ABP shows the heart beating at about 60 bpm throughout
    const r = await readRecord(sharedDataDir('cinc2015'), 'a109l');
    const abp = recordSignals(r.header).findIndex((s) => s.kind === 'abp');
    const x = toPhysical(r.signals[abp]!).subarray(0, 300 * FS);
    const last = pulsesOf(x, 62)
      .map((p) => p / FS)
      .filter((t) => t >= 280);
    expect(last.length).toBeGreaterThanOrEqual(18);
    expect(last.length).toBeLessThanOrEqual(23);
  });

  it('refuses a rate too low for its filter', () => {
    expect(() => new PulseDetector({ ...DEFAULT_PULSE_DETECTOR, fs: 20 })).toThrow(ConfigError);
  });
});
