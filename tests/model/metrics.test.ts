import { describe, expect, it } from 'vitest';
import {
  ARGMAX,
  decide,
  DecisionRuleError,
  parsePausedPremature,
  parseSinusPWaves,
  ruleOf,
} from '../../stream/model/decision.js';
import { ConfigError } from '../../stream/contracts/errors.js';
import { classificationMetrics, rocAuc } from '../../stream/model/metrics.js';

/** Probabilities with all mass on one class. */
const oneHot = (classes: number[]) =>
  Float32Array.from(classes.flatMap((c) => [0, 1, 2, 3, 4].map((k) => (k === c ? 1 : 0))));

describe('classificationMetrics', () => {
  it('matches a hand-computed confusion matrix', () => {
    // true:      N N N N S S V V
    // predicted: N N N S S N V N
    const m = classificationMetrics([0, 0, 0, 0, 1, 1, 2, 2], oneHot([0, 0, 0, 1, 1, 0, 2, 0]));
    expect(m.confusion[0]).toEqual([3, 1, 0, 0, 0]);
    expect(m.accuracy).toBeCloseTo(5 / 8);
    expect(m.perClass.N.precision).toBeCloseTo(3 / 5);
    expect(m.perClass.N.recall).toBeCloseTo(3 / 4);
    expect(m.perClass.S.f1).toBeCloseTo(0.5);
    expect(m.perClass.V).toMatchObject({ precision: 1, recall: 0.5, specificity: 1 });
    const f1N = (2 * 0.6 * 0.75) / 1.35;
    expect(m.weightedF1).toBeCloseTo((4 * f1N + 2 * 0.5 + 2 * (2 / 3)) / 8);
    expect(m.macroF1).toBeCloseTo((f1N + 0.5 + 2 / 3) / 3); // absent F and Q are not averaged in
    expect(Number.isNaN(m.perClass.F.auc)).toBe(true);
  });
});

describe('rocAuc', () => {
  it('is 1 for a perfect ranking, 0.5 for ties, and counts ties as half', () => {
    expect(rocAuc([0.1, 0.2, 0.8, 0.9], [false, false, true, true])).toBe(1);
    expect(rocAuc([0.5, 0.5, 0.5, 0.5], [false, true, false, true])).toBe(0.5);
    expect(rocAuc([0.1, 0.4, 0.35, 0.8], [false, false, true, true])).toBe(0.75);
  });
});

