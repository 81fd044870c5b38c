import type { DetectedPeak } from './frontEnd.js';

/** Second-lead QRS amplitudes that make its typical one. */
const CONFIRMING_HISTORY = 8;
/** A complex at least this fraction of the lead's typical amplitude, of the same polarity, confirms a QRS. */
const CONFIRMING_RATIO = 0.5;

/**
 * The smallest QRS complex (mV, on the filtered signal) that shows the heart is beating. A lead
 * whose heart has stopped still shows its baseline noise, and the detector, adapting to it,
 * reports peaks of a few hundredths of a millivolt; a QRS on a lead that is on the patient is
 * ten times that.
 */
export const MIN_QRS_MV = 0.05;

/** Whether a detected peak is large enough to be a QRS complex (MIN_QRS_MV). */
export function isCredibleQrs(peak: Pick<DetectedPeak, 'amplitude'>): boolean {
  return Math.abs(peak.amplitude) >= MIN_QRS_MV;
}

/**
 * The second lead's QRS complexes that show the heart is beating: those of the polarity of its
 * recent ones and at least half as large. Asystole is called only when neither lead shows a
 * QRS (as in the PhysioNet/CinC 2015 challenge's multi-signal entries), because a monitoring
 * lead whose amplitude collapses (a loose electrode) loses its beats; a blip of noise in a
 * long pause must not hide it either.
 */
export class QrsConfirmation {
  private amplitudes: number[] = [];

  /** The peaks of a chunk that confirm a QRS; every peak joins the lead's amplitude history. */
  push(peaks: readonly DetectedPeak[]): DetectedPeak[] {
    return peaks.filter((peak) => {
      const sorted = [...this.amplitudes].sort((a, b) => a - b);
      const typical = sorted[Math.floor(sorted.length / 2)];
      this.amplitudes.push(peak.amplitude);
      if (this.amplitudes.length > CONFIRMING_HISTORY) this.amplitudes.shift();
      return typical !== undefined && peak.amplitude / typical >= CONFIRMING_RATIO && isCredibleQrs(peak);
    });
  }

  reset(): void {
    this.amplitudes = [];
  }
}
