import { describe, expect, it } from 'vitest';
import {
  BeatWindowCutter,
  BiquadCascade,
  EcgFilter,
  EcgFrontEnd,
  highpass,
  Resampler,
  RPeakDetector,
  rhythmIrregularity,
  DEFAULT_BEAT_WINDOW,
  DEFAULT_RPEAK_DETECTOR,
  type BeatWindow,
} from '../../stream/dsp/index.js';
import { ConfigError } from '../../stream/contracts/errors.js';

/** Gaussian-shaped QRS-like spikes every `rrS` seconds on a slow baseline drift. */
function spikeTrain(fs: number, seconds: number, rrS: number, firstS = 0.5): { x: Float32Array; peaks: number[] } {
  const x = new Float32Array(Math.round(fs * seconds));
  const peaks: number[] = [];
  for (let t = firstS; t < seconds - 0.5; t += rrS) peaks.push(Math.round(t * fs));
  for (let i = 0; i < x.length; i++) {
    let v = 0.2 * Math.sin((2 * Math.PI * 0.3 * i) / fs);
    for (const p of peaks) {
      const d = (i - p) / fs;
      if (Math.abs(d) < 0.05) v += Math.exp(-((d / 0.01) ** 2));
    }
    x[i] = v;
  }
  return { x, peaks };
}

describe('BiquadCascade', () => {
  it('starts in steady state: a constant input through a high-pass gives zeros, not a step response', () => {
    const hp = new BiquadCascade([highpass(0.5, 360)]);
    for (let i = 0; i < 1000; i++) expect(Math.abs(hp.step(1000))).toBeLessThan(1e-9);
  });
});

describe('EcgFilter', () => {
  it('removes a 60 Hz mains tone and keeps a 10 Hz component', () => {
    const f = new EcgFilter({ fs: 360, highpassHz: 0.5, lowpassHz: 100, mainsHz: 60 });
    const n = 3600;
    const input = Float32Array.from({ length: n }, (_, i) => Math.sin((2 * Math.PI * 60 * i) / 360));
    const out = f.push(input);
    const tail = out.subarray(n - 720);
    expect(Math.max(...tail.map(Math.abs))).toBeLessThan(0.02);
    const g = new EcgFilter({ fs: 360, highpassHz: 0.5, lowpassHz: 100, mainsHz: 60 });
    const tone = g.push(Float32Array.from({ length: n }, (_, i) => Math.sin((2 * Math.PI * 10 * i) / 360)));
    expect(Math.max(...tone.subarray(n - 720))).toBeGreaterThan(0.95);
  });

  it('rejects impossible settings with the reason', () => {
    expect(() => new EcgFilter({ fs: 360, highpassHz: 40, lowpassHz: 0.5, mainsHz: 60 })).toThrow(ConfigError);
    expect(() => new EcgFilter({ fs: 360, highpassHz: 0.5, lowpassHz: 40, mainsHz: 55 as 50 })).toThrow(
      /50, 60 or null/,
    );
  });
});

describe('Resampler', () => {
  it('maps 360 Hz to 125 Hz time-aligned: output k is input time k*360/125', () => {
    const r = new Resampler({ inputHz: 360, outputHz: 125, passbandHz: 40, attenuationDb: 40 });
    const f = 5;
    const input = Float32Array.from({ length: 3600 }, (_, i) => Math.sin((2 * Math.PI * f * i) / 360));
    const out = r.push(input);
    // every output whose look-ahead arrived: 10 s of input gives 1250 minus the filter's delay
    expect(out.length).toBe(Math.floor(((3600 - 1 - r.delayInputSamples) * 125) / 360) + 1);
    // a 40 dB Kaiser design keeps the pass band within about 1 %
    for (let k = 50; k < out.length; k++) {
      expect(Math.abs(out[k]! - Math.sin((2 * Math.PI * f * k) / 125))).toBeLessThan(0.01);
    }
  });

  it('attenuates what would alias: 100 Hz at 360 Hz cannot reach a 125 Hz output', () => {
    const r = new Resampler({ inputHz: 360, outputHz: 125, passbandHz: 40, attenuationDb: 40 });
    const out = r.push(Float32Array.from({ length: 3600 }, (_, i) => Math.sin((2 * Math.PI * 100 * i) / 360)));
    expect(Math.max(...out.subarray(100).map(Math.abs))).toBeLessThan(0.01);
  });

  it('handles any rate pair, e.g. 500 Hz and 128 Hz in', () => {
    for (const inputHz of [500, 128, 250]) {
      const r = new Resampler({ inputHz, outputHz: 125, passbandHz: 40, attenuationDb: 40 });
      const out = r.push(new Float32Array(inputHz * 4).fill(1));
      expect(out.length).toBeGreaterThan(400);
      for (const y of out) expect(y).toBeCloseTo(1, 6);
    }
  });
});

