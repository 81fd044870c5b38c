import { describe, expect, it } from 'vitest';
import { BeatDecider } from '../../stream/model/beatFamilies.js';
import { decide, parseFamilyVote, ruleOf, type BeatRhythm } from '../../stream/model/decision.js';
import { ConfigError } from '../../stream/contracts/errors.js';

const L = 187;
const R = 62;
const regular: BeatRhythm = { recent: 1, baseline: 1, irregularity: 0, next: 1, pWaves: 0.9 };
const V5 = (pV: number) => Float32Array.from([1 - pV, 0, pV, 0, 0]); // N and V only

/** A window with one Gaussian bump in the QRS segment: `at` samples from the R peak, `sign` up or down. */
function bump(at: number, sign = 1, width = 1.5): Float32Array {
  return Float32Array.from({ length: L }, (_, i) => sign * Math.exp(-(((i - R - at) / width) ** 2)));
}
const normal = bump(0);
const ventricular = bump(4, -1, 4); // wider, later, the other way up

const flat = new Float32Array(L); // no second lead
const voting = ruleOf({ decisionRule: { familyVote: { minCorrelation: 0.9, weight: 0.8 } } });

/** Labels a stream of (window, p(V)) beats in order; returns the labels. */
function run(decider: BeatDecider, beats: readonly [Float32Array, number][], stream = 'bed-1'): number[] {
  return beats.map(([w, pV]) => decider.decide(stream, [w, flat], V5(pV), 0, regular).label);
}

/** A decider whose bed has a family of three normal beats the network called N (p(V) 0.01). */
function withNormalFamily(stream = 'bed-1'): BeatDecider {
  const decider = new BeatDecider(voting, R);
  run(
    decider,
    Array.from({ length: 3 }, (): [Float32Array, number] => [normal, 0.01]),
    stream,
  );
  return decider;
}

