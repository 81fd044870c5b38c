import { describe, expect, it } from 'vitest';
import { DEFAULT_SIGNAL_QUALITY, SignalQuality } from '../../stream/dsp/index.js';
import { seededRandom } from '../../stream/model/random.js';

const FS = 125;

/** Triangular QRS-like spikes every 0.8 s on a flat line, with uniform noise (±`noise`) from `noisyFrom` s on. */
function ecgLike(seconds: number, noisyFrom: number, noise: number): { x: Float32Array; peaks: number[] } {
  const x = new Float32Array(seconds * FS);
  const peaks: number[] = [];
  for (let p = 50; p < x.length - 3; p += 100) {
    peaks.push(p);
    for (let k = -3; k <= 3; k++) x[p + k] = 1 - Math.abs(k) / 3;
  }
  const random = seededRandom(7);
  for (let i = noisyFrom * FS; i < x.length; i++) x[i]! += noise * (2 * random() - 1);
  return { x, peaks };
}

describe('SignalQuality', () => {
  it('calls clean windows clean and, after two noisy windows, the signal poor', () => {
    const { x, peaks } = ecgLike(40, 20, 0.2);
    const windows = new SignalQuality({ ...DEFAULT_SIGNAL_QUALITY, fs: FS }).push(x, peaks);
    const clean = windows.filter((w) => w.start + 5 * FS <= 20 * FS);
    const noisy = windows.filter((w) => w.start >= 20 * FS);
    expect(clean.every((w) => w.noiseRatio < 0.05 && !w.poor && w.quality === 1)).toBe(true);
    expect(noisy.every((w) => w.noiseRatio > DEFAULT_SIGNAL_QUALITY.noisyRatio)).toBe(true);
    expect(noisy.map((w) => w.poor)).toEqual([false, true, true]);
  });

  it('judges a stretch now (ratioOver), before its window ends, against the last QRS slope', () => {
    const { x, peaks } = ecgLike(13, 11, 0.2);
    const quality = new SignalQuality({ ...DEFAULT_SIGNAL_QUALITY, fs: FS });
    expect(quality.ratioOver(0, FS)).toBeUndefined(); // no QRS slope known yet
    quality.push(x, peaks); // windows 0-5 s and 5-10 s judged; 10-13 s not yet
    expect(quality.ratioOver(10 * FS, 11 * FS)).toBeLessThan(0.05);
    expect(quality.ratioOver(11 * FS, 13 * FS)).toBeGreaterThan(DEFAULT_SIGNAL_QUALITY.noisyRatio);
    expect(quality.ratioOver(12.8 * FS, 13 * FS)).toBeUndefined(); // under half a second
  });
});