describe('RPeakDetector', () => {
  it('finds every spike of a synthetic train at 125 Hz, within one sample', () => {
    const { x, peaks } = spikeTrain(125, 60, 0.8);
    const d = new RPeakDetector({ ...DEFAULT_RPEAK_DETECTOR, fs: 125 });
    const found = d.push(x);
    expect(found.map((p) => p.index)).toHaveLength(peaks.length);
    found.forEach((p, i) => expect(Math.abs(p.index - peaks[i]!)).toBeLessThanOrEqual(1));
    // beats inside the 2 s learning period are decided when it ends; every later one within 400 ms
    const learning = DEFAULT_RPEAK_DETECTOR.learningS * 125;
    for (const p of found.filter((q) => q.index >= learning)) expect(p.decidedAt - p.index).toBeLessThan(0.4 * 125);
  });

  it('reports a missed low beat through search-back', () => {
    const { x, peaks } = spikeTrain(125, 30, 0.8);
    const weak = peaks[20]!;
    for (let i = weak - 6; i <= weak + 6; i++) x[i] = x[i]! * 0.2 + 0.8 * x[i]! * 0.2; // a beat at 36 % height
    const found = new RPeakDetector({ ...DEFAULT_RPEAK_DETECTOR, fs: 125 }).push(x);
    const near = found.find((p) => Math.abs(p.index - weak) <= 2);
    expect(near).toBeDefined();
    expect(found).toHaveLength(peaks.length);
  });

  it('rejects an invalid configuration with the field named', () => {
    expect(() => new RPeakDetector({ ...DEFAULT_RPEAK_DETECTOR, fs: 125, qrsBandHz: [20, 8] })).toThrow(/QRS band/);
    expect(() => new RPeakDetector({ ...DEFAULT_RPEAK_DETECTOR, fs: 125, refractoryS: 0 })).toThrow(/refractoryS/);
  });
});

