import { DEFAULT_SIGNAL_QUALITY, MODEL_HZ, type SignalQuality, type VfDetector } from '../dsp/index.js';

/**
 * VF filter leakage over a fast V run below which its complexes are flutter waves. Over the
 * first five fast V beats of MIT-BIH runs (shipped model): the reference VT episodes of 203,
 * 205, 210 and 223 measure 0.47 to 0.80, 207's flutter onsets 0.22 to 0.56 (three of six
 * under 0.42). Chosen on those same records, so the whole-database alarm figures are not an
 * independent test of it.
 */
export const FLUTTER_RUN_LEAKAGE = 0.42;
/** The run's signal reaches this far (s) beyond its first and last R peaks: their whole QRS. */
const FLUTTER_RUN_MARGIN_S = { before: 0.1, after: 0.2 };
/** At most this much of a long run is looked at (s): well within the VF detector's history. */
const FLUTTER_RUN_MAX_S = 8;

/**
 * Whether the run of fast complexes from `fromS` to `toS` (stream time) looks like flutter
 * waves. Either the signal over the run itself is nearly sinusoidal (VF filter leakage under
 * FLUTTER_RUN_LEAKAGE: at a flutter onset the 4-s windows still hold the rhythm before it), or
 * the VF detector's latest window is VF-like and there is the fast activity between the
 * detected complexes of poor signal (judged now rather than at the quality window's end). The
 * window or the activity alone also fits some real VT (MIT-BIH 205 is VF-like, 203's noisy VT
 * has the activity); flutter has both. `originS`: the stream time of the analysers' sample 0.
 */
export function looksLikeFlutter(
  analysis: { readonly vf: VfDetector; readonly quality: SignalQuality; readonly originS: number },
  fromS: number,
  toS: number,
): boolean {
  const { vf, quality, originS } = analysis;
  const index = (s: number): number => Math.round((s - originS) * MODEL_HZ);
  const from = Math.max(fromS - FLUTTER_RUN_MARGIN_S.before, toS - FLUTTER_RUN_MAX_S);
  const leakage = vf.leakageOver(index(from), index(toS + FLUTTER_RUN_MARGIN_S.after));
  if (leakage !== undefined && leakage < FLUTTER_RUN_LEAKAGE) return true;
  if (!vf.vfLike) return false;
  return (quality.ratioOver(index(fromS), index(toS)) ?? 0) > DEFAULT_SIGNAL_QUALITY.noisyRatio;
}
