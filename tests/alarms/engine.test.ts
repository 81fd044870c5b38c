import { type AamiClass } from '../../stream/contracts/aami.js';
import { describe, expect, it } from 'vitest';
import { AlarmEngine } from '../../stream/alarms/engine.js';
import type { Alarm, AlarmBeat, LeadStatus } from '../../stream/alarms/types.js';
import { seededRandom } from '../../stream/model/random.js';

const FS = 360;

/** Beats from (label, RR before it in s) pairs, starting at t = 1 s. */
function rhythm(spec: [AamiClass, number][], start = 1): AlarmBeat[] {
  let t = start;
  return spec.map(([label, rr]) => {
    t += rr;
    return { sample: Math.round(t * FS), timeS: t, label };
  });
}
const repeat = <T>(n: number, item: T): T[] => Array.from({ length: n }, () => item);

function feed(engine: AlarmEngine, beats: AlarmBeat[]): Alarm[] {
  return beats.flatMap((b) => engine.onBeat(b));
}
const states = (alarms: Alarm[]) => alarms.map((a) => `${a.type}:${a.state}`);
/** One ECG lead, off or readable. */
const off: LeadStatus[] = [{ index: 0, name: 'MLII', fault: 'lead-off' }];
const on: LeadStatus[] = [{ index: 0, name: 'MLII', fault: undefined }];

