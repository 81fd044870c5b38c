import { AAMI_CLASSES, type AamiClass } from '../contracts/aami.js';
import type { BeatDecider, BeatDecision } from '../model/beatFamilies.js';
import { GradCam } from '../model/gradcam.js';
import { nextIntervalReadBelow } from '../model/decision.js';
import {
  beatWindowInputs,
  inputShapeOf,
  pickInputs,
  predictProbabilities,
  type BatchInputs,
  type BeatClassifier,
} from '../model/inference.js';
import type { PendingBeat } from './bedMonitor.js';
import type { ClassifiedBeat, Classify } from './ward.js';

/** How a batch's beats are labelled from the network's inputs and probabilities. */
export type BatchLabeller = (
  beats: readonly PendingBeat[],
  inputs: BatchInputs,
  probabilities: Float32Array,
) => Promise<BeatDecision[]>;

/**
 * Runs the model on a micro-batch, labels it with `label`, and explains every non-N beat with
 * Grad-CAM: the pipeline's classifier with the model's own decision rule (`modelClassifier`),
 * and a benchmark's that times a network with labels of its own choosing.
 */
export function labelledBatches(
  classifier: BeatClassifier,
  label: BatchLabeller,
): (beats: readonly PendingBeat[]) => Promise<ClassifiedBeat[]> {
  const model = classifier.model;
  const cam = new GradCam(model);
  const K = AAMI_CLASSES.length;
  return async (beats) => {
    const inputs = beatWindowInputs(
      beats.map((b) => b.window),
      classifier.layout,
    );
    const p = await predictProbabilities(model, inputs);
    const decisions = await label(beats, inputs, p);
    const abnormal = decisions.flatMap((d, i) => (d.label === 0 ? [] : [i]));
    const curves = new Map<number, Float32Array>();
    // what the beat shows is window block 0: the model input and Grad-CAM there
    const { length: L, width: W } = inputs;
    if (abnormal.length > 0) {
      const explained = cam.explain(
        pickInputs(inputs, abnormal),
        abnormal.map((i) => decisions[i]!.label),
      );
      abnormal.forEach((i, k) => curves.set(i, explained.slice(k * L, k * L + W)));
    }
    return beats.map((beat, i) => ({
      ...beat,
      label: AAMI_CLASSES[decisions[i]!.label]!,
      probabilities: Object.fromEntries(AAMI_CLASSES.map((c, k) => [c, p[i * K + k]!])) as Record<AamiClass, number>,
      decision: { reason: decisions[i]!.reason, votedV: decisions[i]!.votedV },
      modelInput: inputs.window.slice(i * L, i * L + W),
      modelInputRIndex: classifier.layout.rIndices[0]!,
      gradCam: curves.get(i),
    }));
  };
}

/**
 * The pipeline's classifier: one model call per micro-batch, the model's decision rule, Grad-CAM
 * for every non-N beat. Each ward subscription `open`s its own rule state (beat families) on
 * the one model.
 */
export function modelClassifier(classifier: BeatClassifier): Classify {
  const withRuleState = (state: BeatDecider): Classify => {
    const classify = labelledBatches(classifier, async (beats, inputs, p) =>
      classifier.decide(
        state,
        inputs,
        p,
        beats.map((b) => b.bedId),
      ),
    );
    // the rule's beat families compare both leads even when the network reads one
    return Object.assign(classify, {
      usesSecondLead: inputShapeOf(classifier.model).channels === 4 || classifier.rule.familyVote !== null,
      window: { ...classifier.layout.cut, nextBeatWaitBelow: nextIntervalReadBelow(classifier.rule) },
      forget: (bedId: string) => state.forget(bedId),
      open: () => withRuleState(classifier.ruleState()),
    });
  };
  return withRuleState(classifier.ruleState());
}
