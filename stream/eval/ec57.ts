/** A half-open interval of source samples [start, end) excluded from scoring. */
export interface ExcludedInterval {
  readonly start: number;
  readonly end: number;
}

export interface Ec57Config {
  /** Sampling frequency of both annotation sets, Hz. */
  readonly fs: number;
  /** Match window, s: ANSI/AAMI EC57 uses 150 ms. */
  readonly windowS: number;
  /** Reference intervals not scored beat by beat (EC57: ventricular flutter/fibrillation). */
  readonly excluded: readonly ExcludedInterval[];
}

export interface Ec57Match {
  readonly reference: number;
  readonly detection: number;
}

export interface Ec57Result {
  readonly tp: number;
  readonly fn: number;
  readonly fp: number;
  readonly matches: Ec57Match[];
  /** Reference beats never matched (indices into the reference array). */
  readonly missed: number[];
  /** Detections never matched (indices into the detection array). */
  readonly extra: number[];
  /** Reference beats and detections left out because they fall in an excluded interval. */
  readonly excludedReference: number;
  readonly excludedDetections: number;
}

export function sensitivity(r: Pick<Ec57Result, 'tp' | 'fn'>): number {
  return r.tp + r.fn === 0 ? 100 : (100 * r.tp) / (r.tp + r.fn);
}

export function positivePredictivity(r: Pick<Ec57Result, 'tp' | 'fp'>): number {
  return r.tp + r.fp === 0 ? 100 : (100 * r.tp) / (r.tp + r.fp);
}

/**
 * One side of a beat-by-beat comparison: an AAMI class, or `O` where the other side has a beat
 * this side lacks (bxb's pseudo-beat: a missed reference beat is `V->O`, an extra detection
 * labelled V is `O->V`).
 */
export type ComparedLabel = 'N' | 'S' | 'V' | 'F' | 'Q' | 'O';

export const COMPARED_LABELS: readonly ComparedLabel[] = ['N', 'S', 'V', 'F', 'Q', 'O'];

/** Counts of (reference, test) label pairs, keyed `${reference}->${test}`. */
export type LabelPairs = Record<string, number>;

export function addPair(pairs: LabelPairs, reference: ComparedLabel, test: ComparedLabel, n = 1): void {
  const key = `${reference}->${test}`;
  pairs[key] = (pairs[key] ?? 0) + n;
}

export interface EctopicFigures {
  /** Percent, two decimals. */
  readonly se: number;
  readonly ppv: number;
  readonly tp: number;
  readonly fn: number;
  readonly fp: number;
}

/**
 * Ventricular (VEB) and supraventricular (SVEB) ectopic beat Se and +P as ANSI/AAMI EC57 counts
 * them (PhysioNet's bxb): a reference beat of the class that was not detected counts against
 * Se, an extra detection labelled with the class against +P. Two pairs are not false
 * positives: a reference fusion beat (F) labelled V, because the standard does not ask an
 * algorithm to tell fusion from ventricular beats, and an unclassifiable reference beat (Q)
 * labelled V or S. Published inter-patient results on MIT-BIH are counted this way.
 */
export function ectopicFigures(pairs: LabelPairs, cls: 'V' | 'S'): EctopicFigures {
  const notFalse = new Set(cls === 'V' ? ['F', 'Q'] : ['Q']);
  let tp = 0;
  let fn = 0;
  let fp = 0;
  for (const [key, n] of Object.entries(pairs)) {
    const [reference, test] = key.split('->');
    if (reference === cls && test === cls) tp += n;
    else if (reference === cls) fn += n;
    else if (test === cls && !notFalse.has(reference!)) fp += n;
  }
  return {
    se: Number(sensitivity({ tp, fn }).toFixed(2)),
    ppv: Number(positivePredictivity({ tp, fp }).toFixed(2)),
    tp,
    fn,
    fp,
  };
}

/** Pair counts as a matrix, rows the reference labels and columns the test labels (COMPARED_LABELS order). */
export function pairMatrix(pairs: LabelPairs): number[][] {
  return COMPARED_LABELS.map((r) => COMPARED_LABELS.map((t) => pairs[`${r}->${t}`] ?? 0));
}

/**
 * Beat-by-beat comparison in the manner of ANSI/AAMI EC57 (PhysioNet's bxb): a detection
 * matches a reference beat when they lie within the match window; each beat and each
 * detection is used at most once, closest pairs first, so that one detection between two
 * beats cannot be counted twice and a nearer rival always wins.
 */
export class Ec57Matcher {
  readonly config: Ec57Config;
  private readonly window: number;

  constructor(config: Ec57Config) {
    this.config = config;
    this.window = config.windowS * config.fs;
  }

  match(reference: readonly number[], detections: readonly number[]): Ec57Result {
    const isExcluded = (t: number): boolean => this.config.excluded.some((e) => t >= e.start && t < e.end);
    const refIdx = reference.map((_, i) => i).filter((i) => !isExcluded(reference[i] as number));
    const detIdx = detections.map((_, i) => i).filter((i) => !isExcluded(detections[i] as number));
    checkSorted(
      'reference',
      refIdx.map((i) => reference[i] as number),
    );
    checkSorted(
      'detections',
      detIdx.map((i) => detections[i] as number),
    );

    // every (reference, detection) pair inside the window; with sorted inputs a sliding start suffices
    const pairs: { r: number; d: number; distance: number }[] = [];
    let first = 0;
    for (const r of refIdx) {
      const t = reference[r] as number;
      while (first < detIdx.length && (detections[detIdx[first] as number] as number) < t - this.window) first++;
      for (let k = first; k < detIdx.length; k++) {
        const d = detIdx[k] as number;
        const distance = Math.abs((detections[d] as number) - t);
        if ((detections[d] as number) > t + this.window) break;
        if (distance <= this.window) pairs.push({ r, d, distance });
      }
    }
    pairs.sort((a, b) => a.distance - b.distance || a.r - b.r);
    const usedRef = new Set<number>();
    const usedDet = new Set<number>();
    const matches: Ec57Match[] = [];
    for (const p of pairs) {
      if (usedRef.has(p.r) || usedDet.has(p.d)) continue;
      usedRef.add(p.r);
      usedDet.add(p.d);
      matches.push({ reference: p.r, detection: p.d });
    }
    matches.sort((a, b) => a.reference - b.reference);
    const missed = refIdx.filter((r) => !usedRef.has(r));
    const extra = detIdx.filter((d) => !usedDet.has(d));
    return {
      tp: matches.length,
      fn: missed.length,
      fp: extra.length,
      matches,
      missed,
      extra,
      excludedReference: reference.length - refIdx.length,
      excludedDetections: detections.length - detIdx.length,
    };
  }
}

function checkSorted(name: string, values: readonly number[]): void {
  for (let i = 1; i < values.length; i++) {
    if ((values[i] as number) < (values[i - 1] as number))
      throw new RangeError(`Ec57Matcher: ${name} must be sorted by time`);
  }
}
