import { AAMI_CLASSES, type AamiClass } from '../model/aami.js';
import type { BeatDecider, BeatDecision } from '../model/beatFamilies.js';
import { GradCam } from '../model/gradcam.js';
import { nextIntervalReadBelow } from '../model/decision.js';
import {
  beatWindowInputs,
  inputShapeOf,
  pickInputs,
  predictProbabilities,
  type BeatClassifier,
} from '../model/inference.js';
import type { PendingBeat } from './bedMonitor.js';
import type { ClassifiedBeat, Classify } from './ward.js';

/**
 * The pipeline's classifier: one model call per micro-batch, Grad-CAM for every non-N beat.
 * `labels` replaces the model's decision: a benchmark times an untrained architecture with the
 * reference labels, so that it explains as many beats as a trained one would. Each ward
 * subscription `open`s its own rule state (beat families) on the one model.
 */
export function modelClassifier(
  classifier: BeatClassifier,
  options: { labels?: (beats: readonly PendingBeat[]) => Promise<AamiClass[]> } = {},
): Classify {
  const model = classifier.model;
  const cam = new GradCam(model);
  const K = AAMI_CLASSES.length;
  const withRuleState = (state: BeatDecider): Classify => {
    const classify = async (beats: readonly PendingBeat[]): Promise<ClassifiedBeat[]> => {
      const inputs = beatWindowInputs(
        beats.map((b) => b.window),
        classifier.layout,
      );
      const p = await predictProbabilities(model, inputs);
      let decisions: BeatDecision[] | undefined;
      let labels: number[];
      if (options.labels === undefined) {
        decisions = classifier.decide(
          state,
          inputs,
          p,
          beats.map((b) => b.bedId),
        );
        labels = decisions.map((d) => d.label);
      } else labels = (await options.labels(beats)).map((c) => AAMI_CLASSES.indexOf(c));
      const abnormal = labels.flatMap((l, i) => (l === 0 ? [] : [i]));
      const curves = new Map<number, Float32Array>();
      // what the beat shows is window block 0: the model input and Grad-CAM there
      const { length: L, width: W } = inputs;
      if (abnormal.length > 0) {
        const explained = cam.explain(
          pickInputs(inputs, abnormal),
          abnormal.map((i) => labels[i]!),
        );
        abnormal.forEach((i, k) => curves.set(i, explained.slice(k * L, k * L + W)));
      }
      return beats.map((beat, i) => ({
        ...beat,
        label: AAMI_CLASSES[labels[i]!]!,
        probabilities: Object.fromEntries(AAMI_CLASSES.map((c, k) => [c, p[i * K + k]!])) as Record<AamiClass, number>,
        decision: decisions === undefined ? null : { reason: decisions[i]!.reason, votedV: decisions[i]!.votedV },
        modelInput: inputs.window.slice(i * L, i * L + W),
        gradCam: curves.get(i),
      }));
    };
    // the rule's beat families compare both leads even when the network reads one
    return Object.assign(classify, {
      usesSecondLead: inputShapeOf(model).channels === 4 || classifier.rule.familyVote !== null,
      window: { ...classifier.layout.cut, nextBeatWaitBelow: nextIntervalReadBelow(classifier.rule) },
      forget: (bedId: string) => state.forget(bedId),
      open: () => withRuleState(classifier.ruleState()),
    });
  };
  return withRuleState(classifier.ruleState());
}
