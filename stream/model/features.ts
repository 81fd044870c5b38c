import type { BeatWindow } from '../dsp/index.js';
import type { BeatRhythm } from './decision.js';

/** Causal RR features kept beside each window: previous RR (s), mean RR (s), and their ratio. */
export const RR_FEATURES = 3;

/** A typical adult RR (s), standing in until the first intervals of a stream are known. */
const DEFAULT_RR_S = 0.8;

export function rrFeatures(w: Pick<BeatWindow, 'rrPrevious' | 'rrMean'>, out: Float32Array, offset = 0): void {
  const previous = w.rrPrevious ?? w.rrMean ?? DEFAULT_RR_S;
  const mean = w.rrMean ?? previous;
  out[offset] = previous;
  out[offset + 1] = mean;
  // prematurity: what separates an S beat from an N beat of the same shape
  out[offset + 2] = previous / mean;
}

/** What the decision rule reads of each beat besides the model's inputs, one number per beat. */
export const RULE_INPUTS = ['rrBaseline', 'rrIrregularity', 'rrNext', 'pWaveAgreement'] as const;
export type RuleInput = (typeof RULE_INPUTS)[number];

/**
 * A beat window's rule inputs as a beat set and a batch of model inputs both keep them: the
 * baseline RR (s) its prematurity is judged against, with rrFeatures' fallbacks for a stream's
 * first beats; the irregularity before it; the interval after it (s: Infinity for a pause, none
 * within the wait; NaN where the stream was cut before it was known); and the P-wave agreement
 * before it (NaN for a stream's first beat).
 */
export function ruleInputsOf(
  w: Pick<BeatWindow, 'rrPrevious' | 'rrMean' | 'rrBaseline' | 'rrIrregularity' | 'rrNext' | 'pWaveAgreement'>,
): Record<RuleInput, number> {
  return {
    rrBaseline: w.rrBaseline ?? w.rrMean ?? w.rrPrevious ?? DEFAULT_RR_S,
    rrIrregularity: w.rrIrregularity,
    rrNext: w.rrNext ?? NaN,
    pWaveAgreement: w.pWaveAgreement ?? NaN,
  };
}

/**
 * What the decision rule reads of each beat, one array each, as a beat set and a batch of model
 * inputs both keep them: RR features (rrFeatures' layout) and the rule inputs (`ruleInputsOf`).
 */
export type RhythmArrays = { readonly rr: ArrayLike<number> } & Readonly<Record<RuleInput, ArrayLike<number>>>;

/** Beat k's rhythm for the decision rule, from a beat set's or a batch's arrays. */
export function beatRhythmOf(beats: RhythmArrays, k: number): BeatRhythm {
  const previous = beats.rr[k * RR_FEATURES]!;
  return {
    recent: beats.rr[k * RR_FEATURES + 2]!,
    baseline: previous / beats.rrBaseline[k]!,
    irregularity: beats.rrIrregularity[k]!,
    next: beats.rrNext[k]! / previous,
    pWaves: beats.pWaveAgreement[k]!,
  };
}

/**
 * Amplitude normalisation used identically in training and inference: min-max to 0..1 per
 * window, as the seed network's data was. A flat window (lead off) becomes all zeros.
 */
export function normalizeWindow(samples: Float32Array, out: Float32Array, offset = 0): void {
  let min = Infinity;
  let max = -Infinity;
  for (const v of samples) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const range = max - min;
  for (let i = 0; i < samples.length; i++) out[offset + i] = range > 0 ? ((samples[i] as number) - min) / range : 0;
}

/**
 * The second input channel: the normalised window minus the normalised patient template.
 * Near zero for a beat shaped like the patient's usual one, whatever that shape is.
 */
export function templateDifference(samples: Float32Array, template: Float32Array, out: Float32Array, offset = 0): void {
  const a = new Float32Array(samples.length);
  const b = new Float32Array(template.length);
  normalizeWindow(samples, a);
  normalizeWindow(template, b);
  for (let i = 0; i < a.length; i++) out[offset + i] = a[i]! - b[i]!;
}
