import { EcgFrontEnd, type DetectedPeak, type EcgFrontEndConfig } from '../dsp/index.js';
import {
  VF_END_CODE,
  VF_ONSET_CODE,
  isQrsCode,
  monitoringLeadIndex,
  readAnnotations,
  readRecord,
  toPhysical,
  type Annotation,
} from '../wfdb/index.js';
import { Ec57Matcher, type Ec57Result, type ExcludedInterval } from './ec57.js';

export interface QrsRecordResult {
  readonly record: string;
  readonly fs: number;
  readonly lead: string;
  readonly referenceBeats: number;
  readonly detections: DetectedPeak[];
  readonly score: Ec57Result;
  /** Detection delays in ms, one per detection. */
  readonly delaysMs: Float64Array;
  /** Seconds of signal processed. */
  readonly durationS: number;
}

export interface QrsEvalOptions {
  readonly frontEnd?: Omit<EcgFrontEndConfig, 'sourceHz'>;
  /** Score inside ventricular flutter/fibrillation episodes too (EC57 leaves them out). */
  readonly scoreVf?: boolean;
  /** Chunk size fed to the front end, in source samples (the result must not depend on it). */
  readonly chunkSamples?: number;
}

/** Reference VF episodes: from each '[' to the next ']' (or the end of the record). */
export function vfEpisodes(annotations: readonly Annotation[], length: number): ExcludedInterval[] {
  const out: ExcludedInterval[] = [];
  let onset: number | undefined;
  for (const a of annotations) {
    if (a.code === VF_ONSET_CODE && onset === undefined) onset = a.sample;
    else if (a.code === VF_END_CODE && onset !== undefined) {
      out.push({ start: onset, end: a.sample + 1 });
      onset = undefined;
    }
  }
  if (onset !== undefined) out.push({ start: onset, end: length });
  return out;
}

/** Replays the monitoring lead of one record through the online front end and scores it. */
export async function evaluateQrsRecord(
  dir: string,
  record: string,
  options: QrsEvalOptions = {},
): Promise<QrsRecordResult> {
  const [wfdb, annotations] = await Promise.all([readRecord(dir, record), readAnnotations(dir, record)]);
  const leadIndex = monitoringLeadIndex(wfdb.header);
  const signal = wfdb.signals[leadIndex];
  if (signal === undefined) throw new Error(`${record}: record has no signals`);
  const fs = wfdb.header.samplingFrequency;
  const physical = toPhysical(signal);
  const frontEnd = new EcgFrontEnd({ ...options.frontEnd, sourceHz: fs });
  const chunk = options.chunkSamples ?? Math.round(fs / 4);
  const detections: DetectedPeak[] = [];
  for (let start = 0; start < physical.length; start += chunk) {
    detections.push(...frontEnd.push(physical.subarray(start, start + chunk)).peaks);
  }
  const reference = annotations.filter((a) => isQrsCode(a.code)).map((a) => a.sample);
  const matcher = new Ec57Matcher({
    fs,
    windowS: 0.15,
    excluded: options.scoreVf === true ? [] : vfEpisodes(annotations, physical.length),
  });
  const score = matcher.match(
    reference,
    detections.map((d) => d.sourceSample),
  );
  const delaysMs = Float64Array.from(detections, (d) => ((d.decidedAtSource - d.sourceSample) * 1000) / fs);
  return {
    record,
    fs,
    lead: signal.spec.description,
    referenceBeats: reference.length,
    detections,
    score,
    delaysMs,
    durationS: physical.length / fs,
  };
}

/** Percentile (0..100) by nearest rank of an unsorted sample. */
export function percentile(values: Float64Array | readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}
