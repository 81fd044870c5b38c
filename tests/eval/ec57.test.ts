import { describe, expect, it } from 'vitest';
import {
  addPair,
  COMPARED_LABELS,
  Ec57Matcher,
  ectopicFigures,
  pairMatrix,
  positivePredictivity,
  sensitivity,
  type LabelPairs,
} from '../../stream/eval/ec57.js';

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

describe('ectopicFigures', () => {
  // bxb's counting: Vv true; Vn, Vf, Vo false negatives; Nv, Sv, Ov false positives; Fv and Qv neither
  const pairs: LabelPairs = {};
  addPair(pairs, 'V', 'V', 90);
  addPair(pairs, 'V', 'N', 4);
  addPair(pairs, 'V', 'F', 5);
  addPair(pairs, 'V', 'O', 1);
  addPair(pairs, 'N', 'V', 6);
  addPair(pairs, 'S', 'V', 2);
  addPair(pairs, 'O', 'V', 2);
  addPair(pairs, 'F', 'V', 30);
  addPair(pairs, 'Q', 'V', 3);
  addPair(pairs, 'S', 'S', 40);
  addPair(pairs, 'S', 'O', 10);
  addPair(pairs, 'N', 'S', 20);
  addPair(pairs, 'F', 'S', 5);
  addPair(pairs, 'Q', 'S', 7);
  addPair(pairs, 'N', 'N', 1000);

  it('does not count a fusion or unclassifiable beat labelled V as a false V', () => {
    expect(ectopicFigures(pairs, 'V')).toEqual({ tp: 90, fn: 10, fp: 10, se: 90, ppv: 90 });
  });

  it('counts a fusion beat labelled S as a false S, an unclassifiable one not, and missed S beats (and S called V) against Se', () => {
    expect(ectopicFigures(pairs, 'S')).toEqual({ tp: 40, fn: 12, fp: 25, se: 76.92, ppv: 61.54 });
  });

  it('lays the pairs out as a matrix in COMPARED_LABELS order', () => {
    const m = pairMatrix(pairs);
    expect(m).toHaveLength(COMPARED_LABELS.length);
    const at = (r: string, t: string) => m[COMPARED_LABELS.indexOf(r as never)]![COMPARED_LABELS.indexOf(t as never)];
    expect(at('F', 'V')).toBe(30);
    expect(at('V', 'O')).toBe(1);
    expect(at('O', 'V')).toBe(2);
    expect(m.flat().reduce((a, b) => a + b, 0)).toBe(1225);
  });
});
