import { aamiClass, type AamiClass } from '../model/aami.js';
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
    let best = 0;
    for (let i = 1; i < ann.length; i++)
      if (Math.abs(ann[i]!.sample - rPeakSample) < Math.abs(ann[best]!.sample - rPeakSample)) best = i;
    return aamiClass(ann[best]?.symbol ?? 'Q') ?? 'Q';
  }
}
