import { type AamiClass } from '../../stream/contracts/aami.js';
import { describe, expect, it } from 'vitest';
import { AlarmEngine } from '../../stream/alarms/engine.js';
import type { Alarm, AlarmBeat } from '../../stream/alarms/types.js';
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
    const sixteen = rhythm(repeat(17, ['N', 0.4] as [AamiClass, number]));
    expect(states(feed(tachy, sixteen))).toEqual([]); // 16 intervals only
    expect(states(tachy.onBeat({ sample: 99999, timeS: sixteen.at(-1)!.timeS + 0.4, label: 'N' }))).toEqual([
      'extreme-tachycardia:active',
    ]);
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
    const [leadOff] = engine.onSignal(10, true, false);
    expect(leadOff).toMatchObject({ type: 'lead-off', priority: 'technical', state: 'active' });
    expect(engine.acknowledge(leadOff!.id)).toMatchObject({ acknowledged: true, state: 'active' });
    expect(engine.onSignal(11, true, false)).toEqual([]);
    expect(engine.onSignal(12, false, false)).toEqual([
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
    expect(states(engine.onSignal(last + 2, true, false))).toEqual(['lead-off:active']);
    expect(engine.onTime(last + 6)).toEqual([]); // 6 s without QRS, but the lead is off
    expect(states(engine.onSignal(last + 7, false, false))).toEqual(['lead-off:ended']);
    const after = rhythm(repeat(3, ['N', 0.8] as [AamiClass, number]), last + 7);
    expect(feed(engine, after)).toEqual([]); // no pause across the lead-off
  });

  it('holds arrhythmia alarms back while the signal is poor, but never ventricular fibrillation', () => {
    const vtRun = (start: number) =>
      rhythm([...repeat(4, ['N', 0.8] as [AamiClass, number]), ...repeat(6, ['V', 0.4] as [AamiClass, number])], start);
    const engine = new AlarmEngine('b');
    expect(states(engine.onSignal(1, false, true))).toEqual(['poor-signal:active']);
    const noisy = vtRun(1);
    expect(feed(engine, noisy)).toEqual([]); // V beats in artefact: no VT
    for (const b of noisy) engine.onQrs(b.sample, b.timeS);
    expect(engine.onTime(noisy.at(-1)!.timeS + 5)).toEqual([]); // no asystole either
    expect(states(engine.onFibrillation(true, 9, 10))).toEqual(['ventricular-fibrillation:active']);
    expect(states(engine.onFibrillation(false, 9, 12))).toEqual(['ventricular-fibrillation:ended']);
    expect(states(engine.onSignal(20, false, false))).toEqual(['poor-signal:ended']);
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
    engine.onSignal(last + 3, true, false);
    // the frame from last + 4 to last + 4.25 s is not flat; a beat 0.1 s into it is classified later
    expect(states(engine.onSignal(last + 4.25, false, false, last + 4))).toEqual(['lead-off:ended']);
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

  it('stamps a stall with the stream time it stopped at, not with the last beat classified after it', () => {
    const engine = new AlarmEngine('b');
    engine.onTime(100);
    // beats are classified after the frames that showed them, and the last can come after the stall began
    feed(engine, rhythm([['N', 0.8]], 98.4));
    const [stalled] = engine.onStall(true);
    expect(stalled).toMatchObject({ type: 'stream-stalled', state: 'active', onsetS: 100 });
  });
});
