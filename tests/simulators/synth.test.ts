import { firstValueFrom, from, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { recordFrames } from '../../simulators/replay.js';
import { DEFAULT_SYNTH, parseSynthEvents, synthesizeRecord, type SynthConfig } from '../../simulators/synth.js';
import type { Alarm } from '../../stream/alarms/types.js';
import { EcgFrontEnd } from '../../stream/dsp/index.js';
import { Ec57Matcher } from '../../stream/eval/ec57.js';
import { monitorWard } from '../../stream/pipeline/ward.js';
import { isQrsCode, toPhysical } from '../../stream/wfdb/index.js';
import { annotationClassifier } from '../helpers/referenceClassifier.js';

const config = (events: string, extra: Partial<SynthConfig> = {}): SynthConfig => ({
  ...DEFAULT_SYNTH,
  durationS: 200,
  events: parseSynthEvents(events),
  ...extra,
});

/** Runs a synthetic bed through the ward pipeline, labelling beats from its own annotations. */
async function alarmsOf(c: SynthConfig): Promise<Alarm[]> {
  const { record, annotations } = synthesizeRecord(c);
  const events = await firstValueFrom(
    from([...recordFrames(record, 'synth', 'synth/test')]).pipe(
      monitorWard({
        classify: annotationClassifier(async () => annotations),
        batching: { maxBatch: 32, maxWaitMs: 1 },
      }),
      toArray(),
    ),
  );
  return events.flatMap((e) => (e.kind === 'alarm' && e.alarm.state === 'active' ? [e.alarm] : []));
}

describe('synthetic ECG (McSharry-style)', () => {
  it('is deterministic from its seed and differs between seeds', () => {
    const a = synthesizeRecord(config('demo'));
    const b = synthesizeRecord(config('demo'));
    const c = synthesizeRecord(config('demo', { seed: 2 }));
    expect(a.record.signals[0]!.digital).toEqual(b.record.signals[0]!.digital);
    expect(a.record.signals[0]!.digital).not.toEqual(c.record.signals[0]!.digital);
  });

  it.each([250, 360, 500])(
    'has every annotated beat found by the detector at %i Hz, with heart-rate variability',
    (fs) => {
      const { record, annotations } = synthesizeRecord(
        config('pvc@20,couplet@40,vt@60:8,pause@90,af@110:50', { sampleRate: fs }),
      );
      const reference = annotations.filter((a) => isQrsCode(a.code)).map((a) => a.sample);
      const found = new EcgFrontEnd({ sourceHz: fs })
        .push(toPhysical(record.signals[0]!))
        .peaks.map((p) => Math.round(p.sourceSample));
      const r = new Ec57Matcher({ fs, windowS: 0.15, excluded: [] }).match(reference, found);
      expect(r.fn).toBe(0);
      expect(r.fp).toBe(0);
      const sinus = annotations.filter((a, i) => i > 0 && a.symbol === 'N' && a.sample / fs < 19);
      const rr = sinus.slice(1).map((a, i) => (a.sample - sinus[i]!.sample) / fs);
      const mean = rr.reduce((x, y) => x + y, 0) / rr.length;
      const sd = Math.sqrt(rr.reduce((x, y) => x + (y - mean) ** 2, 0) / rr.length);
      expect(mean).toBeCloseTo(60 / DEFAULT_SYNTH.heartRateBpm, 1);
      expect(sd).toBeGreaterThan(0.01);
    },
  );

  it('annotates its events the MIT-BIH way: V beats, (VT runs, (AFIB, no beats while the lead is off', () => {
    const { annotations } = synthesizeRecord(config('pvc@20,vt@60:8,af@110:50,lead-off@170:5'));
    const fs = DEFAULT_SYNTH.sampleRate;
    expect(annotations.filter((a) => a.symbol === 'V')).toHaveLength(9);
    expect(annotations.filter((a) => a.aux !== '').map((a) => a.aux)).toEqual(['(N', '(VT', '(N', '(AFIB', '(N']);
    expect(annotations.some((a) => a.sample / fs > 170 && a.sample / fs < 175 && isQrsCode(a.code))).toBe(false);
  });

  it('drives the alarms its events stand for', async () => {
    const types = (alarms: Alarm[]) => new Set(alarms.map((a) => a.type));
    const calm = await alarmsOf(config(''));
    expect(calm).toEqual([]);
    const events = await alarmsOf(config('couplet@30,vt@60:8,pause@100:2.8,asystole@130:6,lead-off@170:5'));
    expect(types(events)).toEqual(new Set(['couplet', 'ventricular-tachycardia', 'pause', 'asystole', 'lead-off']));
    const vt = events.find((a) => a.type === 'ventricular-tachycardia')!;
    const { annotations } = synthesizeRecord(config('couplet@30,vt@60:8,pause@100:2.8,asystole@130:6,lead-off@170:5'));
    const vtOnset = annotations.find((a) => a.aux === '(VT')!.sample / DEFAULT_SYNTH.sampleRate;
    expect(vt.onsetS).toBeCloseTo(vtOnset, 2);
    expect(vt.raisedS - vt.onsetS).toBeLessThan(10);
    const asystole = events.find((a) => a.type === 'asystole')!;
    expect(asystole.raisedS).toBeGreaterThan(130);
    expect(asystole.raisedS).toBeLessThan(136);
    const noisy = await alarmsOf(config('noise@60:15'));
    const poor = noisy.find((a) => a.type === 'poor-signal');
    expect(poor?.onsetS).toBeGreaterThan(60);
    expect(poor?.raisedS).toBeLessThan(75 + 2);
    expect(noisy.filter((a) => a.priority === 'high')).toEqual([]);
    const af = await alarmsOf(config('af@30:120'));
    expect(types(af)).toEqual(new Set(['irregular-rhythm']));
  });

  it('refuses a malformed event script with the accepted form', () => {
    expect(() => parseSynthEvents('vt@sixty')).toThrow(/kind@seconds\[:size\]/);
    expect(() => parseSynthEvents('flutter@10')).toThrow(/pvc, couplet, vt/);
    expect(parseSynthEvents('vt@60')).toEqual([{ kind: 'vt', atS: 60, size: 8 }]);
  });
});
