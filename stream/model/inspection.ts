import { type DecisionReason } from '../contracts/decisions.js';
import { AAMI_CLASSES, aamiClass, type AamiClass } from '../contracts/aami.js';
import { median, pearson } from '../dsp/index.js';
import { buildBeatSet } from './dataset.js';
import { decideBeatSet } from './beatFamilies.js';
import { ruleOf } from './decision.js';
import { beatRhythmOf, RR_FEATURES } from './features.js';
import { beatSetInputs, predictProbabilities, windowLayoutOf } from './inference.js';
import { loadModel } from './io.js';
import {
  isQrsCode,
  monitoringLeadIndex,
  readAnnotations,
  readRecord,
  secondLeadIndex,
  type Annotation,
} from '../wfdb/index.js';

/** QRS stretch compared with the patient's normal beats: 100 ms before the R peak, 150 ms after. */
const QRS_BEFORE_S = 0.1;
const QRS_AFTER_S = 0.15;
/** How far back the patient's normal beats are taken from: long enough for a stable median. */
const TEMPLATE_HISTORY_S = 60;
/** Fewer normal beats than this make no template (the correlation is then null). */
const MIN_TEMPLATE_BEATS = 5;

/**
 * How much a beat's QRS looks like the patient's own normal beats in one recorded lead. The
 * template is the sample-wise median of the QRS of the reference beats of AAMI class N in the
 * minute before the beat, so it follows the patient, not a population.
 *
 * This is what a cardiologist's eye does when calling a beat ventricular: a wide complex of
 * another shape. A beat labelled V whose QRS correlates highly with the normal template in
 * every lead cannot be told from N by its shape; only its timing can set it apart.
 */
export function qrsCorrelationToNormal(
  signal: ArrayLike<number>,
  fs: number,
  beatSample: number,
  reference: readonly Annotation[],
): number | null {
  const before = Math.round(QRS_BEFORE_S * fs);
  const after = Math.round(QRS_AFTER_S * fs);
  if (beatSample - before < 0 || beatSample + after > signal.length) return null;
  const normals = reference.filter(
    (a) =>
      a.sample < beatSample &&
      a.sample >= beatSample - TEMPLATE_HISTORY_S * fs &&
      a.sample - before >= 0 &&
      aamiClass(a.symbol) === 'N',
  );
  if (normals.length < MIN_TEMPLATE_BEATS) return null;
  const segments = normals.map((a) => qrsSegment(signal, a.sample, before, after));
  const template = segments[0]!.map((_, i) => median(segments.map((s) => s[i]!)));
  return pearson(qrsSegment(signal, beatSample, before, after), template);
}

/** One reference beat of the inspected stretch. */
export interface InspectedBeat {
  readonly timeS: number;
  /** The reference annotation's symbol and its AAMI class. */
  readonly reference: string;
  readonly referenceClass: AamiClass;
  /**
   * Whether the monitor classified the beat: false when the R-peak detector missed it, or when
   * its window never completed (within 0.5 s of the record's start or 1 s of its end).
   */
  readonly classified: boolean;
  /** The model's label after its decision rule; null when the beat was not classified. */
  readonly predicted: AamiClass | null;
  /** Which step of the rule set the label (DecisionReason); null when the beat was not classified. */
  readonly reason: DecisionReason | null;
  readonly probabilities: Readonly<Record<AamiClass, number>> | null;
  /** p(V) after the family vote of the model's rule (its own p(V) without one); null when not classified. */
  readonly votedV: number | null;
  /**
   * RR before the beat, the recent mean (8 intervals) and the baseline (200), s, the RR as a
   * share of each, the rhythm irregularity before it, the interval after it as a share of its
   * RR (Infinity: none within the wait; NaN: not known; `--json` writes both as strings), and the
   * recent beats' P-wave agreement (NaN: none before it) (the decision rule's inputs).
   */
  readonly rr: {
    readonly previousS: number;
    readonly meanS: number;
    readonly ratio: number;
    readonly baselineS: number;
    readonly baselineRatio: number;
    readonly irregularity: number;
    readonly nextRatio: number;
    readonly pWaves: number;
  } | null;
  /** Correlation of the QRS with the patient's normal template, per lead name. */
  readonly normalCorrelation: Readonly<Record<string, number | null>>;
}

/**
 * The reference beats of `record` between `from` and `to` seconds with what the classifier in
 * `modelDir` made of them. Beats are cut by the same front end and matched by the same EC57
 * matcher as training and the live pipeline (`buildBeatSet`), so these are the inputs the
 * monitor sees.
 */
