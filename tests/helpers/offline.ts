import { expect } from 'vitest';
import { EcgFrontEnd, MODEL_HZ } from '../../stream/dsp/index.js';
import { mitdbDir, monitoringLeadIndex, readRecord, toPhysical } from '../../stream/wfdb/index.js';
import { repeats } from './kafkaTopics.js';

/** The R peaks (source samples) the offline front end finds in a record's first `seconds`. */
export async function offlineRPeaks(record: string, seconds: number): Promise<number[]> {
  const r = await readRecord(mitdbDir(), record);
  const fs = r.header.samplingFrequency;
  const lead = toPhysical(r.signals[monitoringLeadIndex(r.header)]!).subarray(0, seconds * fs);
  return new EcgFrontEnd({ sourceHz: fs }).push(lead).windows.map((w) => Math.round((w.rPeak * fs) / MODEL_HZ));
}

/** Each bed's offline R peaks over its first `seconds`, and their total. */
export async function offlineBeds(
  beds: readonly { bedId: string; record: string }[],
  seconds: number,
): Promise<{ expected: Map<string, number[]>; total: number }> {
  const expected = new Map<string, number[]>();
  for (const bed of beds) expected.set(bed.bedId, await offlineRPeaks(bed.record, seconds));
  return { expected, total: [...expected.values()].reduce((n, p) => n + p.length, 0) };
}

/** The published beats are the offline ones, bed by bed and sample for sample, none twice. */
export function expectOfflineBeats(
  published: readonly { bedId: string; rPeakSample: number }[],
  expected: ReadonlyMap<string, number[]>,
): void {
  expect(repeats(published, (b) => `${b.bedId}/${b.rPeakSample}`)).toEqual([]);
  for (const [bedId, peaks] of expected) {
    expect(
      published.filter((b) => b.bedId === bedId).map((b) => b.rPeakSample),
      bedId,
    ).toEqual(peaks);
  }
}
