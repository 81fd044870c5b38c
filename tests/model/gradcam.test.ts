import { beforeAll, describe, expect, it } from 'vitest';
import type * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../stream/model/backend.js';
import { buildBeatSet, type BeatSet } from '../../stream/model/dataset.js';
import { GradCam } from '../../stream/model/gradcam.js';
import { gradCamFaithfulness } from '../../stream/model/evaluate.js';
import { beatSetInputs } from '../../stream/model/inference.js';
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
      const max = Math.max(...curve);
      // 1 (to float32 precision), or all 0 when nothing argues for the class
      expect(Math.abs(max - 1) < 1e-6 || max === 0).toBe(true);
    }
  });

  it('is faithful on unseen beats: deleting its top 20 % lowers the class probability more than random deletion', async () => {
    const sample = Array.from({ length: 300 }, (_, k) => Math.floor((k * set.count) / 300));
    const result = await gradCamFaithfulness(model, beatSetInputs(set, sample));
    expect(result.beats).toBe(300);
    expect(result.topDrop).toBeGreaterThan(result.randomDrop);
  });
});
