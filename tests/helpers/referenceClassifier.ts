import { DEFAULT_BEAT_WINDOW } from '../../stream/dsp/index.js';
import { ReferenceLabels } from '../../stream/eval/referenceLabels.js';
import type { PendingBeat } from '../../stream/pipeline/bedMonitor.js';
import type { ClassifiedBeat, Classify } from '../../stream/pipeline/ward.js';
import { mitdbDir, readAnnotations, type Annotation } from '../../stream/wfdb/index.js';

/**
 * Labels each beat from the nearest reference beat annotation of its bed: pipeline tests check
 * the wiring with it, independently of the model's accuracy.
 */
export function annotationClassifier(annotationsOf: (bedId: string) => Promise<readonly Annotation[]>): Classify {
  const reference = new ReferenceLabels(annotationsOf);
  return async (beats: readonly PendingBeat[]): Promise<ClassifiedBeat[]> =>
    Promise.all(
      beats.map(async (b) => {
        const label = await reference.classOf(b.bedId, b.rPeakSample);
        return {
          ...b,
          label,
          probabilities: { N: 0, S: 0, V: 0, F: 0, Q: 0, [label]: 1 },
          decision: { reason: 'network', votedV: label === 'V' ? 1 : 0 },
          modelInput: b.window.samples,
          modelInputRIndex: DEFAULT_BEAT_WINDOW.rIndex,
          gradCam: label === 'N' ? undefined : new Float32Array(b.window.samples.length).fill(0.5),
        };
      }),
    );
}

/** The annotation classifier for beds that replay MIT-BIH records. */
export async function referenceClassifier(recordOfBed: (bedId: string) => string): Promise<Classify> {
  return annotationClassifier((bedId) => readAnnotations(mitdbDir(), recordOfBed(bedId)));
}
