import { beforeAll, describe, expect, it } from 'vitest';
import type * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../stream/model/backend.js';
import { buildBeatSet, type BeatSet } from '../../stream/model/dataset.js';
import { GradCam } from '../../stream/model/gradcam.js';
import { beatSetInputs, pickInputs, predictProbabilities } from '../../stream/model/inference.js';
import { loadModel } from '../../stream/model/io.js';
import { SHIPPED_MODEL_DIR } from '../../stream/model/shipped.js';
import { mitdbDir } from '../../stream/wfdb/index.js';

let model: tf.LayersModel;
let set: BeatSet;
beforeAll(async () => {
  await initBackend('wasm', () => undefined);
  model = (await loadModel(SHIPPED_MODEL_DIR)).model;
  set = await buildBeatSet(mitdbDir(), ['233']); // DS2: unseen by the shipped model; many clear PVCs
});

describe('Grad-CAM on the shipped model', () => {
  it('gives one deterministic curve of 187 samples per beat, scaled to 0..1', () => {
    const inputs = beatSetInputs(set, [10, 11, 12]);
    const cam = new GradCam(model);
    const a = cam.explain(inputs, [0, 2, 1]);
    const b = cam.explain(inputs, [0, 2, 1]);
    expect(a.length).toBe(3 * 187);
    expect(Array.from(a)).toEqual(Array.from(b));
    for (let k = 0; k < 3; k++) {
      const curve = a.subarray(k * 187, (k + 1) * 187);
      expect(Math.min(...curve)).toBeGreaterThanOrEqual(0);
      expect([0, 1]).toContain(Math.max(...curve)); // 1, or all 0 when nothing argues for the class
    }
  });

  it('for clear V beats, is higher over the QRS than over the flattest part of the beat', async () => {
    const vBeats = Array.from(set.labels.keys()).filter((i) => set.labels[i] === 2);
    const inputs = beatSetInputs(set, vBeats);
    const p = await predictProbabilities(model, inputs);
    const clear = vBeats
      .map((_, k) => k)
      .filter((k) => p[k * 5 + 2]! > 0.9)
      .slice(0, 200);
    expect(clear.length).toBeGreaterThan(50);
    const picked = pickInputs(inputs, clear);
    const curves = new GradCam(model).explain(
      picked,
      clear.map(() => 2),
    );
    const r = set.rIndex;
    let qrs = 0;
    let flat = 0;
    clear.forEach((_, k) => {
      const w = picked.window.subarray(k * 187, (k + 1) * 187);
      const c = curves.subarray(k * 187, (k + 1) * 187);
      // the flattest 16 samples at least 20 samples away from the R peak
      let best = 0;
      let bestVar = Infinity;
      for (let s = 0; s + 16 <= 187; s++) {
        if (Math.abs(s + 8 - r) < 28) continue;
        const seg = w.subarray(s, s + 16);
        const mean = seg.reduce((a, b) => a + b, 0) / 16;
        const v = seg.reduce((a, b) => a + (b - mean) ** 2, 0);
        if (v < bestVar) {
          bestVar = v;
          best = s;
        }
      }
      qrs += c.subarray(r - 8, r + 8).reduce((a, b) => a + b, 0) / 16;
      flat += c.subarray(best, best + 16).reduce((a, b) => a + b, 0) / 16;
    });
    expect(qrs / clear.length).toBeGreaterThan(flat / clear.length);
  });
});
