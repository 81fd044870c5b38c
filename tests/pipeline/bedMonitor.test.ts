import { describe, expect, it } from 'vitest';
import { recordFrames } from '../../simulators/replay.js';
import type { SampleFrame } from '../../stream/kafka/frame.js';
import { BedMonitor } from '../../stream/pipeline/bedMonitor.js';
import { mitdbDir, readRecord } from '../../stream/wfdb/index.js';

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
