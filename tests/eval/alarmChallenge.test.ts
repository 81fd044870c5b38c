import { describe, expect, it } from 'vitest';
import {
  challengeAlarmOf,
  challengeScore,
  challengeScores,
  raisedWithin,
  type ChallengeDecision,
} from '../../stream/eval/alarmChallenge.js';
import { parseHeader } from '../../stream/wfdb/index.js';

const header = (comments: string) =>
  parseHeader(
    `v101l 2 250 82500\r\nv101l.mat 16+24 2277/mV 16 0 -90 13816 0 II\r\nv101l.mat 16+24 1849/mV 16 0 -145 30667 0 V\r\n${comments}`,
    'v101l.hea',
  );

describe('the PhysioNet/CinC 2015 alarm challenge', () => {
  it("reads a record's alarm and the experts' verdict from its header", () => {
    expect(challengeAlarmOf(header('#Ventricular_Tachycardia\r\n#False alarm\r\n'))).toEqual({
      type: 'ventricular-tachycardia',
      truth: false,
      atS: 300,
    });
    expect(challengeAlarmOf(header('#Asystole\r\n#True alarm\r\n'))).toMatchObject({ type: 'asystole', truth: true });
    expect(challengeAlarmOf(header('#Asystole\r\n#Maybe\r\n'))).toEqual({
      problem: 'its header\'s last comment is "Maybe", not "True alarm" or "False alarm"',
    });
    expect(challengeAlarmOf(header(''))).toMatchObject({
      problem: expect.stringMatching(/^its header's comments name no challenge alarm/) as string,
    });
  });

  it('counts an alarm raised when the monitor had it active at some moment of the window', () => {
    const alarms = [
      { type: 'asystole' as const, raisedS: 270, endS: 283 },
      { type: 'ventricular-tachycardia' as const, raisedS: 290, endS: undefined },
    ];
    expect(raisedWithin(alarms, 'asystole', 284, 300)).toBe(false); // ended before the window
    expect(raisedWithin(alarms, 'asystole', 280, 300)).toBe(true);
    expect(raisedWithin(alarms, 'ventricular-tachycardia', 284, 300)).toBe(true);
    expect(raisedWithin(alarms, 'ventricular-tachycardia', 284, 289)).toBe(false); // raised after it
  });

  it('scores as the challenge does: a true alarm withheld costs five false ones kept', () => {
    const decisions = (tp: number, fp: number, tn: number, fn: number): ChallengeDecision[] => [
      ...Array.from({ length: tp }, () => ({ type: 'asystole' as const, truth: true, raised: true })),
      ...Array.from({ length: fp }, () => ({ type: 'asystole' as const, truth: false, raised: true })),
      ...Array.from({ length: tn }, () => ({ type: 'ventricular-tachycardia' as const, truth: false, raised: false })),
      ...Array.from({ length: fn }, () => ({ type: 'ventricular-tachycardia' as const, truth: true, raised: false })),
    ];
    // the monitor before 0.11 on the challenge's 750 training records: 31.4
    expect(challengeScore(decisions(76, 23, 433, 218))).toEqual({
      records: 750,
      tp: 76,
      fp: 23,
      tn: 433,
      fn: 218,
      tpr: 25.85,
      tnr: 94.96,
      score: 31.38,
    });
    const scores = challengeScores(decisions(2, 1, 3, 1));
    expect(scores.byType).toEqual({
      asystole: expect.objectContaining({ tp: 2, fp: 1, tn: 0, fn: 0, score: 66.67 }) as object,
      'ventricular-tachycardia': expect.objectContaining({ tp: 0, fp: 0, tn: 3, fn: 1, score: 37.5 }) as object,
    });
    expect(challengeScore([])).toMatchObject({ records: 0, tpr: null, score: null });
  });
});
