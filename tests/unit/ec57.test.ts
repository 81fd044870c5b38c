import { describe, expect, it } from 'vitest';
import { Ec57Matcher, positivePredictivity, sensitivity } from '../../stream/eval/ec57.js';

const matcher = (excluded: { start: number; end: number }[] = []) =>
  new Ec57Matcher({ fs: 1000, windowS: 0.15, excluded });

describe('Ec57Matcher', () => {
  it('matches within 150 ms and no further', () => {
    const r = matcher().match([1000, 2000, 3000], [1150, 2151, 2990]);
    expect(r).toMatchObject({ tp: 2, fn: 1, fp: 1, missed: [1], extra: [1] });
  });

  it('uses each detection once, nearest pair first', () => {
    // one detection between two close beats belongs to the nearer one
    const r = matcher().match([1000, 1200], [1130]);
    expect(r.matches).toEqual([{ reference: 1, detection: 0 }]);
    expect(r.fn).toBe(1);
    // two detections near one beat: one TP, one FP
    expect(matcher().match([1000], [990, 1010])).toMatchObject({ tp: 1, fp: 1 });
  });

  it('leaves excluded intervals out of the score', () => {
    const r = matcher([{ start: 1500, end: 2500 }]).match([1000, 2000, 3000], [1000, 1800, 1900, 3000]);
    expect(r).toMatchObject({ tp: 2, fn: 0, fp: 0, excludedReference: 1, excludedDetections: 2 });
  });

  it('computes Se and +P in percent', () => {
    expect(sensitivity({ tp: 998, fn: 2 })).toBeCloseTo(99.8);
    expect(positivePredictivity({ tp: 99, fp: 1 })).toBeCloseTo(99);
  });
});
