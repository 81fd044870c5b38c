import { aamiClass, type AamiClass } from '../contracts/aami.js';
import { isQrsCode, type Annotation } from '../wfdb/index.js';

/**
 * The cardiologists' label of each detected beat: the AAMI class of the reference beat
 * annotation nearest to its R peak, per bed. Tests check the pipeline's wiring with it,
 * independently of the model's accuracy; benchmarks time an untrained model at the true share
 * of abnormal (explained) beats with it.
 */
export class ReferenceLabels {
  private readonly beats = new Map<string, Promise<Annotation[]>>();

  constructor(private readonly annotationsOf: (bedId: string) => Promise<readonly Annotation[]>) {}

  async classOf(bedId: string, rPeakSample: number): Promise<AamiClass> {
    let pending = this.beats.get(bedId);
    if (pending === undefined) {
      pending = this.annotationsOf(bedId).then((a) => a.filter((x) => isQrsCode(x.code)));
      this.beats.set(bedId, pending);
    }
    const ann = await pending;
    // annotations are in time order: the nearest is the first at or after the peak, or the one
    // before it (the earlier on a tie)
    let lo = 0;
    let hi = ann.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (ann[mid]!.sample < rPeakSample) lo = mid + 1;
      else hi = mid;
    }
    const before = ann[lo - 1];
    const after = ann[lo];
    const nearest =
      before !== undefined && (after === undefined || rPeakSample - before.sample <= after.sample - rPeakSample)
        ? before
        : after;
    return aamiClass(nearest?.symbol ?? 'Q') ?? 'Q';
  }
}
