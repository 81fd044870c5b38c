import { describe, expect, it } from 'vitest';
import { injectFaults, type FaultKind, type InjectedFault } from '../../simulators/faults.js';
import { recordFrames } from '../../simulators/replay.js';
import type { SampleFrame } from '../../stream/contracts/frame.js';
import { seededRandom } from '../../stream/model/random.js';
import { BedMonitor } from '../../stream/pipeline/bedMonitor.js';
import { mitdbDir, nstdbDir, readAnnotations, readRecord } from '../../stream/wfdb/index.js';

const record = await readRecord(mitdbDir(), '100');
const clean = [...recordFrames(record, 'bed', 'mitdb/100')].slice(0, 4 * 300); // 5 min
// the noise records are optional data (../shared/data/nstdb): without them the muscle-noise test is skipped
const noise = await readRecord(nstdbDir(), 'ma').then(
  (r) => r.signals[0]!.digital,
  () => undefined,
);

function inject(kind: FaultKind): { frames: SampleFrame[]; injected: InjectedFault[] } {
  const injected: InjectedFault[] = [];
  const plan = { kinds: [kind], everyS: 60, seed: 1, ...(noise === undefined ? {} : { noise }) };
  return { frames: [...injectFaults(clean, plan, injected)], injected };
}

/** Frames whose first sample falls in an injected episode. */
const inEpisode = (frame: SampleFrame, injected: InjectedFault[]): boolean =>
  injected.some(
    (f) => frame.firstSample / frame.sampleRate >= f.startS && frame.firstSample / frame.sampleRate < f.endS,
  );

describe('injectFaults', () => {
  it('drops, duplicates, swaps and flattens frames where it says it did, deterministically', () => {
    const drop = inject('drop');
    expect(drop.injected.length).toBeGreaterThan(2);
    expect(drop.frames).toHaveLength(clean.length - 8 * drop.injected.length); // 2 s each
    expect(drop.frames.some((f) => inEpisode(f, drop.injected))).toBe(false);
    expect(inject('drop').injected).toEqual(drop.injected);

    const duplicate = inject('duplicate');
    expect(duplicate.frames).toHaveLength(clean.length + duplicate.injected.length);
    const reorder = inject('reorder');
    const seqs = reorder.frames.map((f) => f.seq);
    expect([...seqs].sort((a, b) => a - b)).toEqual(clean.map((f) => f.seq));
    expect(seqs.filter((s, i) => i > 0 && s < seqs[i - 1]!)).toHaveLength(reorder.injected.length);

    const flat = inject('flat');
    const flattened = flat.frames.filter((f) => inEpisode(f, flat.injected));
    expect(flattened).toHaveLength(16 * flat.injected.length); // 4 s each
    for (const f of flattened) expect(new Set(f.samples).size).toBeLessThanOrEqual(f.leads.length);
  });

  it("scales noise to the stated SNR, as nst(1) measures it from the reference beats' QRS amplitude", async () => {
    // signal power: (median QRS peak to peak)^2 / 8, the power of a sine of that range
    const beats = (await readAnnotations(mitdbDir(), '100', 'atr')).filter((a) => a.sample > 30);
    const ecg = record.signals[0]!.digital;
    const ranges = beats.slice(0, 300).map((b) => {
      const qrs = ecg.subarray(b.sample - 25, b.sample + 25);
      return Math.max(...qrs) - Math.min(...qrs);
    });
    ranges.sort((a, b) => a - b);
    const signalPower = ranges[Math.floor(ranges.length / 2)]! ** 2 / 8;
    // stationary noise, so that the SNR of each burst is the one asked for (the muscle noise
    // record's loudness changes from minute to minute, as real artefact does)
    const random = seededRandom(5);
    const white = Int16Array.from({ length: 100_000 }, () => Math.round(100 * (random() + random() + random() - 1.5)));
    for (const snr of [6, 0, -6]) {
      const injected: InjectedFault[] = [];
      const plan = { kinds: ['noise' as const], everyS: 60, seed: 1, noise: white, noiseSnrDb: snr };
      const frames = [...injectFaults(clean, plan, injected)];
      const added: number[] = [];
      frames.forEach((f, i) => {
        if (!inEpisode(f, injected)) return;
        for (let k = 0; k < f.samples.length; k += f.leads.length) added.push(f.samples[k]! - clean[i]!.samples[k]!);
      });
      expect(added.length).toBe(injected.length * 10 * record.header.samplingFrequency);
      const mean = added.reduce((a, b) => a + b, 0) / added.length;
      const noisePower = added.reduce((a, b) => a + (b - mean) ** 2, 0) / added.length;
      expect(Math.abs(10 * Math.log10(signalPower / noisePower) - snr), `${snr} dB`).toBeLessThan(1);
    }
  });

  it.skipIf(noise === undefined)(
    'gives muscle-noise bursts at the default SNR that the monitor calls poor signal (by 5 s after each)',
    () => {
      const { frames, injected } = inject('noise');
      const monitor = new BedMonitor('bed');
      const poorFrom: number[] = [];
      for (const frame of frames)
        for (const a of monitor.onFrame(frame).alarms)
          if (a.type === 'poor-signal' && a.state === 'active') poorFrom.push(a.raisedS);
      expect(injected.length).toBeGreaterThanOrEqual(3);
      for (const burst of injected) expect(poorFrom.some((t) => t >= burst.startS && t <= burst.endS + 5)).toBe(true);
    },
  );
});
