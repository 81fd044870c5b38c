import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../stream/model/backend.js';
import { beatIndices, buildBeatSet, labelledBeats } from '../../stream/model/dataset.js';
import { ruleOf } from '../../stream/model/decision.js';
import { evaluateModel } from '../../stream/model/evaluate.js';
import { windowLayoutOf } from '../../stream/model/inference.js';
import { loadModel } from '../../stream/model/io.js';
import { SHIPPED_MODEL_DIR } from '../../stream/model/shipped.js';
import { mitdbDir } from '../../stream/wfdb/index.js';

// DS2 records, never seen in training by the shipped (DS1-trained) model; 200 and 233 are PVC-rich.
// Floors a few points under the figures measured when the model was shipped (see its MODEL_CARD.md):
// CI does not retrain, it checks that the committed model still loads and classifies as documented.
const RECORDS = ['100', '200', '233'];
// measured for v9 (the same networks as v10 to v12, whose rules add the not-premature and premature-pause steps and the P-wave agreement; v7's two networks on windows centred on the R peak and v6's two on windows with it
// at 62, v6's rule) when v9 was shipped (7 939 beats): accuracy 0.985, V recall 0.973, V precision 0.994 (v7:
// 0.947, 0.970, 0.994; v6: 0.978, 0.944, 0.996; v5: 0.968, 0.923, 0.963; v1, at shipping: 0.934,
// 0.877). Evaluated in record order, so the family vote hears each record as it would live; each
// network reads the window it was trained on.
const FLOOR = { accuracy: 0.95, vRecall: 0.93, vPrecision: 0.95 };

beforeAll(async () => {
  await initBackend('wasm', () => undefined);
});

describe('the shipped model', () => {
  it(`keeps its accuracy on records ${RECORDS.join(', ')} (unseen patients)`, async () => {
    const { model, metadata } = await loadModel(SHIPPED_MODEL_DIR);
    expect(metadata).toMatchObject({ split: 'inter', windowLength: 187, rIndex: 93, rIndices: [93, 62] });
    const layout = windowLayoutOf(metadata);
    const set = await buildBeatSet(mitdbDir(), RECORDS, { frontEnd: { window: layout.cut } });
    const heard = beatIndices(set);
    const { metrics, ec57, prematurityCurve } = await evaluateModel([{ model, test: labelledBeats(set), heard }], set, {
      faithfulnessBeats: 50,
      rule: ruleOf(metadata),
      layout,
    });
    expect(metrics.count).toBeGreaterThan(7000);
    expect(metrics.accuracy).toBeGreaterThanOrEqual(FLOOR.accuracy);
    expect(metrics.perClass.V.recall).toBeGreaterThanOrEqual(FLOOR.vRecall);
    expect(metrics.perClass.V.precision).toBeGreaterThanOrEqual(FLOOR.vPrecision);
    // its S trade-off: the shipped ratio is the reported point; a stricter ratio labels fewer normal beats S
    // and a looser one more (on these records S Se stays put: their early S beats are also followed by a
    // pause, which v11's premature-pause step labels S whatever the ratio)
    expect(prematurityCurve.find((q) => q.isRule)).toEqual({ ratio: 0.8, ...ec57.S, isRule: true });
    expect(prematurityCurve[0]!.ppv).toBeGreaterThan(ec57.S.ppv);
    expect(prematurityCurve.at(-1)!.ppv).toBeLessThan(ec57.S.ppv);
  });
});