describe('decision rule', () => {
  const p = Float32Array.from([0.9, 0.05, 0.05, 0, 0, 0.1, 0, 0.9, 0, 0]); // beat 0 looks N, beat 1 looks V
  const looksS = Float32Array.from([0.2, 0.7, 0.1, 0, 0]);
  const rhythm = (recent: number, baseline = recent, irregularity = 0, next = 1, pWaves = NaN) => ({
    recent,
    baseline,
    irregularity,
    next,
    pWaves,
  });
  it('turns a normal-looking premature beat into S, and nothing else', () => {
    const rule = ruleOf({ decisionRule: { prematurityRatio: 0.8 } });
    // every step the saved rule does not name is off, as in plain argmax
    expect(rule).toEqual({ ...ARGMAX, prematurityRatio: 0.8 });
    expect(decide(p, 0, rhythm(0.7), rule)).toEqual({ label: 1, reason: 'premature' });
    expect(decide(p, 0, rhythm(0.85), rule)).toEqual({ label: 0, reason: 'network' });
    expect(decide(p, 1, rhythm(0.5), rule).label).toBe(2); // a premature V stays V
    expect(decide(p, 0, rhythm(0.5), ruleOf({})).label).toBe(0); // no rule saved: argmax
  });

  it('judges prematurity against the reference the rule names, and not while the rhythm is irregular', () => {
    const rule = ruleOf({
      decisionRule: { prematurityRatio: 0.8, prematurityReference: 'baseline', irregularityLimit: 0.05 },
    });
    // in a run of ectopic beats the recent mean has followed the run; the baseline has not
    expect(decide(p, 0, rhythm(1.0, 0.7), rule).label).toBe(1);
    expect(decide(p, 0, rhythm(0.7, 1.0), rule).label).toBe(0);
    expect(decide(p, 0, rhythm(1.0, 0.7, 0.05), rule).label).toBe(1);
    expect(decide(p, 0, rhythm(1.0, 0.7, 0.2), rule).label).toBe(0); // atrial fibrillation: short intervals are the rhythm
  });

  it("labels the network's own S calls N while the rhythm is irregular, when the rule says so", () => {
    const saved = { prematurityRatio: 0.8, prematurityReference: 'baseline', irregularityLimit: 0.05 };
    const overriding = ruleOf({ decisionRule: { ...saved, irregularOverridesS: true } });
    expect(decide(looksS, 0, rhythm(0.7, 0.7, 0.2), overriding)).toEqual({ label: 0, reason: 'irregular-rhythm' });
    expect(decide(looksS, 0, rhythm(0.7, 0.7, 0.05), overriding).label).toBe(1); // regular: the network's S stands
    expect(decide(p, 1, rhythm(0.7, 0.7, 0.2), overriding).label).toBe(2); // V is never overridden
    expect(decide(looksS, 0, rhythm(0.7, 0.7, 0.2), ruleOf({ decisionRule: saved })).label).toBe(1); // v3 metadata
  });

  it('labels an S call N when the beat is not early in a regular rhythm, when the rule says so', () => {
    const saved = { prematurityRatio: 0.8, prematurityReference: 'baseline', irregularityLimit: 0.05 };
    const rule = ruleOf({ decisionRule: { ...saved, irregularOverridesS: true, notEarlySRatio: 0.9 } });
    expect(decide(looksS, 0, rhythm(0.95, 0.95, 0.02), rule)).toEqual({ label: 0, reason: 'not-premature' });
    expect(decide(looksS, 0, rhythm(0.85, 0.85, 0.02), rule)).toEqual({ label: 1, reason: 'network' }); // early enough
    expect(decide(looksS, 0, rhythm(0.95, 0.95, 0.2), rule).reason).toBe('irregular-rhythm');
    expect(decide(looksS, 0, rhythm(0.95, 0.95, 0.02), ruleOf({ decisionRule: saved })).label).toBe(1); // v9 metadata
  });

  // the rule as v10 saved it: prematurity against the baseline, the AF override, the not-premature step
  const v10Saved = {
    prematurityRatio: 0.8,
    prematurityReference: 'baseline',
    irregularityLimit: 0.05,
    irregularOverridesS: true,
    notEarlySRatio: 0.9,
  };

  it('labels an early beat followed by a pause S, with a stricter criterion in an irregular rhythm', () => {
    const pausedPremature = { regular: { ratio: 0.9, pause: 1.2 }, irregular: { ratio: 0.5, pause: 2 } };
    const rule = ruleOf({ decisionRule: { ...v10Saved, pausedPremature } });
    expect(rule.pausedPremature).toEqual(pausedPremature);
    const unreadable = { ...pausedPremature, irregular: { ratio: 0.5, pause: 0.9 } };
    // a value no step accepts refuses the model, naming the file and the field
    expect(() => ruleOf({ decisionRule: { ...v10Saved, pausedPremature: unreadable } }, 'm/model.json')).toThrow(
      'm/model.json: decisionRule.pausedPremature.irregular.pause',
    );
    const paused = { label: 1, reason: 'premature-pause' };
    // regular: 0.85 x the baseline is not early by the prematurity ratio, but a pause follows
    expect(decide(p, 0, rhythm(0.85, 0.85, 0.02, 1.3), rule)).toEqual(paused);
    expect(decide(p, 0, rhythm(0.85, 0.85, 0.02, Infinity), rule)).toEqual(paused); // no beat within the wait
    expect(decide(p, 0, rhythm(0.85, 0.85, 0.02, 1.1), rule)).toEqual({ label: 0, reason: 'network' });
    expect(decide(p, 0, rhythm(0.85, 0.85, 0.02, NaN), rule)).toEqual({ label: 0, reason: 'network' }); // not known
    expect(decide(p, 0, rhythm(0.95, 0.95, 0.02, 2), rule).label).toBe(0); // not early
    expect(decide(p, 1, rhythm(0.7, 0.7, 0.02, 2), rule).label).toBe(2); // V stays V
    // irregular: the prematurity criterion stands down, this one asks for more
    expect(decide(p, 0, rhythm(0.45, 0.45, 0.2, 2.5), rule)).toEqual(paused);
    expect(decide(looksS, 0, rhythm(0.45, 0.45, 0.2, 2.5), rule)).toEqual(paused);
    expect(decide(looksS, 0, rhythm(0.45, 0.45, 0.2, 1.5), rule).reason).toBe('irregular-rhythm');
    expect(decide(p, 0, rhythm(0.7, 0.7, 0.2, 2.5), rule).label).toBe(0);
    expect(decide(p, 0, rhythm(0.85, 0.85, 0.02, 2), ruleOf({ decisionRule: v10Saved })).label).toBe(0); // v10 metadata
    expect(() => parsePausedPremature('ensemble', '0.9,1.2,0.5')).toThrow(ConfigError);
    expect(() => parsePausedPremature('ensemble', '0.9,0.8,0.5,2')).toThrow(/pause > 1/);
    expect(parsePausedPremature('ensemble', '0.9,1.2,0.5,2')).toEqual(pausedPremature);
  });

  it("keeps the regular-rhythm steps in an irregular rhythm that has the patient's P waves", () => {
    const rule = ruleOf({ decisionRule: { ...v10Saved, sinusPWaves: 0.6 } });
    expect(rule.sinusPWaves).toBe(0.6);
    // atrial premature beats and their pauses make the rhythm irregular; P waves still agree
    expect(decide(p, 0, rhythm(0.7, 0.7, 0.2, 1, 0.9), rule)).toEqual({ label: 1, reason: 'premature' });
    expect(decide(looksS, 0, rhythm(0.7, 0.7, 0.2, 1, 0.6), rule)).toEqual({ label: 1, reason: 'network' });
    expect(decide(looksS, 0, rhythm(0.95, 0.95, 0.2, 1, 0.9), rule).reason).toBe('not-premature');
    // atrial fibrillation: no P waves to agree; and a stream's first beat, not known
    expect(decide(p, 0, rhythm(0.7, 0.7, 0.2, 1, 0.3), rule)).toEqual({ label: 0, reason: 'network' });
    expect(decide(looksS, 0, rhythm(0.7, 0.7, 0.2, 1, 0.3), rule).reason).toBe('irregular-rhythm');
    expect(decide(looksS, 0, rhythm(0.7, 0.7, 0.2, 1, NaN), rule).reason).toBe('irregular-rhythm');
    expect(decide(p, 0, rhythm(0.7, 0.7, 0.2, 1, 0.9), ruleOf({ decisionRule: v10Saved })).label).toBe(0); // v11 metadata
    // without an irregularity limit there is no irregular rhythm to count as regular
    expect(ruleOf({ decisionRule: { prematurityRatio: 0.8, sinusPWaves: 0.6 } }).sinusPWaves).toBeNull();
    expect(() => ruleOf({ decisionRule: { ...v10Saved, sinusPWaves: 1.5 } })).toThrow(DecisionRuleError);
    expect(() => ruleOf({ decisionRule: { ...v10Saved, sinusPWave: 0.6 } })).toThrow(/decisionRule: Unrecognized key/);
    expect(() => parseSinusPWaves('ensemble', '0')).toThrow(ConfigError);
    expect(() => parseSinusPWaves('ensemble', 'x')).toThrow(/--sinus-p-waves/);
    expect(parseSinusPWaves('ensemble', '0.6')).toBe(0.6);
  });
});