export async function inspectBeats(
  dir: string,
  record: string,
  from: number,
  to: number,
  modelDir: string,
  cacheDir = 'out/cache',
): Promise<InspectedBeat[]> {
  const { model, metadata } = await loadModel(modelDir);
  const layout = windowLayoutOf(metadata);
  const [wfdb, annotations, set] = await Promise.all([
    readRecord(dir, record),
    readAnnotations(dir, record),
    buildBeatSet(dir, [record], { cacheDir, frontEnd: { window: layout.cut } }),
  ]);
  const fs = wfdb.header.samplingFrequency;
  const reference = annotations.filter((a) => isQrsCode(a.code));
  const inRange = (sample: number): boolean => sample / fs >= from && sample / fs <= to;
  // every detection from the record's start is decided, in order, the unlabelled ones too, so
  // that a family vote hears what it heard live; only reference beats in range are reported
  const cut: number[] = [];
  for (let i = 0; i < set.count; i++) if (set.sourceSample[i]! / fs <= to) cut.push(i);
  const probabilities =
    cut.length > 0 ? await predictProbabilities(model, beatSetInputs(set, cut, layout)) : new Float32Array();
  const decisions = decideBeatSet(ruleOf(metadata), set, cut, probabilities);
  const K = AAMI_CLASSES.length;
  // a labelled beat carries the reference beat it matched (aamiClass); unlabelled ones carry NaN
  const inspected = reference.filter((a) => inRange(a.sample) && aamiClass(a.symbol) !== undefined);
  const cutOf = new Map(cut.map((i, k) => [set.referenceSample[i]!, k]));
  return inspected.map((a) => {
    const k = cutOf.get(a.sample) ?? -1;
    const i = cut[k];
    const rr = i === undefined ? undefined : set.rr.subarray(i * RR_FEATURES, (i + 1) * RR_FEATURES);
    const rhythm = i === undefined ? undefined : beatRhythmOf(set, i);
    return {
      timeS: a.sample / fs,
      reference: a.symbol,
      referenceClass: aamiClass(a.symbol)!,
      classified: i !== undefined,
      predicted: i === undefined ? null : AAMI_CLASSES[decisions[k]!.label]!,
      reason: i === undefined ? null : decisions[k]!.reason,
      votedV: i === undefined ? null : decisions[k]!.votedV,
      probabilities:
        rr === undefined
          ? null
          : (Object.fromEntries(AAMI_CLASSES.map((c, j) => [c, probabilities[k * K + j]!])) as Record<
              AamiClass,
              number
            >),
      rr:
        rr === undefined || rhythm === undefined
          ? null
          : {
              previousS: rr[0]!,
              meanS: rr[1]!,
              ratio: rhythm.recent,
              baselineS: set.rrBaseline[i!]!,
              baselineRatio: rhythm.baseline,
              irregularity: rhythm.irregularity,
              nextRatio: rhythm.next,
              pWaves: rhythm.pWaves,
            },
      normalCorrelation: Object.fromEntries(
        wfdb.header.signals.map((spec, lead) => [
          spec.description.trim() || `lead ${lead}`,
          qrsCorrelationToNormal(wfdb.signals[lead]!.digital, fs, a.sample, reference),
        ]),
      ),
    };
  });
}

/** A QRS correlating above this with the patient's normal template has a normal shape. */
const NORMAL_SHAPE_R = 0.9;
/** ... and below this, another shape. */
const OTHER_SHAPE_R = 0.5;

/** How the beats of one class of a record look in the monitoring lead and in the other lead. */
export interface LeadShapeSummary {
  readonly record: string;
  readonly otherLead: string;
  /** Beats of the class with a template in both leads. */
  readonly beats: number;
  /** Of those, beats whose QRS has the normal shape in the monitoring lead (MLII). */
  readonly normalShapeInMonitoringLead: number;
  /** Of the previous, beats whose QRS has another shape in the other lead. */
  readonly otherShapeInOtherLead: number;
}

/**
 * Counts the reference beats of class `cls` that the monitoring lead shows with the patient's
 * normal QRS shape and the other lead does not: what a classifier given only the monitoring
 * lead cannot see and a second lead could.
 */
export async function leadShapeSummary(dir: string, record: string, cls: AamiClass): Promise<LeadShapeSummary> {
  const [wfdb, annotations] = await Promise.all([readRecord(dir, record), readAnnotations(dir, record)]);
  const fs = wfdb.header.samplingFrequency;
  const reference = annotations.filter((a) => isQrsCode(a.code));
  const monitoring = monitoringLeadIndex(wfdb.header);
  const other = secondLeadIndex(wfdb.header) ?? -1;
  let beats = 0;
  let normalShape = 0;
  let otherShape = 0;
  for (const a of reference) {
    if (other === -1 || aamiClass(a.symbol) !== cls) continue;
    const r = [monitoring, other].map((lead) =>
      qrsCorrelationToNormal(wfdb.signals[lead]!.digital, fs, a.sample, reference),
    );
    if (r[0] === null || r[1] === null) continue;
    beats++;
    if (r[0]! <= NORMAL_SHAPE_R) continue;
    normalShape++;
    if (r[1]! < OTHER_SHAPE_R) otherShape++;
  }
  return {
    record,
    otherLead: other === -1 ? '' : wfdb.header.signals[other]!.description.trim(),
    beats,
    normalShapeInMonitoringLead: normalShape,
    otherShapeInOtherLead: otherShape,
  };
}

/** The QRS stretch with its baseline (the mean of its two ends) removed. */
function qrsSegment(signal: ArrayLike<number>, at: number, before: number, after: number): number[] {
  const out: number[] = [];
  for (let i = at - before; i < at + after; i++) out.push(signal[i]!);
  const baseline = (out[0]! + out[out.length - 1]!) / 2;
  return out.map((v) => v - baseline);
}
