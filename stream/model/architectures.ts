import { AAMI_CLASSES } from '../contracts/aami.js';
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../contracts/errors.js';
import { RR_FEATURES } from './features.js';

/** Name of the layer whose feature maps Grad-CAM explains (the last residual block's output). */
export const CAM_LAYER = 'cam_block';
/** Name of the pre-softmax class scores. */
export const LOGITS_LAYER = 'logits';

export interface ArchitectureSpec {
  readonly description: string;
  /** Whether the model takes the RR features as a second input. */
  readonly usesRr: boolean;
  /**
   * Window channels: 1 = the beat; 2 = the beat and its difference from the patient template;
   * 4 = both of those for the monitoring lead and for the second lead (see CHANNELS).
   */
  readonly channels: 1 | 2 | 4;
  readonly learningRate: number;
  build(windowLength: number, seed: number): tf.LayersModel;
}

function residualBlock(x: tf.SymbolicTensor, filters: number, seed: number, name?: string): tf.SymbolicTensor {
  const conv = (k: number, i: number) =>
    tf.layers.conv1d({
      filters,
      kernelSize: k,
      padding: 'same',
      kernelInitializer: tf.initializers.heNormal({ seed: seed + i }),
    });
  let y = conv(3, 1).apply(x) as tf.SymbolicTensor;
  y = tf.layers.batchNormalization().apply(y) as tf.SymbolicTensor;
  y = tf.layers.reLU().apply(y) as tf.SymbolicTensor;
  y = conv(3, 2).apply(y) as tf.SymbolicTensor;
  y = tf.layers.batchNormalization().apply(y) as tf.SymbolicTensor;
  y = tf.layers.reLU().apply(y) as tf.SymbolicTensor;
  const channels = x.shape[x.shape.length - 1];
  // 1x1 projection only where the channel count changes
  const skip = channels === filters ? x : (conv(1, 3).apply(x) as tf.SymbolicTensor);
  return tf.layers.add(name === undefined ? {} : { name }).apply([y, skip]) as tf.SymbolicTensor;
}

/**
 * The narrow variants' convolutional trunk: 32-filter stem, then residual blocks of 32, 64 and
 * 64 filters with pooling between them (187 -> 23 samples); the last block is the CAM layer.
 */
function narrowTrunk(window: tf.SymbolicTensor, seed: number): tf.SymbolicTensor {
  let x = tf.layers
    .conv1d({ filters: 32, kernelSize: 5, padding: 'same', kernelInitializer: tf.initializers.heNormal({ seed }) })
    .apply(window) as tf.SymbolicTensor;
  x = tf.layers.batchNormalization().apply(x) as tf.SymbolicTensor;
  x = tf.layers.reLU().apply(x) as tf.SymbolicTensor;
  x = tf.layers.maxPooling1d({ poolSize: 2 }).apply(x) as tf.SymbolicTensor;
  x = residualBlock(x, 32, seed + 10);
  x = tf.layers.maxPooling1d({ poolSize: 2 }).apply(x) as tf.SymbolicTensor;
  x = residualBlock(x, 64, seed + 20);
  x = tf.layers.maxPooling1d({ poolSize: 2 }).apply(x) as tf.SymbolicTensor;
  x = residualBlock(x, 64, seed + 30, CAM_LAYER);
  return tf.layers.flatten().apply(x) as tf.SymbolicTensor;
}

function classifierHead(x: tf.SymbolicTensor, seed: number, units: readonly [number, number][]): tf.SymbolicTensor {
  let y = x;
  units.forEach(([n, dropout], i) => {
    y = tf.layers
      .dense({
        units: n,
        activation: 'relu',
        kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 100 + i }),
      })
      .apply(y) as tf.SymbolicTensor;
    y = tf.layers.dropout({ rate: dropout }).apply(y) as tf.SymbolicTensor;
  });
  y = tf.layers
    .dense({
      units: AAMI_CLASSES.length,
      name: LOGITS_LAYER,
      kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 200 }),
    })
    .apply(y) as tf.SymbolicTensor;
  return tf.layers.softmax({ name: 'probabilities' }).apply(y) as tf.SymbolicTensor;
}

/**
 * The seed notebook's network, layer for layer: Conv1D 64/3 + ReLU + MaxPool 2, residual
 * blocks of 64, 128 and 256 filters, Flatten, Dense 128 + Dropout 0.4, Dense 64 + Dropout 0.3,
 * softmax over 5 classes; Adam 1e-4. About 3.45 M parameters.
 */