describe('BeatDecider with a family vote', () => {
  it("turns a V call in the patient's usual shape back to N, and keeps a V call in a V family", () => {
    const decider = new BeatDecider(voting, R);
    const beats: [Float32Array, number][] = [];
    for (let i = 0; i < 6; i++) beats.push([normal, 0.01], [ventricular, 0.95]);
    beats.push([normal, 0.9], [ventricular, 0.3]);
    const labels = run(decider, beats);
    expect(labels.slice(0, 12)).toEqual(Array.from({ length: 12 }, (_, i) => (i % 2 === 0 ? 0 : 2)));
    expect(labels.slice(12)).toEqual([0, 2]); // 0.2 x 0.9 + 0.8 x 0.01 < 0.5; 0.2 x 0.3 + 0.8 x 0.95 > 0.5
    // without the vote each beat stands alone
    const alone = new BeatDecider(ruleOf({}), R);
    expect(run(alone, beats).slice(12)).toEqual([2, 0]);
  });

  it('reports the p(V) it decided with, and that the family, not the network, chose the label', () => {
    const decider = new BeatDecider(voting, R);
    for (let i = 0; i < 3; i++)
      expect(decider.decide('bed-1', [normal, flat], V5(0.1), 0, regular).reason).toBe('network');
    const d = decider.decide('bed-1', [normal, flat], V5(0.6), 0, regular);
    expect(d.votedV).toBeCloseTo(0.2 * 0.6 + 0.8 * 0.1, 5);
    expect(d).toMatchObject({ label: 0, reason: 'family' });
    // a family that agrees with the network leaves the label the network's
    expect(decider.decide('bed-1', [normal, flat], V5(0.3), 0, regular)).toMatchObject({ label: 0, reason: 'network' });
  });

  it('lets a family speak only after three earlier members, and hears only earlier beats', () => {
    const decider = new BeatDecider(voting, R);
    // the first three beats of a shape are judged alone, whatever comes after
    expect(
      run(decider, [
        [normal, 0.01],
        [normal, 0.01],
        [normal, 0.9],
      ]),
    ).toEqual([0, 0, 2]);
    expect(run(decider, [[normal, 0.9]])).toEqual([0]); // now three earlier members: 0.8 x mean + 0.2 x 0.9
  });

  it('keeps beds apart', () => {
    const decider = withNormalFamily('bed-1');
    expect(run(decider, [[normal, 0.9]], 'bed-2')).toEqual([2]);
    expect(run(decider, [[normal, 0.9]], 'bed-1')).toEqual([0]);
  });

  it("forgets a bed's families when told, and only that bed's", () => {
    const decider = withNormalFamily('bed-1');
    run(
      decider,
      Array.from({ length: 3 }, (): [Float32Array, number] => [normal, 0.01]),
      'bed-2',
    );
    decider.forget('bed-1');
    expect(run(decider, [[normal, 0.9]], 'bed-1')).toEqual([2]);
    expect(run(decider, [[normal, 0.9]], 'bed-2')).toEqual([0]);
  });

  it('does not let a beat of another shape join (correlation below the threshold)', () => {
    const decider = withNormalFamily();
    expect(run(decider, [[bump(3), 0.9]])).toEqual([2]); // shifted 3 samples: r about 0.14
    // amplitude and offset do not make another shape
    const scaled = Float32Array.from(normal, (x) => 3 * x + 7);
    expect(run(decider, [[scaled, 0.9]])).toEqual([0]);
  });

  it('joins a beat to a family only when both leads agree', () => {
    const decider = new BeatDecider(voting, R);
    const lead2 = bump(0, -1, 2);
    const label = (w0: Float32Array, w1: Float32Array, pV: number) =>
      decider.decide('bed-1', [w0, w1], V5(pV), 0, regular).label;
    for (let i = 0; i < 3; i++) label(normal, lead2, 0.01);
    // normal in the monitoring lead, another shape in the second: a ventricular beat of its own family
    expect(label(normal, bump(4, 1, 4), 0.95)).toBe(2);
    expect(label(normal, lead2, 0.95)).toBe(0); // both leads the patient's usual beat
    expect(label(normal, flat, 0.95)).toBe(0); // second lead off: the monitoring lead decides
  });

  it('forgets the longest unseen family once a patient has shown sixteen others', () => {
    const decider = withNormalFamily();
    // sixteen other shapes (bumps 2 samples apart, up and down: r <= 0.37 with each other)
    const others = [-12, -10, -8, -6, -4, -2, 2, 4, 6, 8, 10, 12, 14].flatMap((at) => [bump(at), bump(at, -1)]);
    run(
      decider,
      others.slice(0, 15).map((w): [Float32Array, number] => [w, 0.5]),
    );
    expect(run(decider, [[normal, 0.9]])).toEqual([0]); // 15 others: the family is still there
    run(decider, [
      [others[15]!, 0.5],
      [others[16]!, 0.5],
    ]);
    // the normal family was joined last before those two, so a different one went first
    expect(run(decider, [[normal, 0.9]])).toEqual([0]);
    for (const w of others.slice(0, 17)) run(decider, [[w, 0.5]]); // now every other family is newer
    expect(run(decider, [[normal, 0.9]])).toEqual([2]);
  });

  it('without a family vote decides as the rule alone', () => {
    const rule = ruleOf({ decisionRule: { prematurityRatio: 0.8 } });
    const decider = new BeatDecider(rule, R);
    const p = Float32Array.from([0.9, 0.05, 0.05, 0, 0]);
    const early = { recent: 0.7, baseline: 0.7, irregularity: 0, next: 1, pWaves: 0.9 };
    expect(decider.decide('bed-1', [normal, flat], p, 0, early)).toEqual({
      ...decide(p, 0, early, rule),
      votedV: p[2],
    });
  });
});

describe('family vote in a saved rule', () => {
  it('is read from the metadata; a malformed one refuses the model, naming the field', () => {
    expect(voting.familyVote).toEqual({ minCorrelation: 0.9, weight: 0.8 });
    expect(ruleOf({ decisionRule: { familyVote: null } }).familyVote).toBeNull();
    expect(() => ruleOf({ decisionRule: { familyVote: { minCorrelation: 0.9, weight: 1 } } }, 'f.json')).toThrow(
      'f.json: decisionRule.familyVote.weight',
    );
    expect(() => ruleOf({ decisionRule: { familyVote: 'yes' } })).toThrow('decisionRule.familyVote');
  });

  it('is parsed from --family-vote with a clear message', () => {
    expect(parseFamilyVote('ensemble', '0.9,0.8')).toEqual({ minCorrelation: 0.9, weight: 0.8 });
    for (const bad of ['0.9', '0.9,0.8,1', '1.5,0.8', '0.9,1', 'a,b', ',0.8']) {
      expect(() => parseFamilyVote('ensemble', bad)).toThrow(ConfigError);
    }
    expect(() => parseFamilyVote('train', '0.9')).toThrow(/train: --family-vote takes MIN_CORRELATION,WEIGHT/);
  });
});
