import { frameProblem, type FrameProblem, type SampleFrame } from '../contracts/frame.js';
import { MAX_RESAMPLER_PHASES, MODEL_HZ, resamplerPhases } from '../dsp/index.js';

/**
 * Why a decoded frame cannot be a bed's signal: outside the frame contract's ranges, or at a
 * sample rate the front end cannot resample to 125 Hz within its bounds of time and memory.
 * Undefined for a usable frame.
 */
export function usableFrameProblem(frame: SampleFrame): FrameProblem | undefined {
  const problem = frameProblem(frame);
  if (problem !== undefined) return problem;
  const phases = resamplerPhases(frame.sampleRate, MODEL_HZ);
  if (phases > MAX_RESAMPLER_PHASES)
    return {
      code: 'sample-rate',
      reason: `sample rate ${frame.sampleRate} Hz needs ${phases} resampler phases (at most ${MAX_RESAMPLER_PHASES}): give it to 0.1 Hz`,
    };
  return undefined;
}