const seedResnet: ArchitectureSpec = {
  description: 'seed residual 1-D CNN (3.45 M parameters), window only',
  usesRr: false,
  channels: 1,
  learningRate: 1e-4,
  build(windowLength, seed) {
    const input = tf.input({ shape: [windowLength, 1], name: 'window' });
    let x = tf.layers
      .conv1d({
        filters: 64,
        kernelSize: 3,
        activation: 'relu',
        padding: 'same',
        kernelInitializer: tf.initializers.heNormal({ seed }),
      })
      .apply(input) as tf.SymbolicTensor;
    x = tf.layers.maxPooling1d({ poolSize: 2 }).apply(x) as tf.SymbolicTensor;
    x = residualBlock(x, 64, seed + 10);
    x = residualBlock(x, 128, seed + 20);
    x = residualBlock(x, 256, seed + 30, CAM_LAYER);
    x = tf.layers.flatten().apply(x) as tf.SymbolicTensor;
    return tf.model({
      inputs: input,
      outputs: classifierHead(x, seed, [
        [128, 0.4],
        [64, 0.3],
      ]),
      name: 'seed_resnet',
    });
  },
};

/**
 * A narrow residual network that downsamples between blocks (about 30x fewer multiply-adds)
 * and also sees the causal RR features, which carry what morphology alone cannot: prematurity.
 */
const rrResnetSmall: ArchitectureSpec = {
  description: 'narrow residual 1-D CNN + causal RR features',
  usesRr: true,
  channels: 1,
  learningRate: 1e-3,
  build(windowLength, seed) {
    const window = tf.input({ shape: [windowLength, 1], name: 'window' });
    const rr = tf.input({ shape: [RR_FEATURES], name: 'rr' });
    const x = narrowTrunk(window, seed);
    const joined = tf.layers.concatenate().apply([x, rr]) as tf.SymbolicTensor;
    return tf.model({
      inputs: [window, rr],
      outputs: classifierHead(joined, seed, [[64, 0.3]]),
      name: 'rr_resnet_small',
    });
  },
};

/**
 * Like rr-resnet-small, but the RR features get their own branch and the morphology is
 * squeezed to 32 features before the two meet. Across patients, prematurity is what tells an
 * S beat from an N beat; concatenated raw beside 1 472 morphology features it was drowned out
 * (on DS2 the RR ratio alone separates S better than rr-resnet-small did after its first epoch).
 */
function branchResnet(channels: 1 | 2 | 4, name: string, description: string): ArchitectureSpec {
  return {
    description,
    usesRr: true,
    channels,
    learningRate: 1e-3,
    build(windowLength, seed) {
      const window = tf.input({ shape: [windowLength, channels], name: 'window' });
      const rr = tf.input({ shape: [RR_FEATURES], name: 'rr' });
      const x = narrowTrunk(window, seed);
      const morphology = tf.layers
        .dense({ units: 32, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 40 }) })
        .apply(tf.layers.dropout({ rate: 0.3 }).apply(x)) as tf.SymbolicTensor;
      const rhythm = tf.layers
        .dense({ units: 16, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 50 }) })
        .apply(rr) as tf.SymbolicTensor;
      const joined = tf.layers.concatenate().apply([morphology, rhythm]) as tf.SymbolicTensor;
      return tf.model({ inputs: [window, rr], outputs: classifierHead(joined, seed, [[32, 0.2]]), name });
    },
  };
}

export const ARCHITECTURES = {
  'seed-resnet': seedResnet,
  'rr-resnet-small': rrResnetSmall,
  'rr-branch-resnet': branchResnet(
    1,
    'rr_branch_resnet',
    'narrow residual 1-D CNN (morphology bottleneck 32) + RR-feature branch',
  ),
  // the beat is also given as its difference from the patient's running template, so morphology
  // is judged against the patient's own usual beat: what transfers to patients never seen
  'template-rr-resnet': branchResnet(
    2,
    'template_rr_resnet',
    'rr-branch-resnet with a second channel: beat minus patient template',
  ),
  // some ventricular beats keep the patient's normal QRS in MLII and differ only in the other
  // lead (4.4 % of DS1's V beats; most of record 223's): the second lead's channels show them
  'two-lead-template-rr-resnet': branchResnet(
    4,
    'two_lead_template_rr_resnet',
    'template-rr-resnet over both leads: beat and beat minus template, for each lead',
  ),
} as const satisfies Record<string, ArchitectureSpec>;

export type ArchitectureName = keyof typeof ARCHITECTURES;

/** Whether `name` is an architecture (own names only: `constructor` is none). */
export function isArchitectureName(name: string): name is ArchitectureName {
  return Object.hasOwn(ARCHITECTURES, name);
}

export function architecture(name: string): ArchitectureSpec {
  if (!isArchitectureName(name)) {
    throw new ConfigError(`unknown model "${name}"; choose one of: ${Object.keys(ARCHITECTURES).join(', ')}`);
  }
  return ARCHITECTURES[name];
}
