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
  it('judges a 5 s window every second: clean ones clean, and the signal poor from the third noisy one in a row', () => {
    const { x, peaks } = ecgLike(40, 20, 0.2);
    const windows = new SignalQuality({ ...DEFAULT_SIGNAL_QUALITY, fs: FS }).push(x, peaks);
    expect(windows.map((w) => w.start / FS)).toEqual(Array.from({ length: 35 }, (_, k) => k)); // the last needs 1 s to settle
    const clean = windows.filter((w) => w.start + 5 * FS <= 20 * FS);
    expect(clean).toHaveLength(16);
    expect(clean.every((w) => w.noiseRatio < 0.05 && !w.poor && w.quality === 1)).toBe(true);
    expect(
      windows.filter((w) => w.start >= 20 * FS).every((w) => w.noiseRatio > DEFAULT_SIGNAL_QUALITY.noisyRatio),
    ).toBe(true);
    const firstNoisy = windows.findIndex((w) => w.noiseRatio > DEFAULT_SIGNAL_QUALITY.noisyRatio);
    expect(windows[firstNoisy]!.start).toBeLessThan(20 * FS); // a window partly over the noise is noisy already
    expect(windows.slice(firstNoisy).map((w) => w.poor)).toEqual(
      windows.slice(firstNoisy).map((_, k) => k >= DEFAULT_SIGNAL_QUALITY.noisyWindows - 1),
    );
  });

  it('calls the signal good again only after three clean windows in a row, so that it does not flap', () => {
    const { x, peaks } = ecgLike(45, 0, 0);
    const random = seededRandom(4);
    for (let i = 10 * FS; i < 25 * FS; i++) x[i]! += 0.2 * (2 * random() - 1);
    const windows = new SignalQuality({ ...DEFAULT_SIGNAL_QUALITY, fs: FS }).push(x, peaks);
    const lastPoor = windows.findLastIndex((w) => w.poor);
    const clean = windows.map((w) => w.noiseRatio < DEFAULT_SIGNAL_QUALITY.cleanRatio);
    expect(windows[lastPoor]!.start).toBeGreaterThanOrEqual(25 * FS); // over clean signal, still poor
    // the window that ends it is the third clean one in a row
    expect(clean.slice(lastPoor - 2, lastPoor + 2)).toEqual([false, true, true, true]);
    expect(windows.slice(lastPoor + 1).every((w) => !w.poor)).toBe(true);
  });

  it('calls a 10 s burst of noise poor while it lasts, wherever it falls against the windows', () => {
    for (const offsetS of [0, 0.3, 0.5, 0.8]) {
      const { x, peaks } = ecgLike(40, 0, 0);
      const random = seededRandom(3);
      const from = Math.round((15 + offsetS) * FS);
      for (let i = from; i < from + 10 * FS; i++) x[i]! += 0.2 * (2 * random() - 1);
      const windows = new SignalQuality({ ...DEFAULT_SIGNAL_QUALITY, fs: FS }).push(x, peaks);
      // a window is judged 1 s (settleS) after it ends: the first poor one, when it is known
      const firstPoor = windows.find((w) => w.poor)!;
      const knownAtS = (firstPoor.start + 5 * FS) / FS + DEFAULT_SIGNAL_QUALITY.settleS;
      expect(knownAtS, `offset ${offsetS}`).toBeLessThan(15 + offsetS + 10);
      expect(windows.filter((w) => w.start + 5 * FS <= from).some((w) => w.poor)).toBe(false);
    }
  });

  it("calls artefact poor below the absolute ratio where it is far above the bed's usual and its complexes do not repeat one another", () => {
    // 60 s of a little noise, then 30 s of slow waves as large as the QRS (electrode motion), at
    // random or the same in each cycle (a wide-complex rhythm)
    const run = (organised: boolean) => {
      const { x, peaks } = ecgLike(90, 0, 0.015);
      const random = seededRandom(11);
      const knots = Float32Array.from({ length: 11 }, () => 0.7 * (2 * random() - 1));
      let previous = 0;
      let next = 0;
      for (let i = 60 * FS; i < x.length; i++) {
        if (i % 10 === 0) {
          previous = next;
          next = organised ? knots[(i % 100) / 10]! : 0.7 * (2 * random() - 1);
        }
        x[i]! += previous + ((next - previous) * (i % 10)) / 10;
      }
      const windows = new SignalQuality({ ...DEFAULT_SIGNAL_QUALITY, fs: FS }).push(x, peaks);
      return windows.filter((w) => w.start >= 60 * FS);
    };
    const artefact = run(false);
    const rhythm = run(true);
    for (const windows of [artefact, rhythm]) {
      expect(windows.every((w) => w.noiseRatio > 0.15 && w.noiseRatio < DEFAULT_SIGNAL_QUALITY.noisyRatio)).toBe(true);
    }
    const organisation = artefact.map((w) => w.organisation).sort((a, b) => a - b);
    expect(organisation[organisation.length >> 1]).toBeLessThan(DEFAULT_SIGNAL_QUALITY.organisedCorrelation);
    expect(artefact.slice(DEFAULT_SIGNAL_QUALITY.noisyWindows - 1).every((w) => w.poor)).toBe(true);
    expect(rhythm.every((w) => w.organisation > 0.95 && !w.poor)).toBe(true);
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
