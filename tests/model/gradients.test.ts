import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { initBackend } from '../../stream/model/backend.js';

type Case = { name: string; shapes: number[][]; f: (...t: tf.Tensor[]) => tf.Scalar };

const conv = (stride: number, pad: 'same' | 'valid') => (x: tf.Tensor, w: tf.Tensor) =>
  tf.sum(tf.square(tf.conv1d(x as tf.Tensor3D, w as tf.Tensor3D, stride, pad))) as tf.Scalar;

const cases: Case[] = [
  {
    name: 'conv1d k3 same',
    shapes: [
      [4, 23, 3],
      [3, 3, 5],
    ],
    f: conv(1, 'same'),
  },
  {
    name: 'conv1d k3 valid',
    shapes: [
      [2, 17, 4],
      [3, 4, 6],
    ],
    f: conv(1, 'valid'),
  },
  {
    name: 'conv1d k4 same (asymmetric padding)',
    shapes: [
      [3, 19, 2],
      [4, 2, 3],
    ],
    f: conv(1, 'same'),
  },
  {
    name: 'conv1d k1 (channel change)',
    shapes: [
      [2, 11, 5],
      [1, 5, 7],
    ],
    f: conv(1, 'same'),
  },
  ...[false, true].flatMap((ta) =>
    [false, true].map((tb) => ({
      name: `matMul transposeA=${ta} transposeB=${tb}`,
      shapes: [ta ? [6, 5] : [5, 6], tb ? [4, 6] : [6, 4]],
      f: (a: tf.Tensor, b: tf.Tensor) =>
        tf.sum(tf.square(tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D, ta, tb))) as tf.Scalar,
    })),
  ),
  {
    name: 'dense layer (bias + relu)',
    shapes: [
      [8, 12],
      [12, 5],
    ],
    f: (x: tf.Tensor, w: tf.Tensor) =>
      tf.sum(tf.relu(tf.add(tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D), 0.1))) as tf.Scalar,
  },
];

// seeded tf.randomNormal differs between backends: build inputs from plain numbers instead
function inputs(shapes: number[][], seed: number): tf.Tensor[] {
  return shapes.map((shape, i) => {
    const size = shape.reduce((a, b) => a * b, 1);
    const values = Float32Array.from(
      { length: size },
      (_, j) => Math.sin(1.7 * j + 0.3 * (seed + i)) + 0.1 * ((j * 7) % 5),
    );
    return tf.tensor(values, shape);
  });
}

async function gradients(c: Case, seed: number): Promise<Float32Array[]> {
  const xs = inputs(c.shapes, seed);
  const gs = tf.grads((...t: tf.Tensor[]) => c.f(...t))(xs);
  return Promise.all(gs.map(async (g) => (await g.data()) as Float32Array));
}

describe('re-registered Conv2D / BatchMatMul gradients on wasm equal the cpu backend’s', () => {
  it('on small shapes for every case', async () => {
    // reference first: cpu backend with tfjs's own gradients (nothing registered yet)
    await initBackend('cpu', () => undefined);
    const expected = await Promise.all(cases.map((c, i) => gradients(c, 100 * i)));
    await initBackend('wasm', () => undefined); // registers the fast gradients
    for (const [i, c] of cases.entries()) {
      const got = await gradients(c, 100 * i);
      expect(got.length, c.name).toBe(expected[i]!.length);
      got.forEach((g, k) => {
        const e = expected[i]![k]!;
        expect(g.length, c.name).toBe(e.length);
        const scale = Math.max(1, ...Array.from(e, Math.abs));
        const worst = Math.max(...Array.from(g, (v, j) => Math.abs(v - e[j]!)));
        expect(worst / scale, `${c.name}, input ${k}`).toBeLessThan(1e-4);
      });
    }
  });
});
