import { describe, expect, it } from 'vitest';
import { recordFrames } from '../../simulators/replay.js';
import type { Alarm } from '../../stream/alarms/types.js';
import { INVALID_SAMPLE, type SampleFrame } from '../../stream/contracts/frame.js';
import { ReferenceLabels } from '../../stream/eval/referenceLabels.js';
import { recordBeats } from '../../stream/model/dataset.js';
import { BedMonitor, DEFAULT_BED } from '../../stream/pipeline/bedMonitor.js';
import { codeForSymbol, mitdbDir, readAnnotations, readRecord, sharedDataDir } from '../../stream/wfdb/index.js';

/** Asystole onsets (s) a fresh bed raises on a record's frames from `fromS` to `toS`. */
async function asystoleOnsets(
  record: string,
  fromS: number,
  toS: number,
  leads: (frame: SampleFrame) => SampleFrame = (f) => f,
): Promise<number[]> {
  const r = await readRecord(mitdbDir(), record);
  const monitor = new BedMonitor('bed');
  const onsets: number[] = [];
  for (const frame of recordFrames(r, 'bed', `mitdb/${record}`)) {
    const startS = frame.firstSample / frame.sampleRate;
    if (startS < fromS) continue;
    if (startS >= toS) break;
    for (const a of monitor.onFrame(leads(frame)).alarms)
      if (a.type === 'asystole' && a.state === 'active') onsets.push(Math.round(a.onsetS * 10) / 10);
  }
  return onsets;
}

/** The frame with its first lead only (MLII in these records). */
function firstLeadOnly(frame: SampleFrame): SampleFrame {
  const n = frame.samples.length / frame.leads.length;
  return {
    ...frame,
    leads: frame.leads.slice(0, 1),
    samples: Int16Array.from({ length: n }, (_, i) => frame.samples[i * frame.leads.length]!),
  };
}

describe('BedMonitor asystole on two leads', () => {
  it('does not call asystole when the monitoring lead fades but the second lead still shows QRS complexes', async () => {
    // record 116: MLII shrinks to 0.2 mV for about 8 s at 1354 s while V1 keeps every beat
    expect(await asystoleOnsets('116', 1300, 1370)).toEqual([]);
    expect(await asystoleOnsets('116', 1300, 1370, firstLeadOnly)).toEqual([1354.4]);
  });

  it('calls a real pause asystole even when a blip of noise shows in the second lead', async () => {
    // record 232 (reference pauses at 1314.4 and 1329.1 s): in the second, V1 has one small
    // deflection of the wrong polarity at 1332.6 s
    expect(await asystoleOnsets('232', 1300, 1340)).toEqual([1314.5, 1329.2]);
  });
});

/**
 * VT onsets (s) a fresh bed raises on a record from `fromS` to `toS`, its beats labelled by the
 * reference, with flutter waves labelled V as the classifier labels them, each as soon as its
 * window is cut.
 */
async function vtOnsets(record: string, fromS: number, toS: number): Promise<number[]> {
  const r = await readRecord(mitdbDir(), record);
  const annotations = (await readAnnotations(mitdbDir(), record)).map((a) =>
    a.symbol === '!' ? { ...a, symbol: 'V', code: codeForSymbol('V') } : a,
  );
  const labels = new ReferenceLabels(async () => annotations);
  const monitor = new BedMonitor('bed');
  const onsets: number[] = [];
  const collect = (alarms: readonly Alarm[]) => {
    for (const a of alarms)
      if (a.type === 'ventricular-tachycardia' && a.state === 'active') onsets.push(Math.round(a.onsetS * 10) / 10);
  };
  for (const frame of recordFrames(r, 'bed', `mitdb/${record}`)) {
    const startS = frame.firstSample / frame.sampleRate;
    if (startS < fromS) continue;
    if (startS >= toS) break;
    const { beats, alarms } = monitor.onFrame(frame);
    collect(alarms);
    for (const b of beats) collect(monitor.onClassified({ ...b, label: await labels.classOf('bed', b.rPeakSample) }));
  }
  return onsets;
}

describe('BedMonitor tells flutter waves from ventricular tachycardia', () => {
  it('raises no VT where the signal over a fast V run is nearly sinusoidal: three flutter onsets of MIT-BIH 207', async () => {
    // 207's flutter episodes begin at 40.8, 54.9, 269.6 and 1540.9 s; the first five waves of the
    // one at 40.8 s are less regular (leakage 0.52) and are still called VT
    expect(await vtOnsets('207', 35, 70)).toEqual([expect.closeTo(41, 0)]);
    expect(await vtOnsets('207', 262, 285)).toEqual([]);
    expect(await vtOnsets('207', 1520, 1555)).toEqual([]);
  });

  it('still raises VT on real VT, VF-like (205) or not (223)', async () => {
    expect(await vtOnsets('205', 280, 310)).toEqual([expect.closeTo(299, 0), expect.closeTo(303.5, 0)]);
    expect(await vtOnsets('223', 560, 590)).toEqual([expect.closeTo(578.5, 0)]);
  });
});

