import { type DecisionReason } from '../../stream/contracts/decisions.js';
import { describe, expect, it } from 'vitest';
import {
  falseAlarms,
  highPriorityEpisodeDuring,
  missedEpisodes,
  referenceEpisodes,
  scoreAlarms,
  scoreBeats,
  type ReferenceEpisode,
} from '../../stream/eval/validate.js';
import type { BeatMessage } from '../../stream/contracts/messages.js';
import { codeForSymbol, type Annotation } from '../../stream/wfdb/index.js';

const FS = 360;
const ann = (timeS: number, symbol: string, aux = ''): Annotation => ({
  sample: Math.round(timeS * FS),
  code: codeForSymbol(symbol),
  symbol,
  subtype: 0,
  channel: 0,
  num: 0,
  aux,
});

const liveBeat = (
  timeS: number,
  label: BeatMessage['label'],
  decision: BeatMessage['decision'] = { reason: 'network', votedV: label === 'V' ? 1 : 0 },
): BeatMessage => ({
  v: 1,
  bedId: 'bed-1',
  source: 'mitdb/100',
  rPeakSample: Math.round(timeS * FS),
  timeS,
  rrS: null,
  label,
  probabilities: { N: 0, S: 0, V: 0, F: 0, Q: 0, [label]: 1 },
  decision,
  modelId: 'test',
  quality: 1,
  latency: { windowCompleteMs: 0, publishedMs: 0 },
});

