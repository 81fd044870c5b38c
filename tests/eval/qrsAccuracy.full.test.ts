import { describe, expect, it } from 'vitest';
import { evaluateQrsRecord, type QrsRecordResult } from '../../stream/eval/qrsEval.js';
import { summariseQrs } from '../../stream/eval/qrsReport.js';
import { DEFAULT_RPEAK_DETECTOR } from '../../stream/dsp/index.js';
import { listRecords, mitdbDir } from '../../stream/wfdb/index.js';

// The detector's targets (docs/validation.md), scored like `npm run eval:qrs` (EC57, 150 ms, VF episodes excluded)
describe('online QRS detector on all 48 MIT-BIH records, whole length', () => {
  it('reaches Se >= 99.80 %, +P >= 99.80 % and a p99 detection delay <= 400 ms', async () => {
    const dir = mitdbDir();
    const results: QrsRecordResult[] = [];
    for (const record of await listRecords(dir)) results.push(await evaluateQrsRecord(dir, record));
    const report = summariseQrs(results, false);
    expect(report.gross.tp + report.gross.fn).toBe(109494 - results.reduce((n, r) => n + r.score.excludedReference, 0));
    expect(report.gross.se).toBeGreaterThanOrEqual(99.8);
    expect(report.gross.ppv).toBeGreaterThanOrEqual(99.8);
    expect(report.delayMs.p99).toBeLessThanOrEqual(400);
    // no record may collapse even if the totals hold
    for (const r of report.records) expect(r.se, `record ${r.record}`).toBeGreaterThan(97);
    // no interval shorter than the refractory period, which no heart makes (without the refractory
    // bound on where the R wave is located, the R wave of a second integrator peak could be located 40 ms after the first one's)
    const refractory = DEFAULT_RPEAK_DETECTOR.refractoryS;
    const tooShort = results.flatMap((r) =>
      r.detections.flatMap((d, i) => {
        const rr = i === 0 ? Infinity : (d.sourceSample - r.detections[i - 1]!.sourceSample) / r.fs;
        return rr < refractory - 1e-9
          ? [`${r.record} at ${(d.sourceSample / r.fs).toFixed(2)} s: ${rr.toFixed(3)} s`]
          : [];
      }),
    );
    expect(tooShort).toEqual([]);
  });
});
