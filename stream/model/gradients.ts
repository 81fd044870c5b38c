import * as tf from '@tensorflow/tfjs';
import type { GradConfig, NamedAttrMap } from '@tensorflow/tfjs';

/**
 * Training on the wasm backend: `Conv2DBackpropFilter` has no wasm kernel, and the wasm kernels
 * for `Conv2DBackpropInput` and transposed matMul take slow paths. These gradients express the
 * same mathematics with forward conv2d, explicit transposes and plain matMul, which wasm runs
 * fast. Cases they do not cover (strides, dilations, broadcast batches) fall back to the
 * original gradients, which the wasm backend cannot run for convolutions: every model here
 * convolves with stride 1 and downsamples by pooling.
 */

interface ConvAttrs {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | unknown;
  dataFormat?: string;
  dilations?: number | [number, number];
}

const pair = (v: number | [number, number] | undefined): [number, number] =>
  v === undefined ? [1, 1] : typeof v === 'number' ? [v, v] : v;

function convPadding(pad: ConvAttrs['pad'], fh: number, fw: number): [[number, number], [number, number]] | undefined {
  if (pad === 'valid')
    return [
      [0, 0],
      [0, 0],
    ];
  if (pad === 'same') {
    // TensorFlow's SAME with stride 1: total k-1, the extra one at the end
    const top = Math.floor((fh - 1) / 2);
    const left = Math.floor((fw - 1) / 2);
    return [
      [top, fh - 1 - top],
      [left, fw - 1 - left],
    ];
  }
  return undefined;
}

function fastConv2dGradient(original: GradConfig): GradConfig {
  return {
    kernelName: 'Conv2D',
    inputsToSave: ['x', 'filter'],
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: NamedAttrMap) => {
      const a = attrs as unknown as ConvAttrs;
      const [sh, sw] = pair(a.strides);
      const [dh, dw] = pair(a.dilations);
      const [x, filter] = saved as [tf.Tensor4D, tf.Tensor4D];
      const [fh, fw] = filter.shape;
      const padding = convPadding(a.pad, fh, fw);
      if (
        sh !== 1 ||
        sw !== 1 ||
        dh !== 1 ||
        dw !== 1 ||
        padding === undefined ||
        (a.dataFormat ?? 'NHWC') !== 'NHWC'
      ) {
        return original.gradFunc(dy, saved, attrs);
      }
      const g = dy as tf.Tensor4D;
      const [[top, bottom], [left, right]] = padding;
      return {
        // dx: correlate dy with the filter rotated 180 degrees, in/out channels swapped
        x: () => {
          const rotated = tf.transpose(tf.reverse(filter, [0, 1]), [0, 1, 3, 2]) as tf.Tensor4D;
          const padded = tf.pad(g, [
            [0, 0],
            [fh - 1 - top, fh - 1 - bottom],
            [fw - 1 - left, fw - 1 - right],
            [0, 0],
          ]);
          return tf.conv2d(padded, rotated, 1, 'valid');
        },
        // dfilter: correlate the padded input with dy, batch and channels exchanged
        filter: () => {
          const padded = tf.pad(x, [
            [0, 0],
            [top, bottom],
            [left, right],
            [0, 0],
          ]);
          const xT = tf.transpose(padded, [3, 1, 2, 0]) as tf.Tensor4D; // [inC, H, W, N]
          const dyT = tf.transpose(g, [1, 2, 0, 3]) as tf.Tensor4D; // [H', W', N, outC]
          const out = tf.conv2d(xT, dyT, 1, 'valid'); // [inC, fh, fw, outC]
          return tf.transpose(out, [1, 2, 0, 3]);
        },
      };
    },
  };
}

function fastBatchMatMulGradient(original: GradConfig): GradConfig {
  return {
    kernelName: 'BatchMatMul',
    inputsToSave: ['a', 'b'],
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: NamedAttrMap) => {
      const { transposeA, transposeB } = attrs as unknown as { transposeA: boolean; transposeB: boolean };
      const [a, b] = saved as [tf.Tensor3D, tf.Tensor3D];
      if (a.rank !== 3 || b.rank !== 3 || a.shape[0] !== b.shape[0]) return original.gradFunc(dy, saved, attrs);
      const g = dy as tf.Tensor3D;
      const t = (m: tf.Tensor3D): tf.Tensor3D => tf.transpose(m, [0, 2, 1]);
      // C = A'B' with A' = op(A), B' = op(B): dA' = dy B'^T, dB' = A'^T dy
      const aUsed = transposeA ? t(a) : a;
      const bUsed = transposeB ? t(b) : b;
      return {
        a: () => {
          const dAUsed = tf.matMul(g, t(bUsed)) as tf.Tensor3D;
          return transposeA ? t(dAUsed) : dAUsed;
        },
        b: () => {
          const dBUsed = tf.matMul(t(aUsed), g) as tf.Tensor3D;
          return transposeB ? t(dBUsed) : dBUsed;
        },
      };
    },
  };
}

let registered = false;

/** Replaces the Conv2D and BatchMatMul gradients (global to the tfjs registry); idempotent. */
export function registerFastTrainingGradients(): void {
  if (registered) return;
  const conv = tf.getGradient('Conv2D');
  const matMul = tf.getGradient('BatchMatMul');
  if (conv === undefined || matMul === undefined) throw new Error('tfjs has no Conv2D/BatchMatMul gradient to replace');
  tf.registerGradient(fastConv2dGradient(conv));
  tf.registerGradient(fastBatchMatMulGradient(matMul));
  registered = true;
}