describe('validation references and scoring', () => {
  it('pairs live beat labels with the reference beat by beat, missed beats and extra detections included', () => {
    const reference = [ann(1, 'N'), ann(2, 'V'), ann(3, 'F'), ann(4, 'A'), ann(5, 'V')];
    // the V at 5 s is missed; a V-labelled detection at 6 s has no reference beat; 2 s is published twice
    const live = [1, 2, 2, 3, 4, 6].map((t, i) => liveBeat(t + 0.01, (['N', 'V', 'V', 'V', 'N', 'V'] as const)[i]!));
    const score = scoreBeats(reference, FS, 10 * FS, live);
    expect(score).toMatchObject({ tp: 4, fn: 1, fp: 1, duplicateBeats: 1 });
    expect(score.classPairs).toEqual({ 'N->N': 1, 'V->V': 1, 'F->V': 1, 'S->N': 1, 'V->O': 1, 'O->V': 1 });
    expect(score.decisions).toEqual({ network: { beats: 4, agreeing: 2 } });
    // the same, beat by beat and in time order, for a validation engineer's --beats file
    expect(
      score.beats.map((b) => [b.referenceSample === null ? null : b.referenceSample / FS, b.reference, b.beat?.label]),
    ).toEqual([
      [1, 'N', 'N'],
      [2, 'V', 'V'],
      [3, 'F', 'V'],
      [4, 'S', 'N'],
      [5, 'V', undefined],
      [null, 'O', 'V'],
    ]);
    expect(score.beats[5]!.beat!.rPeakSample).toBe(Math.round(6.01 * FS));
  });

  it('counts matched beats by the decision step that labelled them, with the reference agreeing or not', () => {
    const reference = [ann(1, 'N'), ann(2, 'V'), ann(3, 'A'), ann(4, 'N'), ann(5, 'A')];
    const by = (reason: DecisionReason) => ({ reason, votedV: 0.1 });
    const live = [
      liveBeat(1.01, 'N', by('network')),
      liveBeat(2.01, 'N', by('family')),
      liveBeat(3.01, 'S', by('premature')),
      liveBeat(4.01, 'S', by('premature')),
      liveBeat(5.01, 'N', by('irregular-rhythm')),
      liveBeat(6.01, 'S', by('premature')), // no reference beat: not counted
    ];
    expect(scoreBeats(reference, FS, 10 * FS, live).decisions).toEqual({
      network: { beats: 1, agreeing: 1 },
      family: { beats: 1, agreeing: 0 },
      premature: { beats: 2, agreeing: 1 },
      'irregular-rhythm': { beats: 1, agreeing: 0 },
    });
  });

  it('derives VT episodes of 5+ beats from rhythm labels and a 6 s pause as asystole from the beats', () => {
    const beats = [1, 2, 3, 4, 5, 6, 12, 13, 14, 15, 16, 17, 18, 19].map((t) => ann(t, 'N'));
    const vt = [
      ann(20, '+', '(VT'),
      ...[20.4, 20.8, 21.2, 21.6, 22.0].map((t) => ann(t, 'V')),
      ann(22.5, '+', '(N'),
      ann(23, 'N'),
    ];
    const episodes = referenceEpisodes(
      [...beats, ...vt].sort((a, b) => a.sample - b.sample),
      FS,
      60,
    );
    expect(episodes.filter((e) => e.type === 'ventricular-tachycardia')).toEqual([
      { type: 'ventricular-tachycardia', startS: 20, endS: 22.5, origin: 'rhythm' },
    ]);
    expect(episodes.filter((e) => e.type === 'asystole')).toEqual([
      { type: 'asystole', startS: 6, endS: 12, origin: 'beats' },
    ]);
    // a rhythm label that is an inherited property name of the table is no rhythm it knows
    const odd = [ann(0.5, '+', 'toString'), ann(0.7, '+', 'constructor'), ...beats];
    expect(referenceEpisodes(odd, FS, 20).filter((e) => e.origin === 'rhythm')).toEqual([]);
  });

  it('derives no asystole across a ventricular flutter interval, where no QRS is marked', () => {
    const beats = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, k) => ann(from + k, 'N'));
    const silent = [...beats(1, 10), ...beats(20, 30)];
    const flutter = [...beats(1, 10), ann(10.5, '['), ann(19.5, ']'), ...beats(20, 30)];
    const asystole = (annotations: Annotation[]) =>
      referenceEpisodes(annotations, FS, 40).filter((e) =>
        ['asystole', 'pause', 'extreme-bradycardia'].includes(e.type),
      );
    expect(asystole(silent).map((e) => e.type)).toContain('asystole');
    expect(asystole(flutter)).toEqual([]);
  });

  it('counts an alarm raised within 10 s of the onset as detected, and one far from any episode as false', () => {
    const reference = [{ type: 'ventricular-tachycardia' as const, startS: 100, endS: 110, origin: 'rhythm' as const }];
    const alert = (id: string, onsetS: number, raisedS: number) => ({
      v: 1 as const,
      id,
      bedId: 'b',
      type: 'ventricular-tachycardia' as const,
      priority: 'high' as const,
      state: 'active' as const,
      acknowledged: false,
      onsetS,
      raisedS,
      endS: null,
      evidence: [],
      explanation: [],
      publishedMs: 0,
    });
    const score = scoreAlarms(reference, [alert('a', 100.4, 102), alert('b', 300, 301)], ['ventricular-tachycardia']);
    expect(score['ventricular-tachycardia']).toMatchObject({
      detected: 1,
      covered: 1,
      missed: 0,
      falseAlarms: 1,
      medianOnsetDelayS: 2,
    });
    // an alarm raised 25 s into a long episode is late: missed, but the episode was covered
    const long = [{ type: 'ventricular-tachycardia' as const, startS: 100, endS: 200, origin: 'rhythm' as const }];
    expect(
      scoreAlarms(long, [alert('c', 125, 126)], ['ventricular-tachycardia'])['ventricular-tachycardia'],
    ).toMatchObject({
      detected: 0,
      covered: 1,
      missed: 1,
      falseAlarms: 0,
    });
  });

  it('scores rhythm alarms by time as EC57 scores AF: reference time covered, and alarm time on the rhythm', () => {
    const reference: ReferenceEpisode[] = [
      { type: 'irregular-rhythm', startS: 100, endS: 200, origin: 'rhythm' },
      { type: 'irregular-rhythm', startS: 300, endS: 340, origin: 'rhythm' },
    ];
    const af = (id: string, onsetS: number, endS: number | null) => ({
      v: 1 as const,
      id,
      bedId: 'b',
      type: 'irregular-rhythm' as const,
      priority: 'medium' as const,
      state: endS === null ? ('active' as const) : ('ended' as const),
      acknowledged: false,
      onsetS,
      raisedS: onsetS,
      endS,
      evidence: [],
      explanation: [],
      publishedMs: 0,
    });
    // 120-190 and 150-210 (one stretch, 120-210) overlap the first episode for 80 s and run 10 s
    // past it; the last alarm is still active when the stream ends at 350 s: 20 of its 30 s are
    // on the second episode
    const score = scoreAlarms(
      reference,
      [af('a', 120, 190), af('b', 150, 210), af('c', 320, null)],
      ['irregular-rhythm', 'couplet'],
      () => 350,
    );
    expect(score['irregular-rhythm']).toMatchObject({ durationSe: 71.4, durationPpv: 83.3 }); // 100/140, 100/120
    expect(score.couplet).toMatchObject({ durationSe: null, durationPpv: null }); // events have no rhythm time
  });

  it('names the life-threatening reference rhythm a false high-priority alarm fell on, and none over a harmless one', () => {
    const reference: ReferenceEpisode[] = [
      { type: 'ventricular-fibrillation', startS: 40.8, endS: 51, origin: 'rhythm' },
      { type: 'bigeminy', startS: 100, endS: 160, origin: 'rhythm' },
    ];
    const vt = (id: string, onsetS: number) => ({
      id,
      bedId: 'b',
      type: 'ventricular-tachycardia' as const,
      onsetS,
      raisedS: onsetS + 1,
      endS: onsetS + 3,
    });
    const alarms = [vt('at flutter onset', 41), vt('over bigeminy', 120)];
    const spurious = falseAlarms(reference, alarms, 'ventricular-tachycardia');
    expect(spurious.map((a) => a.id)).toEqual(['at flutter onset', 'over bigeminy']);
    expect(spurious.map((a) => highPriorityEpisodeDuring(reference, a))).toEqual(['ventricular-fibrillation', null]);
  });

  it('lists the episodes no alarm of their type announced within the onset window', () => {
    const episode = (startS: number): ReferenceEpisode => ({
      type: 'ventricular-tachycardia',
      startS,
      endS: startS + 5,
      origin: 'rhythm',
    });
    const reference = [episode(100), episode(200), episode(300), episode(400)];
    const alarm = (type: 'ventricular-tachycardia' | 'ventricular-fibrillation', raisedS: number) => ({
      id: `${type}@${raisedS}`,
      bedId: 'b',
      type,
      onsetS: raisedS - 1,
      raisedS,
      endS: raisedS + 5,
    });
    const alarms = [
      alarm('ventricular-tachycardia', 99), // 1 s early: within the tolerance
      alarm('ventricular-tachycardia', 211), // 11 s late
      alarm('ventricular-fibrillation', 301), // the wrong type
      alarm('ventricular-tachycardia', 409.5),
    ];
    expect(missedEpisodes(reference, alarms, 'ventricular-tachycardia').map((e) => e.startS)).toEqual([200, 300]);
  });
});
