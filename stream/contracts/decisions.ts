/**
 * What set a beat's label, carried on every beat event so that a label the network's
 * probabilities do not show is explained: `network` its most probable class; `family` the
 * most probable class once the beat's morphology family voted on its p(V), where that differs
 * from the network's own; `premature` an N beat relabelled S by its RR in a regular rhythm;
 * `irregular-rhythm` an S call relabelled N because the rhythm is irregular (AF's beats are N);
 * `not-premature` an S call relabelled N because the beat is not early in a regular rhythm;
 * `premature-pause` an N beat (or an S call the irregular rhythm would relabel) labelled S because
 * it is early and a pause follows it.
 */
export const DECISION_REASONS = [
  'network',
  'family',
  'premature',
  'irregular-rhythm',
  'not-premature',
  'premature-pause',
] as const;
export type DecisionReason = (typeof DECISION_REASONS)[number];
