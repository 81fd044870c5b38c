import { aamiClass } from '../../stream/model/aami.js';
import type { PendingBeat } from '../../stream/pipeline/bedMonitor.js';
import type { ClassifiedBeat, Classify } from '../../stream/pipeline/ward.js';
import { isQrsCode, mitdbDir, readAnnotations, type Annotation } from '../../stream/wfdb/index.js';

/**
 * Labels each beat from the nearest reference beat annotation of its bed: pipeline tests check
 * the wiring with it, independently of the model's accuracy.
 */
export function annotationClassifier(annotationsOf: (bedId: string) => Promise<readonly Annotation[]>): Classify {
  const cache = new Map<string, Promise<Annotation[]>>();
  const beatsOf = (bedId: string): Promise<Annotation[]> => {
    if (!cache.has(bedId))
      cache.set(
        bedId,
        annotationsOf(bedId).then((a) => a.filter((x) => isQrsCode(x.code))),
      );
    return cache.get(bedId)!;
  };
  return async (beats: readonly PendingBeat[]): Promise<ClassifiedBeat[]> =>
    Promise.all(
      beats.map(async (b) => {
        const ann = await beatsOf(b.bedId);
        let best = 0;
        for (let i = 1; i < ann.length; i++)
          if (Math.abs(ann[i]!.sample - b.rPeakSample) < Math.abs(ann[best]!.sample - b.rPeakSample)) best = i;
        const label = aamiClass(ann[best]?.symbol ?? 'Q') ?? 'Q';
        return {
          ...b,
          label,
          probabilities: { N: 0, S: 0, V: 0, F: 0, Q: 0, [label]: 1 },
          modelInput: b.window.samples,
          gradCam: label === 'N' ? undefined : new Float32Array(b.window.samples.length).fill(0.5),
        };
      }),
    );
}

/** The annotation classifier for beds that replay MIT-BIH records. */
export async function referenceClassifier(recordOfBed: (bedId: string) => string): Promise<Classify> {
  return annotationClassifier((bedId) => readAnnotations(mitdbDir(), recordOfBed(bedId)));
}
