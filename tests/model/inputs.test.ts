import { wardMessages } from '../../stream/pipeline/messages.js';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { BeatWindow } from '../../stream/dsp/index.js';
import { ARCHITECTURES } from '../../stream/model/architectures.js';
import { initBackend } from '../../stream/model/backend.js';
import { nextIntervalReadBelow, ruleOf } from '../../stream/model/decision.js';
import { beatCodec } from '../../stream/contracts/messages.js';
import { modelClassifier } from '../../stream/pipeline/classifier.js';
import {
  BeatClassifier,
  beatWindowInputs,
  CHANNELS,
  inputShapeOf,
  pickInputs,
  predictProbabilities,
  toTensors,
} from '../../stream/model/inference.js';

beforeAll(async () => {
  await initBackend('wasm', () => undefined);
});

const L = 187;
const wave = (phase: number, scale = 1): Float32Array =>
  Float32Array.from({ length: L }, (_, i) => scale * Math.sin(i / 9 + phase) * Math.exp(-(((i - 62) / 30) ** 2)));

function beat(second: boolean, phase = 0): BeatWindow {
  return {
    rPeak: 1000,
    samples: wave(phase),
    template: wave(phase + 0.3),
    rrPrevious: 0.6,
    rrMean: 0.8,
    rrBaseline: 0.8,
    rrIrregularity: 0,
    rrNext: 0.8,
    pWaveAgreement: 0.9,
    ...(second ? { secondLead: { samples: wave(phase + 1, -2), template: wave(phase + 1.2, -2) } } : {}),
  };
}

describe('model inputs with a second lead', () => {
  it("fills the second lead's channels where the beat has one, and leaves them zero (a missing lead) where not", () => {
    const inputs = beatWindowInputs([beat(true), beat(false)]);
    const row = (c: (typeof CHANNELS)[number], k: number) => Array.from(inputs[c].subarray(k * L, (k + 1) * L));
    expect(Math.max(...row('secondWindow', 0))).toBeCloseTo(1, 6); // min-max normalised
    expect(Math.min(...row('secondWindow', 0))).toBeCloseTo(0, 6);
    expect(row('secondDiff', 0).some((v) => v !== 0)).toBe(true);
    expect(row('secondWindow', 1).every((v) => v === 0)).toBe(true);
    expect(row('secondDiff', 1).every((v) => v === 0)).toBe(true);
    // the first lead is the same whether or not there is a second
    expect(row('window', 1)).toEqual(row('window', 0));
    expect(row('diff', 1)).toEqual(row('diff', 0));
    const picked = pickInputs(inputs, [1, 0]);
    for (const c of CHANNELS) expect(Array.from(picked[c].subarray(L))).toEqual(row(c, 0));
  });

  it('gives a four-channel model its channels in CHANNELS order', async () => {
    const inputs = beatWindowInputs([beat(true), beat(true, 2)]);
    const [window] = toTensors(inputs, { channels: 4, usesRr: true }) as tf.Tensor[];
    const values = (await window!.array()) as number[][][];
    CHANNELS.forEach((c, ch) => {
      for (let k = 0; k < 2; k++)
        for (let i = 0; i < L; i += 17) expect(values[k]![i]![ch]).toBeCloseTo(inputs[c][k * L + i]!, 6);
    });
    tf.dispose(window);
  });

  it("lets a two-lead model's output depend on the second lead, and rejects channel counts the monitor cannot feed", async () => {
    const model = ARCHITECTURES['two-lead-template-rr-resnet'].build(L, 5);
    expect(inputShapeOf(model)).toEqual({ channels: 4, usesRr: true });
    const p = await predictProbabilities(model, beatWindowInputs([beat(true), beat(false)]));
    expect(Array.from(p.subarray(0, 5))).not.toEqual(Array.from(p.subarray(5, 10)));
    const input = tf.input({ shape: [L, 3] });
    const three = tf.model({ inputs: input, outputs: tf.layers.flatten().apply(input) as tf.SymbolicTensor });
    expect(() => inputShapeOf(three)).toThrow(/3 window channels; the monitor provides 1, 2 or 4/);
    // the pipeline cuts second-lead windows only for a model, or a rule's beat families, that take them
    expect(modelClassifier(new BeatClassifier(model, 'two-lead')).usesSecondLead).toBe(true);
    const oneLead = ARCHITECTURES['template-rr-resnet'].build(L, 5);
    expect(modelClassifier(new BeatClassifier(oneLead, 'one-lead')).usesSecondLead).toBe(false);
    const voting = ruleOf({ decisionRule: { familyVote: { minCorrelation: 0.9, weight: 0.8 } } });
    expect(modelClassifier(new BeatClassifier(oneLead, 'one-lead', voting)).usesSecondLead).toBe(true);
  });

  it("makes a bed's beats wait for the next R peak only where the rule reads the interval after them", () => {
    const oneLead = ARCHITECTURES['template-rr-resnet'].build(L, 5);
    const paused = ruleOf({
      decisionRule: { pausedPremature: { regular: { ratio: 0.9, pause: 1.2 }, irregular: { ratio: 0.5, pause: 2 } } },
    });
    expect(nextIntervalReadBelow(paused)).toBeCloseTo(0.9009, 10);
    expect(modelClassifier(new BeatClassifier(oneLead, 'paused', paused)).window?.nextBeatWaitBelow).toBe(
      nextIntervalReadBelow(paused),
    );
    // a rule that never reads it: no beat waits
    expect(nextIntervalReadBelow(ruleOf({}))).toBe(0);
    expect(modelClassifier(new BeatClassifier(oneLead, 'argmax')).window?.nextBeatWaitBelow).toBe(0);
  });
});

