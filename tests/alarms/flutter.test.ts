import { describe, expect, it } from 'vitest';
import { FLUTTER_RUN_LEAKAGE, looksLikeFlutter } from '../../stream/alarms/flutter.js';
import {
  DEFAULT_SIGNAL_QUALITY,
  DEFAULT_VF_DETECTOR,
  MODEL_HZ,
  SignalQuality,
  VfDetector,
} from '../../stream/dsp/index.js';

/** The analysers a bed runs, fed `x` at 125 Hz with QRS detections at `peaks`. */
function analysed(x: Float32Array, peaks: number[]) {
  const vf = new VfDetector({ ...DEFAULT_VF_DETECTOR, fs: MODEL_HZ });
  const quality = new SignalQuality({ ...DEFAULT_SIGNAL_QUALITY, fs: MODEL_HZ });
  vf.push(x);
  quality.push(x, peaks);
  return { vf, quality, originS: 0 };
}

describe('looksLikeFlutter', () => {
  const n = 12 * MODEL_HZ;

  it('calls a run over a near-sinusoid (4 Hz flutter waves) flutter', () => {
    const x = Float32Array.from({ length: n }, (_, i) => Math.sin((2 * Math.PI * 4 * i) / MODEL_HZ));
    const peaks = Array.from({ length: 48 }, (_, k) => Math.round((k + 0.25) * (MODEL_HZ / 4)));
    expect(looksLikeFlutter(analysed(x, peaks), 6, 10)).toBe(true);
  });

  it('does not call separate wide complexes at 150 bpm (ventricular tachycardia) flutter', () => {
    const period = Math.round(0.4 * MODEL_HZ);
    const x = Float32Array.from({ length: n }, (_, i) => {
      const t = (i % period) / MODEL_HZ;
      return t < 0.12 ? Math.sin((Math.PI * t) / 0.12) : 0;
    });
    const peaks = Array.from({ length: Math.floor(n / period) }, (_, k) => k * period + 7);
    const analysis = analysed(x, peaks);
    expect(analysis.vf.leakageOver(6 * MODEL_HZ, 10 * MODEL_HZ)).toBeGreaterThan(FLUTTER_RUN_LEAKAGE);
    expect(looksLikeFlutter(analysis, 6, 10)).toBe(false);
  });
});
