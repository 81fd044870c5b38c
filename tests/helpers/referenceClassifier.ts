import { aamiClass } from '../../stream/model/aami.js';
import type { PendingBeat } from '../../stream/pipeline/bedMonitor.js';
import type { ClassifiedBeat, Classify } from '../../stream/pipeline/ward.js';
import { isQrsCode, mitdbDir, readAnnotations } from '../../stream/wfdb/index.js';

/**
 * Labels each beat from the nearest reference annotation of its record: pipeline tests check
 * the wiring with it, independently of the model's accuracy.
 */
export async function referenceClassifier(recordOfBed: (bedId: string) => string): Promise<Classify> {
  const cache = new Map<string, number[] & { symbols?: string[] }>();
  const annotations = async (record: string) => {
    if (!cache.has(record)) {
      const beats = (await readAnnotations(mitdbDir(), record)).filter((a) => isQrsCode(a.code));
      cache.set(
        record,
        Object.assign(
          beats.map((a) => a.sample),
          { symbols: beats.map((a) => a.symbol) },
        ),
      );
    }
    return cache.get(record)!;
  };
  return async (beats: readonly PendingBeat[]): Promise<ClassifiedBeat[]> =>
    Promise.all(
      beats.map(async (b) => {
        const ann = await annotations(recordOfBed(b.bedId));
        let best = 0;
        for (let i = 1; i < ann.length; i++)
          if (Math.abs(ann[i]! - b.rPeakSample) < Math.abs(ann[best]! - b.rPeakSample)) best = i;
        const label = aamiClass(ann.symbols![best]!) ?? 'Q';
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