describe('BeatWindowCutter', () => {
  it('cuts 187 samples with the R peak at rIndex and the RR intervals before it', () => {
    const cutter = new BeatWindowCutter({ ...DEFAULT_BEAT_WINDOW, fs: 125 });
    const x = Float32Array.from({ length: 2000 }, (_, i) => i);
    const windows = cutter.push(x, []);
    expect(windows).toHaveLength(0);
    const out = [...cutter.push([], [30]), ...cutter.push([], [500, 600])];
    expect(cutter.skipped).toBe(1); // R at 30 has no 62 samples of history
    expect(out.map((w) => [w.rPeak, w.samples[62], w.samples.length, w.rrPrevious, w.rrMean])).toEqual([
      [500, 500, 187, (500 - 30) / 125, undefined],
      [600, 600, 187, 100 / 125, (500 - 30) / 125],
    ]);
  });

  it('gives each window the median of the previous windows as the patient template', () => {
    const cutter = new BeatWindowCutter({
      ...DEFAULT_BEAT_WINDOW,
      fs: 125,
      length: 5,
      rIndex: 2,
      templateBeats: 3,
      nextBeatWaitS: 0.1,
    });
    const x = Float32Array.from({ length: 100 }, (_, i) => Math.floor(i / 10)); // a step every 10 samples
    const out = cutter.push(x, [12, 32, 52, 72]);
    expect(Array.from(out[0]!.template)).toEqual(Array.from(out[0]!.samples)); // first beat: itself
    expect(Array.from(out[1]!.template)).toEqual([1, 1, 1, 1, 1]);
    expect(Array.from(out[2]!.template)).toEqual([2, 2, 2, 2, 2]); // median of windows at 1 and 3
    expect(Array.from(out[3]!.template)).toEqual([3, 3, 3, 3, 3]); // median of 1, 3, 5
  });

  it('keeps the mean of the last rrBaselineBeats intervals as the baseline, and the irregularity of the last irregularityBeats', () => {
    const cutter = new BeatWindowCutter({
      ...DEFAULT_BEAT_WINDOW,
      fs: 100,
      length: 5,
      rIndex: 2,
      rrHistory: 2,
      rrBaselineBeats: 4,
      irregularityBeats: 6,
      nextBeatWaitS: 0.5,
    });
    // intervals 1 1 1 1, then 0.5 (a premature beat) and 1.5 (its pause), then 1 1 1
    const out = cutter.push(new Float32Array(1000), [10, 110, 210, 310, 410, 460, 610, 710, 810, 910]);
    expect(out.map((w) => w.rrBaseline)).toEqual([undefined, undefined, 1, 1, 1, 1, 0.875, 1, 1, 1]);
    expect(out.map((w) => w.rrMean)).toEqual([undefined, undefined, 1, 1, 1, 1, 0.75, 1, 1.25, 1]);
    // 0 until six intervals are known; irregular while the premature beat dominates six, regular once it does not
    expect(out.map((w) => w.rrIrregularity)).toEqual([0, 0, 0, 0, 0, 0, 0, 0.5, 0.5, 0]);
    // the interval after each beat; none came within the wait after the last
    expect(out.map((w) => w.rrNext)).toEqual([1, 1, 1, 1, 0.5, 1.5, 1, 1, 1, Infinity]);
    // a reset (a gap, a restarted bed) forgets the intervals: nothing carries over the gap
    cutter.reset();
    const again = cutter.push(new Float32Array(1000), [10, 60, 160]);
    expect(again.map((w) => [w.rrPrevious, w.rrMean, w.rrBaseline])).toEqual([
      [undefined, undefined, undefined],
      [0.5, undefined, undefined],
      [1, 0.5, 0.5],
    ]);
    expect(again.map((w) => w.rrNext)).toEqual([0.5, 1, Infinity]);
  });

  it("measures whether the recent beats had the patient's P wave (pWaveAgreement)", () => {
    const fs = 125;
    const cutter = new BeatWindowCutter({ ...DEFAULT_BEAT_WINDOW, fs, nextBeatWaitS: 0.5, pWaveBeats: 4 });
    // 12 beats 0.8 s apart: the first 6 with a P wave 160 ms before the R peak, then 6 whose
    // P-wave segment holds fibrillatory waves (a different wiggle before each beat)
    const peaks = Array.from({ length: 12 }, (_, b) => 100 + b * 100);
    let seed = 7;
    const noise = () => ((seed = (seed * 16807) % 2147483647) / 2147483647) * 2 - 1;
    const x = new Float32Array(1400);
    peaks.forEach((r, b) => {
      x[r] = 5;
      for (let i = -40; i < -5; i++)
        x[r + i] = b < 6 ? Math.exp(-(((i + 20) / 3) ** 2)) : 0.3 * Math.sin(i * (0.9 + b / 5)) + 0.2 * noise();
    });
    const out = cutter.push(x, peaks);
    expect(out).toHaveLength(12);
    const agreement = out.map((w) => w.pWaveAgreement);
    expect(agreement[0]).toBeUndefined(); // no beat before the stream's first
    for (const a of agreement.slice(1, 7)) expect(a).toBeGreaterThan(0.95); // sinus: the same P wave each beat
    // once the last 4 beats' segments hold fibrillatory waves, their median correlation is low
    for (const a of agreement.slice(10)) expect(a).toBeLessThan(0.5);
    // a reset (a gap, a restarted bed) forgets it
    cutter.reset();
    expect(cutter.push(x, peaks)[0]!.pWaveAgreement).toBeUndefined();
  });

  it('measures an irregularly irregular rhythm as irregular, and sinus rhythm, bigeminy or a lone premature beat as regular', () => {
    expect(rhythmIrregularity([0.6, 1.1, 0.6, 1.1, 0.6, 1.1, 0.6, 1.1])).toBe(0);
    const lone = [...Array<number>(10).fill(0.8), 0.5, 1.1, 0.8, 0.8, 0.8, 0.8];
    expect(rhythmIrregularity(lone)).toBe(0);
    // atrial fibrillation: each interval at least 0.11 s from the three before it
    const af = [0.5, 0.9, 0.7, 1.1, 0.58, 0.98, 0.78, 0.36, 1.22, 0.64, 1.0, 0.45, 0.85, 0.62, 1.15, 0.74];
    expect(rhythmIrregularity(af)).toBeGreaterThan(0.1);
  });

  it('waits for the samples after the R peak and for the next beat (or the wait for it) before emitting', () => {
    const cutter = new BeatWindowCutter({ ...DEFAULT_BEAT_WINDOW, fs: 125 }); // 187 samples, R at 62, wait 2 s
    expect(cutter.push(new Float32Array(100), [80])).toHaveLength(0);
    expect(cutter.push(new Float32Array(104), [])).toHaveLength(0);
    expect(cutter.push(new Float32Array(1), [])).toHaveLength(0); // complete, but the next beat may still come
    expect(cutter.push([], [180]).map((w) => [w.rPeak, w.rrNext])).toEqual([[80, 0.8]]);
    // none comes within 2 s (250 samples) of the R peak at 180: a pause
    expect(cutter.push(new Float32Array(224), [])).toHaveLength(0);
    expect(cutter.push(new Float32Array(1), []).map((w) => [w.rPeak, w.rrNext])).toEqual([[180, Infinity]]);
    // the stream is cut before either: flushed without the interval after it
    expect(cutter.push(new Float32Array(200), [500])).toHaveLength(0);
    const flushed: BeatWindow[] = [];
    cutter.flush(flushed);
    expect(flushed.map((w) => [w.rPeak, w.rrNext])).toEqual([[500, undefined]]);
  });

  it('makes only the beats early against the baseline wait for the next beat (nextBeatWaitBelow)', () => {
    const config = { ...DEFAULT_BEAT_WINDOW, fs: 100, length: 5, rIndex: 2, rrBaselineBeats: 4, nextBeatWaitS: 2 };
    // intervals 1 1 1, then 0.7 (an early beat: 0.7 of the baseline) and 1.3 (its pause), then 1
    const peaks = [10, 110, 210, 310, 380, 510, 610];
    const cut = (nextBeatWaitBelow: number) => {
      const cutter = new BeatWindowCutter({ ...config, nextBeatWaitBelow });
      // sample by sample, each peak detected 3 samples late, so that each window goes as soon as it may
      const emitted: [number, number | undefined, number][] = [];
      for (let n = 0; n < 900; n++) {
        for (const w of cutter.push(
          [0],
          peaks.filter((p) => p === n - 3),
        ))
          emitted.push([w.rPeak, w.rrNext, n - w.rPeak]);
      }
      return emitted;
    };
    // beats with no baseline yet and beats not early go when complete; the early beat at 380
    // waits for the next peak (510, registered 133 samples after its own), and the beat after
    // it, complete at the same sample, goes after it
    expect(cut(0.9)).toEqual([
      [10, undefined, 3],
      [110, undefined, 3],
      [210, undefined, 3],
      [310, undefined, 3],
      [380, 1.3, 133],
      [510, undefined, 3],
      [610, undefined, 3],
    ]);
    // Infinity: every beat waits for the next (or for 2 s), as the dataset builder cuts
    expect(cut(Infinity).map(([r, next]) => [r, next])).toEqual([
      [10, 1],
      [110, 1],
      [210, 1],
      [310, 0.7],
      [380, 1.3],
      [510, 1],
      [610, Infinity],
    ]);
    // 0: none waits
    expect(cut(0).every(([, next, delay]) => next === undefined && delay === 3)).toBe(true);
    expect(() => new BeatWindowCutter({ ...config, nextBeatWaitBelow: Number.NaN })).toThrow(
      'BeatWindowCutter: nextBeatWaitBelow must be a share of the baseline RR >= 0 (or Infinity), got NaN',
    );
  });
});

