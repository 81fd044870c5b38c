import { positivePredictivity, sensitivity } from './ec57.js';
import { percentile, type QrsRecordResult } from './qrsEval.js';

export interface QrsRecordRow {
  readonly record: string;
  readonly lead: string;
  readonly beats: number;
  readonly tp: number;
  readonly fn: number;
  readonly fp: number;
  readonly se: number;
  readonly ppv: number;
  readonly searchBack: number;
  readonly excludedVfBeats: number;
}

/** The figures `npm run eval:qrs -- --json` prints. */
export interface QrsReport {
  readonly records: QrsRecordRow[];
  readonly gross: { se: number; ppv: number; tp: number; fn: number; fp: number };
  readonly delayMs: { p50: number; p99: number; max: number };
  /** The five records with the most errors (FN + FP). */
  readonly worst: QrsRecordRow[];
  readonly matchWindowMs: number;
  readonly vfEpisodesScored: boolean;
  readonly signalSeconds: number;
}

const round = (x: number, digits: number): number => Number(x.toFixed(digits));

export function summariseQrs(results: readonly QrsRecordResult[], vfEpisodesScored: boolean): QrsReport {
  const records = results.map((r): QrsRecordRow => ({
    record: r.record,
    lead: r.lead,
    beats: r.referenceBeats,
    tp: r.score.tp,
    fn: r.score.fn,
    fp: r.score.fp,
    se: round(sensitivity(r.score), 3),
    ppv: round(positivePredictivity(r.score), 3),
    searchBack: r.detections.filter((d) => d.searchBack).length,
    excludedVfBeats: r.score.excludedReference,
  }));
  const tp = records.reduce((a, r) => a + r.tp, 0);
  const fn = records.reduce((a, r) => a + r.fn, 0);
  const fp = records.reduce((a, r) => a + r.fp, 0);
  const delays = Float64Array.from(results.flatMap((r) => Array.from(r.delaysMs)));
  const worst = [...records].sort((a, b) => b.fn + b.fp - (a.fn + a.fp)).slice(0, 5);
  return {
    records,
    gross: { se: round(sensitivity({ tp, fn }), 3), ppv: round(positivePredictivity({ tp, fp }), 3), tp, fn, fp },
    delayMs: {
      p50: round(percentile(delays, 50), 1),
      p99: round(percentile(delays, 99), 1),
      max: round(percentile(delays, 100), 1),
    },
    worst,
    matchWindowMs: 150,
    vfEpisodesScored,
    signalSeconds: round(
      results.reduce((a, r) => a + r.durationS, 0),
      1,
    ),
  };
}

export function formatQrsReport(report: QrsReport): string {
  const pad = (s: string | number, n: number): string => String(s).padStart(n);
  const lines = [
    `${'record'.padEnd(7)}${pad('lead', 6)}${pad('beats', 7)}${pad('TP', 7)}${pad('FN', 5)}${pad('FP', 5)}${pad('Se %', 9)}${pad('+P %', 9)}`,
  ];
  for (const r of report.records) {
    lines.push(
      `${r.record.padEnd(7)}${pad(r.lead, 6)}${pad(r.beats, 7)}${pad(r.tp, 7)}${pad(r.fn, 5)}${pad(r.fp, 5)}${pad(r.se.toFixed(3), 9)}${pad(r.ppv.toFixed(3), 9)}`,
    );
  }
  const g = report.gross;
  lines.push(
    '',
    `gross   TP ${g.tp}  FN ${g.fn}  FP ${g.fp}  Se ${g.se.toFixed(3)} %  +P ${g.ppv.toFixed(3)} %` +
      `  (EC57, ${report.matchWindowMs} ms window, VF episodes ${report.vfEpisodesScored ? 'scored' : 'excluded'})`,
    `delay   p50 ${report.delayMs.p50} ms  p99 ${report.delayMs.p99} ms  max ${report.delayMs.max} ms (R-peak sample arrival to emission)`,
    `worst   ${report.worst.map((r) => `${r.record} (FN ${r.fn}, FP ${r.fp})`).join(', ')}`,
  );
  return lines.join('\n');
}