describe("the pipeline classifier's decision rule", () => {
  it('puts on each published beat the step that chose its label and the p(V) it chose with', async () => {
    const model = ARCHITECTURES['template-rr-resnet'].build(L, 5);
    const voting = ruleOf({ decisionRule: { familyVote: { minCorrelation: 0.9, weight: 0.8 } } });
    const classify = modelClassifier(new BeatClassifier(model, 'voting', voting));
    const pending = (rPeakSample: number) => ({
      bedId: 'bed-1',
      source: 'synthetic',
      window: beat(true),
      rPeakSample,
      timeS: rPeakSample / 360,
      rrS: 0.6,
      quality: 1,
      windowCompleteMs: 0,
    });
    const beats = await classify([1000, 1300, 1600, 1900].map(pending));
    for (const b of beats.slice(0, 3)) expect(b.decision).toEqual({ reason: 'network', votedV: b.probabilities.V });
    // the fourth hears its family of three: its vote mixes its own p(V) with theirs
    const fourth = beats[3]!;
    const mean = beats.slice(0, 3).reduce((s, b) => s + b.probabilities.V, 0) / 3;
    expect(fourth.decision!.votedV).toBeCloseTo(0.2 * fourth.probabilities.V + 0.8 * mean, 5);
    const [message] = wardMessages({ kind: 'beat', beat: fourth }, 'voting', 0);
    expect(beatCodec.decode(message!.value).decision).toEqual(fourth.decision);
  });

  it('carries each bed’s beat families from one micro-batch to the next, and keeps beds apart', () => {
    const model = ARCHITECTURES['template-rr-resnet'].build(L, 5);
    const voting = ruleOf({ decisionRule: { familyVote: { minCorrelation: 0.9, weight: 0.8 } } });
    const classifier = new BeatClassifier(model, 'voting', voting);
    const pV = (v: number) => Float32Array.from([1 - v, 0, v, 0, 0]);
    const state = classifier.ruleState();
    const labelOf = (c: BeatClassifier, v: number, bed: string, s = state) =>
      c.decide(s, beatWindowInputs([beat(true)]), pV(v), [bed]).map((d) => [d.label, d.reason]);
    // three beats of one shape that the network calls N, then one it calls V, in separate batches
    for (let i = 0; i < 3; i++) expect(labelOf(classifier, 0.01, 'bed-1')).toEqual([[0, 'network']]);
    // the family turns the V call back to N, and says so
    expect(labelOf(classifier, 0.9, 'bed-1')).toEqual([[0, 'family']]);
    expect(labelOf(classifier, 0.9, 'bed-2')).toEqual([[2, 'network']]);
    // without the vote the same call is V
    const alone = new BeatClassifier(model, 'alone');
    expect(labelOf(alone, 0.9, 'bed-1', alone.ruleState())).toEqual([[2, 'network']]);
  });
});