describe('EcgFrontEnd', () => {
  it('detects a 360 Hz synthetic train and reports peaks in source samples', () => {
    const { x, peaks } = spikeTrain(360, 30, 0.75);
    const fe = new EcgFrontEnd({ sourceHz: 360 });
    const out = fe.push(x);
    expect(out.peaks).toHaveLength(peaks.length);
    out.peaks.forEach((p, i) => expect(Math.abs(p.sourceSample - peaks[i]!)).toBeLessThan(0.02 * 360));
    expect(out.windows.length).toBeGreaterThan(peaks.length - 3);
    expect(out.samples.length).toBeGreaterThan(30 * 125 - 30);
  });

  it("cuts the second lead at the monitoring lead's R peaks, not its own, in the same chunk", () => {
    const { x } = spikeTrain(360, 30, 0.75);
    // inverted: the filters are linear, so its windows are exactly the inverted windows
    const inverted = x.map((v) => -v);
    // delayed by 72 source samples, 25 at 125 Hz: its windows, cut at the monitoring lead's
    // peaks and not at its own, show each beat 25 samples late
    const delayed = x.map((_, i) => x[Math.max(0, i - 72)]!);
    const one = new EcgFrontEnd({ sourceHz: 360 });
    const two = new EcgFrontEnd({ sourceHz: 360, secondLead: 'windows' });
    const alone = new EcgFrontEnd({ sourceHz: 360, secondLead: 'windows' });
    let windows = 0;
    const ownPeaks: number[] = [];
    const delayedPeaks: number[] = [];
    for (let start = 0; start < x.length; start += 90) {
      const a = one.push(x.subarray(start, start + 90));
      const b = two.push(x.subarray(start, start + 90), inverted.subarray(start, start + 90));
      const c = alone.push(x.subarray(start, start + 90), delayed.subarray(start, start + 90));
      expect(b.peaks).toEqual(a.peaks);
      expect(b.windows.map((w) => w.rPeak)).toEqual(a.windows.map((w) => w.rPeak));
      b.windows.forEach((w, k) => {
        expect(Array.from(w.samples)).toEqual(Array.from(a.windows[k]!.samples));
        expect(Array.from(w.secondLead!.samples)).toEqual(Array.from(w.samples, (v) => -v));
        expect(Array.from(w.secondLead!.template)).toEqual(Array.from(w.template, (v) => -v));
        windows++;
      });
      c.windows.forEach((w) => {
        const late = w.secondLead!.samples;
        for (let i = 25; i < late.length; i++) expect(late[i]).toBeCloseTo(w.samples[i - 25]!, 5);
      });
      ownPeaks.push(...c.peaks.map((p) => p.index + 25));
      delayedPeaks.push(...c.secondPeaks.map((p) => p.index));
      expect(a.secondPeaks).toEqual([]);
    }
    expect(windows).toBeGreaterThan(30);
    expect(delayedPeaks.length).toBeGreaterThan(30);
    expect(delayedPeaks).toEqual(ownPeaks.slice(0, delayedPeaks.length));
  });

  it("reports the second lead's own R peaks, without cutting its windows unless asked", () => {
    const { x } = spikeTrain(360, 20, 0.75);
    const { x: other, peaks } = spikeTrain(360, 20, 1.1, 0.7);
    const out = new EcgFrontEnd({ sourceHz: 360, secondLead: 'peaks' }).push(x, other);
    expect(out.secondPeaks).toHaveLength(peaks.length);
    // its windows only for a classifier that asks for them
    expect(out.windows.length).toBeGreaterThan(10);
    expect(out.windows.every((w) => w.secondLead === undefined)).toBe(true);
    out.secondPeaks.forEach((p, i) => expect(Math.abs(p.sourceSample - peaks[i]!)).toBeLessThan(0.02 * 360));
  });

  it('refuses a second lead it was not configured for, or one of another length', () => {
    const { x } = spikeTrain(360, 2, 0.75);
    expect(() => new EcgFrontEnd({ sourceHz: 360 }).push(x, x)).toThrow(/one-lead front end/);
    const two = new EcgFrontEnd({ sourceHz: 360, secondLead: 'peaks' });
    expect(() => two.push(x)).toThrow(/second lead needs a chunk as long as the first \(720 samples\), got none/);
    expect(() => two.push(x, x.subarray(1))).toThrow(ConfigError);
  });
});