describe("BedMonitor gives the classifier the bed's second lead", () => {
  it('cuts it at the same R peaks as the training beat set, and goes on without it when a bed loses it', async () => {
    const r = await readRecord(mitdbDir(), '223');
    const offline = await recordBeats(mitdbDir(), '223');
    const monitor = new BedMonitor('bed', { ...DEFAULT_BED, secondLeadWindows: true });
    const live = new Map<number, Float32Array | undefined>();
    let oneLeadBeats = 0;
    for (const frame of recordFrames(r, 'bed', 'mitdb/223')) {
      const startS = frame.firstSample / frame.sampleRate;
      if (startS >= 60) break;
      // the second lead comes off at 40 s: the bed restarts on one lead instead of failing
      const { beats } = monitor.onFrame(startS < 40 ? frame : firstLeadOnly(frame));
      for (const b of beats) {
        if (startS < 40) live.set(b.rPeakSample, b.window.secondLead?.samples);
        else {
          expect(b.window.secondLead).toBeUndefined();
          oneLeadBeats++;
        }
      }
    }
    expect(oneLeadBeats).toBeGreaterThan(10);
    let compared = 0;
    offline.sourceSample.forEach((sample, i) => {
      const cut = live.get(Math.round(sample));
      if (cut === undefined) return;
      // the frames carry the record's int16 samples, the offline set the same values in mV
      for (let k = 0; k < cut.length; k += 11) expect(cut[k]).toBeCloseTo(offline.secondWindows[i]![k]!, 4);
      compared++;
    });
    expect(compared).toBeGreaterThan(30);
  });
});

describe('BedMonitor beats waiting for the beat after them', () => {
  it('lets them go when the stream is cut, at a stall and at a gap, so that no beat it showed is lost', async () => {
    // record 232: sinus bradycardia with pauses of several seconds, the beat before each of
    // which waits for the next (up to 2 s) after its window is complete (1 s)
    const r = await readRecord(mitdbDir(), '232');
    const fs = r.header.samplingFrequency;
    const frames = [...recordFrames(r, 'bed', 'mitdb/232')].filter((f) => f.firstSample >= 1290 * fs);
    const uncut = new BedMonitor('bed');
    const all = frames.flatMap((f) => uncut.onFrame(f).beats);
    const beforePause = all.find((b) => b.window.rrNext === Infinity)!;
    const cutSample = beforePause.rPeakSample + 1.5 * fs;
    const before = frames.filter((f) => f.firstSample + f.samples.length / f.leads.length <= cutSample);
    // every beat up to the one before the pause, whose window lies in the signal before the cut
    const shown = all.filter((b) => b.rPeakSample <= beforePause.rPeakSample).map((b) => b.rPeakSample);

    const stalled = new BedMonitor('bed');
    const seen = before.flatMap((f) => stalled.onFrame(f).beats);
    expect(seen.map((b) => b.rPeakSample)).toEqual(shown.slice(0, -1)); // it waits for the next beat
    const flushed = stalled.onStalled().beats;
    expect(flushed.map((b) => [b.rPeakSample, b.window.rrNext])).toEqual([[beforePause.rPeakSample, undefined]]);
    expect(stalled.onStalled().beats).toEqual([]); // nothing is let go twice

    const gapped = new BedMonitor('bed');
    before.forEach((f) => gapped.onFrame(f));
    const afterGap = frames.find((f) => f.firstSample >= cutSample + 10 * fs)!;
    const first = gapped.onFrame(afterGap);
    expect(first.beats.map((b) => [b.rPeakSample, b.window.rrNext])).toEqual([[beforePause.rPeakSample, undefined]]);
    expect(first.alarms.map((a) => a.type)).toContain('signal-gap');
  });
});

describe('BedMonitor reads what an ICU monitor records', () => {
  it('calls a lead whose samples the device marks invalid off, on that lead alone, and watches the other', async () => {
    // CinC 2015 a165l (a false asystole alarm): lead V is invalid for most of the record, II reads
    const r = await readRecord(sharedDataDir('cinc2015'), 'a165l');
    const monitor = new BedMonitor('bed');
    const alarms: Alarm[] = [];
    let beats = 0;
    for (const frame of recordFrames(r, 'bed', 'cinc2015/a165l')) {
      if (frame.firstSample / frame.sampleRate >= 300) break;
      const out = monitor.onFrame(frame);
      alarms.push(...out.alarms);
      beats += out.beats.length;
    }
    const leadOff = alarms.filter((a) => a.type === 'lead-off' && a.state === 'active');
    expect(leadOff.length).toBeGreaterThan(0);
    expect(new Set(leadOff.map((a) => a.lead))).toEqual(new Set(['V']));
    expect(leadOff[0]!.id).toMatch(/^bed\/lead-off\/\d+-1$/);
    // the monitor goes on reading II: beats all along (about 80 bpm), no asystole called on the lead that is off
    expect(beats).toBeGreaterThan(300);
    expect(alarms.filter((a) => a.type === 'asystole')).toEqual([]);
  });

  it('moves its analysis to the other lead when the monitoring lead goes off, and keeps finding beats', async () => {
    const r = await readRecord(mitdbDir(), '100');
    const monitor = new BedMonitor('bed');
    const found: number[] = [];
    const alarms: Alarm[] = [];
    for (const frame of recordFrames(r, 'bed', 'mitdb/100')) {
      const startS = frame.firstSample / frame.sampleRate;
      if (startS >= 60) break;
      // MLII's electrode comes off at 20 s: the device marks its samples invalid
      const off =
        startS < 20
          ? frame
          : { ...frame, samples: frame.samples.map((v, i) => (i % frame.leads.length === 0 ? INVALID_SAMPLE : v)) };
      const out = monitor.onFrame(off);
      alarms.push(...out.alarms);
      found.push(...out.beats.map((b) => b.timeS));
    }
    expect(alarms.filter((a) => a.state === 'active').map((a) => `${a.type} ${a.lead ?? ''}`)).toEqual([
      'lead-off MLII',
    ]);
    // record 100 beats at about 75 bpm: the last 30 s, read on V5, hold about as many beats
    const late = found.filter((t) => t >= 30);
    expect(late.length).toBeGreaterThan(30);
  });
});
