import { describe, expect, it } from 'vitest';
import { DEFAULT_SYNTH, parseSynthEvents, synthesizeRecord } from '../../simulators/synth.js';
import { DEFAULT_VF_DETECTOR, EcgFrontEnd, MODEL_HZ, VfDetector } from '../../stream/dsp/index.js';
import { mitdbDir, monitoringLeadIndex, readAnnotations, readRecord, toPhysical } from '../../stream/wfdb/index.js';

const detector = () => new VfDetector({ ...DEFAULT_VF_DETECTOR, fs: MODEL_HZ });
const filtered = (x: Float32Array, fs: number) => new EcgFrontEnd({ sourceHz: fs }).push(x).samples;

describe('VfDetector (VF filter leakage)', () => {
  it('calls a sustained 4.5 Hz oscillation VF after six windows, and its end', () => {
    const x = new Float32Array(30 * MODEL_HZ);
    for (let i = 10 * MODEL_HZ; i < 25 * MODEL_HZ; i++) x[i] = 0.4 * Math.sin((2 * Math.PI * 4.5 * i) / MODEL_HZ);
    const changes = detector().push(x);
    expect(changes.map((c) => c.active)).toEqual([true, false]);
    expect(changes[0]!.onset / MODEL_HZ).toBeCloseTo(10, 0);
    expect(changes[0]!.at / MODEL_HZ).toBeLessThan(10 + 4 + 6);
    expect(changes[1]!.at / MODEL_HZ).toBeLessThanOrEqual(25 + 4);
  });

  it('says a window is VF-like as soon as one is, long before the alarm', () => {
    const d = detector();
    expect(d.vfLike).toBe(false);
    const x = Float32Array.from({ length: 5 * MODEL_HZ }, (_, i) => 0.4 * Math.sin((2 * Math.PI * 4.5 * i) / MODEL_HZ));
    expect(d.push(x)).toEqual([]); // one window judged, no alarm yet
    expect(d.vfLike).toBe(true);
    d.push(new Float32Array(5 * MODEL_HZ));
    expect(d.vfLike).toBe(false);
  });

  it('measures the leakage over any kept stretch: near 0 for a sinusoid, high for separate QRS-like spikes', () => {
    const d = detector();
    const n = 20 * MODEL_HZ;
    const x = Float32Array.from({ length: n }, (_, i) =>
      i < n / 2 ? Math.sin((2 * Math.PI * 3.5 * i) / MODEL_HZ) : i % MODEL_HZ < 8 ? 1 : 0,
    );
    d.push(x);
    expect(d.leakageOver(n / 2 - 2 * MODEL_HZ, n / 2)).toBeLessThan(0.05);
    expect(d.leakageOver(n - 2 * MODEL_HZ, n)).toBeGreaterThan(0.8);
    // older than the 16 s kept, or shorter than half a second: not measured
    expect(d.leakageOver(2 * MODEL_HZ, 4 * MODEL_HZ)).toBeUndefined();
    expect(d.leakageOver(n - 10, n)).toBeUndefined();
  });

  it('stays quiet on sinus rhythm, ectopy and AF (synthetic) and on a flat line', () => {
    const { record } = synthesizeRecord({ ...DEFAULT_SYNTH, events: parseSynthEvents('demo') });
    expect(detector().push(filtered(toPhysical(record.signals[0]!), DEFAULT_SYNTH.sampleRate))).toEqual([]);
    expect(detector().push(new Float32Array(20 * MODEL_HZ))).toEqual([]);
  });

  it('finds the ventricular flutter of MIT-BIH record 207, fed in small chunks', async () => {
    const r = await readRecord(mitdbDir(), '207');
    const x = filtered(toPhysical(r.signals[monitoringLeadIndex(r.header)]!), 360);
    const d = detector();
    const changes = [];
    for (let i = 0; i < x.length; i += 31) changes.push(...d.push(x.subarray(i, i + 31)));
    const flutter = (await readAnnotations(mitdbDir(), '207'))
      .filter((a) => a.aux.startsWith('(VFL'))
      .map((a) => a.sample / 360);
    const onsets = changes.filter((c) => c.active).map((c) => c.onset / MODEL_HZ);
    const caught = flutter.filter((start) => onsets.some((o) => o >= start - 2 && o < start + 60));
    expect(caught.length).toBeGreaterThanOrEqual(flutter.length - 1);
  });
});