describe('AlarmEngine', () => {
  it('ventricular tachycardia: 5+ consecutive V above 100 bpm, active until a non-V beat', () => {
    const engine = new AlarmEngine('bed-1');
    const beats = rhythm([
      ...repeat(10, ['N', 0.8] as [AamiClass, number]),
      ...repeat(6, ['V', 0.4] as [AamiClass, number]),
      ['N', 0.8],
    ]);
    const alarms = feed(engine, beats);
    expect(states(alarms)).toEqual(['ventricular-tachycardia:active', 'ventricular-tachycardia:ended']);
    const [vt] = alarms;
    expect(vt).toMatchObject({
      priority: 'high',
      onsetS: beats[10]!.timeS,
      id: `bed-1/ventricular-tachycardia/${beats[10]!.sample}`,
    });
    expect(vt!.evidence).toEqual(beats.slice(10, 15).map((b) => b.sample));
  });

  it('judges the VT rate over the run, as CinC 2015 defines it, not interval by interval', () => {
    // MIT-BIH 223's VT alternates short and long intervals: 0.5 and 0.66 s average 103 bpm
    const engine = new AlarmEngine('b');
    const run = Array.from({ length: 8 }, (_, i) => ['V', i % 2 === 0 ? 0.5 : 0.66] as [AamiClass, number]);
    const beats = rhythm([...repeat(4, ['N', 0.8] as [AamiClass, number]), ...run]);
    const alarms = feed(engine, beats);
    expect(states(alarms)).toEqual(['ventricular-tachycardia:active']);
    expect(alarms[0]!.raisedS).toBeGreaterThan(beats[8]!.timeS - 1e-9); // once five V beats are in
    const slower = rhythm([
      ...repeat(4, ['N', 0.8] as [AamiClass, number]),
      ...repeat(8, ['V', 0.62] as [AamiClass, number]),
    ]);
    expect(states(feed(new AlarmEngine('b'), slower))).toEqual([]); // 97 bpm
  });

  it('a slow ventricular run becomes VT once five of its consecutive beats are faster than 100 bpm', () => {
    // MIT-BIH 205 at 1466 s: an 86-bpm run whose last beats speed up
    const beats = rhythm([
      ...repeat(4, ['N', 0.8] as [AamiClass, number]),
      ...repeat(8, ['V', 0.72] as [AamiClass, number]),
      ...repeat(3, ['V', 0.5] as [AamiClass, number]),
    ]);
    const alarms = feed(new AlarmEngine('b'), beats);
    expect(states(alarms)).toEqual(['ventricular-tachycardia:active']);
    // intervals 0.72, 0.5, 0.5, 0.5: the first five beats at 108 bpm, while the whole run is at 80
    expect(alarms[0]!.raisedS).toBeCloseTo(beats[14]!.timeS, 6);
    expect(alarms[0]!.onsetS).toBeCloseTo(beats[4]!.timeS, 6);
    expect(states(feed(new AlarmEngine('b'), beats.slice(0, 14)))).toEqual([]); // 0.72, 0.72, 0.5, 0.5: 98 bpm
  });

  it('slow ventricular runs are not VT; runs of 2 and 3-4 are couplets and runs', () => {
    const engine = new AlarmEngine('b');
    const slowRun = rhythm([
      ...repeat(5, ['N', 0.8] as [AamiClass, number]),
      ...repeat(6, ['V', 0.7] as [AamiClass, number]),
      ['N', 0.8],
    ]);
    expect(states(feed(engine, slowRun))).not.toContain('ventricular-tachycardia:active');
    const e2 = new AlarmEngine('b');
    const couplet = rhythm([
      ['N', 0.8],
      ['N', 0.8],
      ['V', 0.5],
      ['V', 0.5],
      ['N', 0.9],
      ['N', 0.8],
      ['V', 0.5],
      ['V', 0.5],
      ['V', 0.5],
      ['N', 0.9],
    ]);
    expect(states(feed(e2, couplet))).toEqual([
      'couplet:active',
      'couplet:ended',
      'ventricular-run:active',
      'ventricular-run:ended',
    ]);
  });

  it('extreme bradycardia (< 40 bpm for 5 beats) and tachycardia (> 140 bpm for 17 beats)', () => {
    const engine = new AlarmEngine('b');
    expect(states(feed(engine, rhythm(repeat(6, ['N', 1.6] as [AamiClass, number]))))).toEqual([
      'extreme-bradycardia:active',
    ]);
    const tachy = new AlarmEngine('b');
    const sixteen = rhythm(repeat(16, ['N', 0.4] as [AamiClass, number]));
    expect(states(feed(tachy, sixteen))).toEqual([]); // 16 beats only
    expect(states(tachy.onBeat({ sample: 99999, timeS: sixteen.at(-1)!.timeS + 0.4, label: 'N' }))).toEqual([
      'extreme-tachycardia:active',
    ]);
  });

  it('judges the rate over the stated beats, not interval by interval: a missed beat, an extra detection or an irregular rhythm does not decide it', () => {
    // 150 bpm for 17 beats, one of them missed by the detector (a double interval) and one
    // split in two (an extra detection): three intervals of sixteen out of range
    const spec: [AamiClass, number][] = repeat(17, ['N', 0.4] as [AamiClass, number]);
    spec[6] = ['N', 0.8];
    spec[11] = ['N', 0.2];
    spec[12] = ['N', 0.2];
    const tachy = new AlarmEngine('b');
    expect(states(feed(tachy, rhythm(spec)))).toEqual(['extreme-tachycardia:active']);
    // fast AF: intervals of 0.33 and 0.49 s in turn, half of them under 140 bpm, at 146 bpm over the 17 beats
    const irregular = new AlarmEngine('b');
    const af = rhythm(Array.from({ length: 17 }, (_, i): [AamiClass, number] => ['N', i % 2 === 0 ? 0.33 : 0.49]));
    expect(states(feed(irregular, af))).toEqual(['extreme-tachycardia:active']);
    // short and long intervals in turn at 100 bpm (couplets at 150 bpm between beats at 75) are not
    const couplets = new AlarmEngine('b');
    const pairs = rhythm(Array.from({ length: 20 }, (_, i): [AamiClass, number] => ['N', i % 4 < 2 ? 0.4 : 0.8]));
    expect(states(feed(couplets, pairs))).toEqual([]);
    // 35 bpm over 5 beats, one interval of them at 43 bpm
    const brady = new AlarmEngine('b');
    const slow = rhythm([
      ['N', 1],
      ['N', 1.7],
      ['N', 1.7],
      ['N', 1.4],
      ['N', 1.7],
    ]);
    expect(states(feed(brady, slow.slice(0, 4)))).toEqual([]);
    expect(states(feed(brady, slow.slice(4)))).toEqual(['extreme-bradycardia:active']);
    // fast stretches parted by a pause are not a sustained rate
    const parted = new AlarmEngine('b');
    expect(
      states(
        feed(
          parted,
          rhythm([
            ...repeat(8, ['N', 0.4] as [AamiClass, number]),
            ['N', 3],
            ...repeat(9, ['N', 0.4] as [AamiClass, number]),
          ]),
        ),
      ),
    ).toEqual(['pause:active', 'pause:ended']);
  });

  /** An engine that has seen five detected QRS complexes 0.8 s apart, and the last of them. */
  const afterFiveQrs = (): { engine: AlarmEngine; last: { sample: number; timeS: number } } => {
    const engine = new AlarmEngine('b');
    const beats = rhythm(repeat(5, ['N', 0.8] as [AamiClass, number]));
    for (const b of beats) engine.onQrs(b.sample, b.timeS);
    return { engine, last: beats.at(-1)! };
  };

  it('asystole follows detected QRS complexes: raised by time alone 4 s after the last, ended by the next', () => {
    const { engine, last } = afterFiveQrs();
    // the clock judges only what the detector has decided: 4 s of silence once 0.4 s more has passed
    expect(engine.onTime(last.timeS + 4.3)).toEqual([]);
    const raised = engine.onTime(last.timeS + 4.4);
    expect(states(raised)).toEqual(['asystole:active']);
    expect(raised[0]!.id).toBe(`b/asystole/${last.sample}`);
    expect(raised[0]!.onsetS).toBe(last.timeS);
    expect(engine.onTime(last.timeS + 6)).toEqual([]); // raised once
    expect(states(engine.onQrs(99999, last.timeS + 7))).toEqual(['asystole:ended']);
  });

  it('asystole is judged on QRS times, not report times: a QRS at 3.99 s reported late is no asystole, one at 4.1 s reported early is', () => {
    const { engine, last } = afterFiveQrs();
    expect(engine.onTime(last.timeS + 4.3)).toEqual([]);
    expect(engine.onQrs(last.sample + 1436, last.timeS + 3.99)).toEqual([]);
    const next = last.timeS + 3.99;
    expect(engine.onTime(next + 4.1)).toEqual([]);
    expect(states(engine.onQrs(last.sample + 2900, next + 4.1))).toEqual(['asystole:active', 'asystole:ended']);
  });

  it('a gap is a technical event: no pause, asystole or rhythm alarm across it', () => {
    const engine = new AlarmEngine('b');
    const before = rhythm(repeat(10, ['N', 0.8] as [AamiClass, number]));
    feed(engine, before.slice(0, 8));
    for (const b of before) engine.onQrs(b.sample, b.timeS);
    const gapEnd = before.at(-1)!.timeS + 5;
    expect(states(engine.onGap(before.at(-1)!.timeS, gapEnd))).toEqual(['signal-gap:active', 'signal-gap:ended']);
    // beats from before the gap, classified late, and the first beats after it
    expect(feed(engine, before.slice(8))).toEqual([]);
    expect(engine.onTime(gapEnd + 1)).toEqual([]);
    expect(feed(engine, rhythm(repeat(3, ['N', 0.8] as [AamiClass, number]), gapEnd))).toEqual([]);
  });

  it('bigeminy and trigeminy need 4 cycles', () => {
    const engine = new AlarmEngine('b');
    const cycle = (n: number): [AamiClass, number][] =>
      Array.from({ length: n }, (): [AamiClass, number][] => [
        ['N', 0.9],
        ['V', 0.5],
      ]).flat();
    const three = rhythm(cycle(3));
    expect(states(feed(engine, three))).toEqual([]);
    expect(states(feed(engine, rhythm(cycle(1), three.at(-1)!.timeS)))).toEqual(['bigeminy:active']);
    const tri = new AlarmEngine('b');
    const triCycles = Array.from({ length: 4 }, (): [AamiClass, number][] => [
      ['N', 0.8],
      ['N', 0.8],
      ['V', 0.5],
    ]).flat();
    expect(states(feed(tri, rhythm(triCycles)))).toContain('trigeminy:active');
  });

  it('irregular rhythm (AF-like) starts on irregular RR and ends with hysteresis', () => {
    const random = seededRandom(5);
    const engine = new AlarmEngine('b');
    const irregular = rhythm(Array.from({ length: 40 }, (): [AamiClass, number] => ['N', 0.5 + 0.5 * random()]));
    expect(states(feed(engine, irregular))).toEqual(['irregular-rhythm:active']);
    const regular = rhythm(repeat(40, ['N', 0.8] as [AamiClass, number]), irregular.at(-1)!.timeS);
    expect(states(feed(engine, regular))).toEqual(['irregular-rhythm:ended']);
  });

  it('frequent PVCs with compensatory pauses are not an irregular rhythm', () => {
    const engine = new AlarmEngine('b');
    const cycles = Array.from({ length: 30 }, (): [AamiClass, number][] => [
      ['N', 0.8],
      ['N', 0.8],
      ['V', 0.5],
      ['N', 1.1],
    ]).flat();
    expect(states(feed(engine, rhythm(cycles))).filter((s) => s.startsWith('irregular'))).toEqual([]);
  });

  it('is deterministic and ignores a redelivered beat', () => {
    const beats = rhythm([
      ...repeat(10, ['N', 0.8] as [AamiClass, number]),
      ...repeat(6, ['V', 0.4] as [AamiClass, number]),
      ['N', 0.8],
    ]);
    const a = feed(new AlarmEngine('bed-9'), beats);
    const withDuplicates = beats.flatMap((b, i) => (i % 3 === 0 ? [b, b] : [b]));
    const b = feed(new AlarmEngine('bed-9'), withDuplicates);
    expect(b).toEqual(a);
  });

  it('acknowledging keeps the alarm active but marked; technical alarms follow the signal', () => {
    const engine = new AlarmEngine('b');
    const [leadOff] = engine.onSignal(10, off, false);
    expect(leadOff).toMatchObject({ type: 'lead-off', priority: 'technical', state: 'active' });
    expect(engine.acknowledge(leadOff!.id)).toMatchObject({ acknowledged: true, state: 'active' });
    expect(engine.onSignal(11, off, false)).toEqual([]);
    expect(engine.onSignal(12, on, false)).toEqual([
      expect.objectContaining({ type: 'lead-off', state: 'ended', acknowledged: true, endS: 12 }),
    ]);
  });

  it('acknowledges an alarm that has ended (an event), once, and only one it knows', () => {
    const engine = new AlarmEngine('b');
    const beats = rhythm([...repeat(10, ['N', 0.8] as [AamiClass, number]), ['V', 0.4], ['V', 0.4], ['N', 0.8]]);
    const [raised, ended] = feed(engine, beats);
    expect(states([raised!, ended!])).toEqual(['couplet:active', 'couplet:ended']);
    expect(engine.acknowledge(ended!.id)).toEqual({ ...ended, acknowledged: true });
    expect(engine.acknowledge(ended!.id)).toBeUndefined(); // acknowledged already
    expect(engine.acknowledge('b/couplet/1')).toBeUndefined();
    // the last 16 ended alarms can be acknowledged, and no older one
    const couplet: [AamiClass, number][] = [
      ['V', 0.4],
      ['V', 0.4],
      ['N', 0.8],
      ['N', 0.8],
    ];
    let t = beats.at(-1)!.timeS;
    const couplets = (n: number): Alarm[] => {
      const next = rhythm(Array.from({ length: n }, () => couplet).flat(), t);
      t = next.at(-1)!.timeS;
      return feed(engine, next).filter((a) => a.state === 'ended');
    };
    const later = couplets(16);
    expect(states(later)).toEqual(repeat(16, 'couplet:ended'));
    expect(engine.acknowledge(later[0]!.id)).toMatchObject({ acknowledged: true });
    const newest = couplets(2);
    expect(states(newest)).toEqual(['couplet:ended', 'couplet:ended']);
    expect(engine.acknowledge(later[1]!.id)).toBeUndefined();
    expect(engine.acknowledge(later[2]!.id)).toMatchObject({ acknowledged: true });
    expect(engine.acknowledge(newest[1]!.id)).toMatchObject({ acknowledged: true });
    engine.onRelease(t + 600); // silent ten minutes: what the bed keeps is its active alarms
    expect(engine.acknowledge(newest[0]!.id)).toBeUndefined();
  });

  it('with the lead off, asystole is not called and no rhythm alarm spans the lead-off time', () => {
    const engine = new AlarmEngine('b');
    const beats = rhythm(repeat(8, ['N', 0.8] as [AamiClass, number]));
    feed(engine, beats);
    for (const b of beats) engine.onQrs(b.sample, b.timeS);
    const last = beats.at(-1)!.timeS;
    expect(states(engine.onSignal(last + 2, off, false))).toEqual(['lead-off:active']);
    expect(engine.onTime(last + 6)).toEqual([]); // 6 s without QRS, but the lead is off
    expect(states(engine.onSignal(last + 7, on, false))).toEqual(['lead-off:ended']);
    const after = rhythm(repeat(3, ['N', 0.8] as [AamiClass, number]), last + 7);
    expect(feed(engine, after)).toEqual([]); // no pause across the lead-off
  });

  it('holds arrhythmia alarms back while the signal is poor, but never ventricular fibrillation or asystole', () => {
    const vtRun = (start: number) =>
      rhythm([...repeat(4, ['N', 0.8] as [AamiClass, number]), ...repeat(6, ['V', 0.4] as [AamiClass, number])], start);
    const engine = new AlarmEngine('b');
    expect(states(engine.onSignal(1, on, true))).toEqual(['poor-signal:active']);
    const noisy = vtRun(1);
    expect(feed(engine, noisy)).toEqual([]); // V beats in artefact: no VT
    for (const b of noisy) engine.onQrs(b.sample, b.timeS);
    // no QRS at all for 5 s is asystole, noise or not: the heart's silence is not artefact
    expect(states(engine.onTime(noisy.at(-1)!.timeS + 5))).toEqual(['asystole:active']);
    expect(states(engine.onFibrillation(true, 9, 10))).toEqual(['ventricular-fibrillation:active']);
    expect(states(engine.onFibrillation(false, 9, 12))).toEqual(['ventricular-fibrillation:ended']);
    expect(states(engine.onSignal(20, on, false))).toEqual(['poor-signal:ended']);
    const clean = vtRun(20);
    // the first clean beat closes a 13-s pause (no beat was fed during the artefact), then the VT
    expect(states(feed(engine, clean))).toEqual(['pause:active', 'pause:ended', 'ventricular-tachycardia:active']);
  });

  it('does not call a fast V run VT where the signal path says it looks like flutter', () => {
    let flutter = true;
    const checked: [number, number][] = [];
    const engine = new AlarmEngine('b', undefined, (fromS, toS) => {
      checked.push([fromS, toS]);
      return flutter;
    });
    const beats = rhythm([
      ...repeat(4, ['N', 0.8] as [AamiClass, number]),
      ...repeat(7, ['V', 0.3] as [AamiClass, number]),
    ]);
    expect(states(feed(engine, beats.slice(0, 9)))).toEqual([]); // 5 fast V beats, flutter-like: no VT
    expect(checked.at(-1)).toEqual([beats[4]!.timeS, beats[8]!.timeS]); // the check covers the run
    flutter = false;
    const [vt] = feed(engine, beats.slice(9, 10));
    expect(vt).toMatchObject({ type: 'ventricular-tachycardia', state: 'active', onsetS: beats[4]!.timeS });
  });

  it('measures no pause from before a lead-off to a beat in the very frame where the signal came back', () => {
    const engine = new AlarmEngine('b');
    const beats = rhythm(repeat(6, ['N', 0.8] as [AamiClass, number]));
    feed(engine, beats);
    const last = beats.at(-1)!.timeS;
    engine.onSignal(last + 3, off, false);
    // the frame from last + 4 to last + 4.25 s is not flat; a beat 0.1 s into it is classified later
    expect(states(engine.onSignal(last + 4.25, on, false, last + 4))).toEqual(['lead-off:ended']);
    expect(feed(engine, rhythm([['N', 0.1]], last + 4))).toEqual([]);
  });

  it('holds a VF call while the detected complexes are an organised rhythm, and raises it when they are not', () => {
    const engine = new AlarmEngine('b');
    // a paced rhythm at 70 bpm, seen on both leads (each complex twice, 50 ms apart)
    for (let t = 1; t < 10; t += 0.85) {
      engine.onQrs(Math.round(t * FS), t);
      engine.onQrs(Math.round((t + 0.05) * FS), t + 0.05);
    }
    expect(engine.onFibrillation(true, 4, 10)).toEqual([]);
    expect(engine.onTime(10.5)).toEqual([]);
    // the complexes stop being regular: the VF the waveform reported is raised, from its onset
    for (const t of [10.6, 10.8, 11.3, 11.45, 12.2]) engine.onQrs(Math.round(t * FS), t);
    const [vf] = engine.onTime(12.5);
    expect(vf).toMatchObject({ type: 'ventricular-fibrillation', state: 'active', onsetS: 4 });
    expect(states(engine.onFibrillation(false, 4, 14))).toEqual(['ventricular-fibrillation:ended']);
  });

  it('holds a VF call over a regular fast rhythm of supraventricular beats, but not over fast regular V complexes', () => {
    // an SVT at 154 bpm: its complexes regular and classified S
    const call = (label: AamiClass) => {
      const engine = new AlarmEngine('b');
      const beats = rhythm(repeat(20, [label, 0.39] as [AamiClass, number]));
      for (const b of beats) {
        engine.onQrs(b.sample, b.timeS);
        engine.onBeat(b);
      }
      const end = beats.at(-1)!.timeS;
      return engine.onFibrillation(true, end - 4, end).map((a) => a.type);
    };
    expect(call('S')).toEqual([]);
    expect(call('V')).toEqual(['ventricular-fibrillation']);
  });

  it('stamps a stall with the stream time it stopped at, not with the last beat classified after it', () => {
    const engine = new AlarmEngine('b');
    engine.onTime(100);
    // beats are classified after the frames that showed them, and the last can come after the stall began
    feed(engine, rhythm([['N', 0.8]], 98.4));
    const [stalled] = engine.onStall(true);
    expect(stalled).toMatchObject({ type: 'stream-stalled', state: 'active', onsetS: 100 });
  });

  it('raises each lead fault as a technical alarm of its own lead, and calls asystole on the leads that can be read', () => {
    const engine = new AlarmEngine('b');
    const leads = (second: LeadStatus['fault'], first: LeadStatus['fault'] = undefined): LeadStatus[] => [
      { index: 0, name: 'II', fault: first },
      { index: 1, name: 'V', fault: second },
    ];
    for (const b of rhythm(repeat(5, ['N', 0.8] as [AamiClass, number]))) engine.onQrs(b.sample, b.timeS);
    const [flat] = engine.onSignal(5, leads('flat-line'), false);
    expect(flat).toMatchObject({ type: 'flat-line', lead: 'V', detail: 'lead V flat', priority: 'technical' });
    expect(flat!.id).toMatch(/^b\/flat-line\/\d+-1$/);
    // lead II still reads: its silence is asystole
    expect(states(engine.onTime(10))).toEqual(['asystole:active']);
    // V saturates: the flat-line alarm ends and a saturation alarm of V starts
    expect(states(engine.onSignal(11, leads('saturation'), false))).toEqual(['flat-line:ended', 'saturation:active']);
    // now II is off too: nothing can be read, so no asystole is being called, only the leads' alarms
    expect(states(engine.onSignal(12, leads('saturation', 'lead-off'), false))).toEqual([
      'lead-off:active',
      'asystole:ended',
    ]);
    expect(engine.onTime(20)).toEqual([]);
  });

  describe('the pulse as a second witness', () => {
    /** An engine that has had a pulse in PLETH every `everyS` from 1 s to `toS`, and QRS complexes with them up to `qrsUntilS`. */
    const withPulse = (toS: number, qrsUntilS: number, everyS = 0.8): AlarmEngine => {
      const engine = new AlarmEngine('b');
      for (let t = 1; t <= toS; t += everyS) {
        if (t <= qrsUntilS) engine.onQrs(Math.round(t * FS), t);
        engine.onPulse('PLETH', [{ timeS: t + 0.3, strength: 2 }], true, t + 0.3);
      }
      return engine;
    };

    it('withholds an asystole the pulse contradicts, and raises it, confirmed, when the pulse stops too', () => {
      const engine = withPulse(30, 20);
      expect(engine.onTime(30)).toEqual([]);
      expect(engine.drainWithheld()).toEqual([
        {
          type: 'asystole',
          atS: expect.any(Number) as number,
          reason: 'pulse present in PLETH at 75 bpm: asystole withheld',
        },
      ]);
      const stopped = withPulse(20.5, 20);
      stopped.onPulse('PLETH', [], true, 30);
      const [asystole] = stopped.onTime(30);
      expect(asystole).toMatchObject({
        type: 'asystole',
        state: 'active',
        detail: expect.stringMatching(/^no pulse in PLETH for \d+ s$/) as string,
      });
    });

    it('withholds nothing where the pulse signal cannot be read or has shown no pulse train before', () => {
      const unreadable = withPulse(30, 20);
      unreadable.onPulse('PLETH', [], false, 30);
      expect(states(unreadable.onTime(30))).toEqual(['asystole:active']);
      const fresh = new AlarmEngine('b');
      fresh.onQrs(FS, 1);
      fresh.onPulse(
        'PLETH',
        [
          { timeS: 3, strength: 2 },
          { timeS: 4, strength: 2 },
        ],
        true,
        8,
      );
      expect(states(fresh.onTime(8))).toEqual(['asystole:active']);
    });

    it('withholds VF while pulses of the usual strength go on, and bradycardia at a pulse rate far above the limit, but not tachycardia at a slower pulse', () => {
      // the QRS complexes stop (no organised rhythm) but the pulse goes on: an artefact
      const vf = withPulse(30, 22);
      expect(vf.onFibrillation(true, 24, 30)).toEqual([]);
      expect(vf.drainWithheld().map((w) => w.type)).toEqual(['ventricular-fibrillation']);
      // the ECG's beats at 35 bpm while the pulse goes on at 75
      const brady = withPulse(40, 0);
      expect(feed(brady, rhythm(repeat(6, ['N', 1.7] as [AamiClass, number]), 28))).toEqual([]);
      expect(brady.drainWithheld().map((w) => w.reason)).toEqual([
        'pulse present in PLETH at 75 bpm: extreme-bradycardia withheld',
      ]);
      // and with the pulse at 35 bpm too, the bradycardia is raised with it
      const slow = withPulse(60, 0, 1.7);
      const [raised] = feed(slow, rhythm(repeat(6, ['N', 1.7] as [AamiClass, number]), 45));
      expect(raised).toMatchObject({ type: 'extreme-bradycardia', detail: 'pulse in PLETH at 35 bpm' });
      // a fast rhythm with a slower pulse (a pulse deficit) is raised, the pulse rate in its detail
      const fast = withPulse(40, 0);
      const [tachy] = feed(fast, rhythm(repeat(18, ['N', 0.4] as [AamiClass, number]), 28));
      expect(tachy).toMatchObject({ type: 'extreme-tachycardia', detail: 'pulse in PLETH at 75 bpm' });
      expect(fast.drainWithheld()).toEqual([]);
    });
  });
  describe('the second ECG lead as a witness', () => {
    /** 30 s of N beats at 75 bpm seen by both leads (so the second is trusted), then `then` on the first lead alone while the second goes on at 75. */
    const agreedThen = (then: [AamiClass, number][]) => {
      const engine = new AlarmEngine('b');
      const both = rhythm(repeat(38, ['N', 0.8] as [AamiClass, number]));
      for (const b of both) {
        engine.onSecondLead('V1', [{ timeS: b.timeS, strength: 1 }], true, b.timeS);
        engine.onQrs(b.sample, b.timeS);
        engine.onBeat(b);
      }
      const last = both.at(-1)!.timeS;
      const first = rhythm(then, last);
      const alarms: Alarm[] = [];
      for (let t = last + 0.8; t <= first.at(-1)!.timeS + 0.8; t += 0.8)
        engine.onSecondLead('V1', [{ timeS: t, strength: 1 }], true, t);
      for (const b of first) {
        alarms.push(...engine.onQrs(b.sample, b.timeS), ...engine.onBeat(b));
      }
      return { engine, alarms, endS: first.at(-1)!.timeS };
    };

    it('withholds a VT whose rate the second lead does not show', () => {
      // five V beats at 109 bpm on the first lead over 2.2 s, three QRS complexes at 75 on the second
      const { engine, alarms } = agreedThen(repeat(5, ['V', 0.55] as [AamiClass, number]));
      expect(alarms.filter((a) => a.type === 'ventricular-tachycardia')).toEqual([]);
      expect(engine.drainWithheld().map((w) => w.reason)).toEqual([
        'lead V1 shows 75 bpm: ventricular-tachycardia withheld',
      ]);
    });

    it('withholds VF while the second lead goes on showing QRS complexes at 75 bpm', () => {
      // the first lead's complexes give way to fast waves the detector does not take for QRS
      const { engine, endS } = agreedThen(repeat(1, ['N', 0.8] as [AamiClass, number]));
      for (let t = endS + 0.8; t <= endS + 6.4; t += 0.8)
        engine.onSecondLead('V1', [{ timeS: t, strength: 1 }], true, t);
      expect(engine.onFibrillation(true, endS + 1, endS + 6)).toEqual([]);
      expect(engine.drainWithheld().map((w) => w.reason)).toEqual([
        'lead V1 shows 75 bpm: ventricular-fibrillation withheld',
      ]);
    });
  });
});
