import { expect } from 'vitest';
import { DEFAULT_BEAT_WINDOW, EcgFrontEnd, MODEL_HZ } from '../../stream/dsp/index.js';
import { Ec57Matcher } from '../../stream/eval/ec57.js';
import { mitdbDir, monitoringLeadIndex, readRecord, toPhysical } from '../../stream/wfdb/index.js';
import { repeats } from './kafkaTopics.js';

/** Every MIT-BIH record is sampled at 360 Hz. */
export const MITDB_HZ = 360;

/** The windows a classifier has its beds cut (`WindowLayout.cut`). */
export type CutWindow = { readonly length: number; readonly rIndex: number };

/**
 * The R peaks (source samples) whose windows the offline front end cuts in a record's first
 * `seconds`, windows cut as `window` (the classifier's: it decides which beats near the start
 * and the end have a whole window).
 */
export async function offlineRPeaks(
  record: string,
  seconds: number,
  window: CutWindow = DEFAULT_BEAT_WINDOW,
): Promise<number[]> {
  const r = await readRecord(mitdbDir(), record);
  const fs = r.header.samplingFrequency;
  const lead = toPhysical(r.signals[monitoringLeadIndex(r.header)]!).subarray(0, seconds * fs);
  return new EcgFrontEnd({ sourceHz: fs, window: { length: window.length, rIndex: window.rIndex } })
    .push(lead)
    .windows.map((w) => Math.round((w.rPeak * fs) / MODEL_HZ));
}

/** Each bed's offline R peaks over its first `seconds` (windows cut as `window`), and their total. */
export async function offlineBeds(
  beds: readonly { bedId: string; record: string }[],
  seconds: number,
  window: CutWindow = DEFAULT_BEAT_WINDOW,
): Promise<{ expected: Map<string, number[]>; total: number }> {
  const expected = new Map<string, number[]>();
  for (const bed of beds) expected.set(bed.bedId, await offlineRPeaks(bed.record, seconds, window));
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

/**
 * Beats the uninterrupted detector did not find that a rebuilt one may add, as a share of a
 * bed's beats. Measured offline by restarting the front end every 4 s from 20 to 140 s into the
 * first 3 minutes of records 203, 208, 119 and 105: 0 to 6 extra beats in 203's 302 (noisy, with
 * multiform PVCs), none in the others, and never a beat missed.
 */
const REBUILT_DETECTOR_DISAGREEMENT = 0.02;

/**
 * No beat lost or repeated across a worker's restart or a rebalance. A bed taken over is
 * rebuilt from 20 s of signal: its filters and thresholds converge to those of the detector
 * that ran from the start, but not to the last bit, so a borderline complex later on may go
 * the other way. Hence: every offline beat is published (within EC57's 150 ms), in order,
 * never twice (nor two beats of a bed within 150 ms where the offline detector has one), and
 * the rebuilt detector adds at most 2 % of a bed's beats.
 */
export function expectNoBeatLostOrRepeated(
  published: readonly { bedId: string; rPeakSample: number }[],
  expected: ReadonlyMap<string, number[]>,
  sampleRate: number,
): void {
  expect(repeats(published, (b) => `${b.bedId}/${b.rPeakSample}`)).toEqual([]);
  const matcher = new Ec57Matcher({ fs: sampleRate, windowS: 0.15, excluded: [] });
  const sameBeat = 0.15 * sampleRate;
  const secondOfClosePair = (peaks: readonly number[]) =>
    peaks.filter((t, i) => i > 0 && t - peaks[i - 1]! <= sameBeat);
  for (const [bedId, peaks] of expected) {
    const bed = published.filter((b) => b.bedId === bedId).map((b) => b.rPeakSample);
    // two beats this close are one beat published twice, unless the detector itself found both
    const doubled = secondOfClosePair(peaks);
    const tooClose = secondOfClosePair(bed).filter((t) => !doubled.some((o) => Math.abs(o - t) <= sameBeat));
    expect(tooClose, `${bedId}: beats published twice`).toEqual([]);
    const result = matcher.match(peaks, bed);
    expect(
      result.missed.map((i) => peaks[i]),
      `${bedId}: offline beats never published`,
    ).toEqual([]);
    expect(result.fp, `${bedId}: beats only the rebuilt detector found`).toBeLessThanOrEqual(
      Math.ceil(REBUILT_DETECTOR_DISAGREEMENT * peaks.length),
    );
  }
}
