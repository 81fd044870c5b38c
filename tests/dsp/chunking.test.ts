import { describe, expect, it } from 'vitest';
import { EcgFrontEnd, type FrontEndOutput } from '../../stream/dsp/index.js';
import { mitdbDir, monitoringLeadIndex, readRecord, toPhysical } from '../../stream/wfdb/index.js';

async function lead(record: string): Promise<Float32Array> {
  const r = await readRecord(mitdbDir(), record);
  return toPhysical(r.signals[monitoringLeadIndex(r.header)]!);
}

function run(signal: Float32Array, chunk: number) {
  const fe = new EcgFrontEnd({ sourceHz: 360 });
  const outputs: FrontEndOutput[] = [];
  for (let i = 0; i < signal.length; i += chunk) outputs.push(fe.push(signal.subarray(i, i + chunk)));
  return {
    samples: outputs.reduce((n, o) => n + o.samples.length, 0),
    peaks: outputs.flatMap((o) => o.peaks),
    windows: outputs.flatMap((o) => o.windows),
  };
}

describe('output does not depend on how the input is chunked (whole real records)', () => {
  // 208: frequent PVCs and fusion beats; 203: noise, multiform PVCs and atrial flutter
  it.each(['208', '203'])('record %s: one sample, 250 ms and 10 s at a time', async (record) => {
    const signal = await lead(record);
    const reference = run(signal, 3600);
    expect(reference.peaks.length).toBeGreaterThan(2500);
    for (const chunk of [1, 90]) {
      const other = run(signal, chunk);
      expect(other.samples).toBe(reference.samples);
      expect(other.peaks).toEqual(reference.peaks);
      expect(other.windows.length).toBe(reference.windows.length);
      other.windows.forEach((w, i) => {
        const r = reference.windows[i]!;
        expect(w.rPeak).toBe(r.rPeak);
        expect(w.rrPrevious).toBe(r.rrPrevious);
        expect(w.rrMean).toBe(r.rrMean);
        expect(w.rrBaseline).toBe(r.rrBaseline);
        expect(w.rrIrregularity).toBe(r.rrIrregularity);
        expect(w.rrNext).toBe(r.rrNext);
        expect(Buffer.from(w.template.buffer).equals(Buffer.from(r.template.buffer))).toBe(true);
        expect(Buffer.from(w.samples.buffer).equals(Buffer.from(r.samples.buffer))).toBe(true);
      });
    }
  });
});
