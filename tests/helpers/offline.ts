import { EcgFrontEnd, MODEL_HZ } from '../../stream/dsp/index.js';
import { mitdbDir, monitoringLeadIndex, readRecord, toPhysical } from '../../stream/wfdb/index.js';

/** The R peaks (source samples) the offline front end finds in a record's first `seconds`. */
export async function offlineRPeaks(record: string, seconds: number): Promise<number[]> {
  const r = await readRecord(mitdbDir(), record);
  const fs = r.header.samplingFrequency;
  const lead = toPhysical(r.signals[monitoringLeadIndex(r.header)]!).subarray(0, seconds * fs);
  return new EcgFrontEnd({ sourceHz: fs }).push(lead).windows.map((w) => Math.round((w.rPeak * fs) / MODEL_HZ));
}
