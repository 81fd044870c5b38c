import { type DecisionReason } from '../contracts/decisions.js';
import { AAMI_CLASSES } from '../contracts/aami.js';
import { pearson } from '../dsp/index.js';
import { argmax } from './aami.js';
import type { BeatSet } from './dataset.js';
import { beatRhythmOf } from './features.js';
import { decide, type BeatRhythm, type DecisionRule, type FamilyVote } from './decision.js';

const K = AAMI_CLASSES.length;
const V = AAMI_CLASSES.indexOf('V');
/** QRS segment the families compare, samples at 125 Hz around the R peak: -96 .. +120 ms. */
const QRS_BEFORE = 12;
const QRS_AFTER = 16;
/** A patient rarely shows more shapes than this; a new one replaces the longest unseen. */
const MAX_FAMILIES = 16;
/** The family's templates and p(V) average its last this-many members, so they follow slow drift. */
const MEMORY = 32;
/** A family speaks only once it has this many earlier members: one beat is no family. */
const MIN_MEMBERS = 3;

interface Family {
  /** Per lead, the mean of the members' QRS segments, each z-scored. */
  readonly templates: readonly [Float64Array, Float64Array];
  members: number;
  meanV: number;
  lastJoined: number;
}

/** The QRS segment of a window, centred and scaled to unit length (zero when flat). */
function qrsShape(window: Float32Array, rIndex: number): Float64Array {
  const from = Math.max(0, rIndex - QRS_BEFORE);
  const to = Math.min(window.length, rIndex + QRS_AFTER);
  const z = Float64Array.from(window.subarray(from, to));
  const mean = z.reduce((s, x) => s + x, 0) / z.length;
  let norm = 0;
  for (let i = 0; i < z.length; i++) {
    z[i] = z[i]! - mean;
    norm += z[i]! * z[i]!;
  }
  norm = Math.sqrt(norm);
  if (norm > 0) for (let i = 0; i < z.length; i++) z[i] = z[i]! / norm;
  return z;
}

/**
 * One patient's beats sorted into morphology families, as bedside arrhythmia analysers do: the
 * network judges each beat alone and errs on the odd beat of a patient's usual shape (a bundle
 * branch block beat called V, a V beat called N); the family's earlier beats say what that
 * shape has been. Causal: a beat hears only the beats before it. Both leads must agree: some
 * ventricular beats have the normal shape in MLII and another in V1 (MIT-BIH 203's runs), and a
 * family of one lead would vote them N.
 */
export class BeatFamilies {
  private readonly families: Family[] = [];
  private beats = 0;

  constructor(
    private readonly vote: FamilyVote,
    private readonly rIndex: number,
  ) {}

  /**
   * Beat's p(V) after its family's vote (the network's own p(V) given); joins it to a family.
   * `second`: the second lead's window, flat (all zero) where the bed has none, and then the
   * monitoring lead decides alone.
   */
  votedV(window: Float32Array, second: Float32Array, pV: number): number {
    const shapes = [qrsShape(window, this.rIndex), qrsShape(second, this.rIndex)] as const;
    const twoLeads = shapes[1].some((x) => x !== 0);
    let best: Family | undefined;
    let bestScore = -Infinity;
    for (const f of this.families) {
      const r0 = pearson(shapes[0], f.templates[0]);
      const r1 = twoLeads ? pearson(shapes[1], f.templates[1]) : r0;
      if (r0 === null || r1 === null || r0 < this.vote.minCorrelation || r1 < this.vote.minCorrelation) continue;
      if ((r0 + r1) / 2 > bestScore) [best, bestScore] = [f, (r0 + r1) / 2];
    }
    this.beats++;
    if (best === undefined) {
      if (this.families.length >= MAX_FAMILIES) {
        const stale = this.families.reduce((a, b) => (b.lastJoined < a.lastJoined ? b : a));
        this.families.splice(this.families.indexOf(stale), 1);
      }
      this.families.push({ templates: shapes, members: 1, meanV: pV, lastJoined: this.beats });
      return pV;
    }
    const voted = best.members >= MIN_MEMBERS ? (1 - this.vote.weight) * pV + this.vote.weight * best.meanV : pV;
    const w = 1 / Math.min(best.members + 1, MEMORY);
    for (const [lead, template] of best.templates.entries()) {
      for (let i = 0; i < template.length; i++) template[i] = (1 - w) * template[i]! + w * shapes[lead]![i]!;
    }
    // the network's own p(V), not the voted one: a family must not talk itself into a label
    best.meanV = (1 - w) * best.meanV + w * pV;
    best.members++;
    best.lastJoined = this.beats;
    return voted;
  }
}

/** A class decision, the p(V) it was made with (the network's, or its family's vote), and why. */
export interface BeatDecision {
  readonly label: number;
  readonly votedV: number;
  readonly reason: DecisionReason;
}

/** A beat's class probabilities with p(V) set to its family's vote; the other classes keep their proportions of the rest. */
export function withVotedV(own: ArrayLike<number>, votedV: number, out: Float32Array): Float32Array {
  const rest = 1 - own[V]!;
  for (let c = 0; c < K; c++) out[c] = rest > 0 ? (own[c]! / rest) * (1 - votedV) : (1 - votedV) / (K - 1);
  out[V] = votedV;
  return out;
}

/**
 * Applies a decision rule to beats of many streams (beds, records), each stream's beats in time
 * order, carrying each stream's beat families from one call to the next when the rule has a
 * family vote. Training's evaluation, the inspection tool and the pipeline all decide through it.
 */
export class BeatDecider {
  private readonly streams = new Map<string, BeatFamilies>();
  private readonly row = new Float32Array(K);

  constructor(
    readonly rule: DecisionRule,
    private readonly rIndex: number,
  ) {}

  /**
   * Beat k of row-major `probabilities`; `windows` are its monitoring lead's and second lead's
   * windows (any scale; the second all zero where there is none).
   */
  decide(
    stream: string,
    windows: readonly [Float32Array, Float32Array],
    probabilities: Float32Array,
    k: number,
    rhythm: BeatRhythm,
  ): BeatDecision {
    const own = probabilities.subarray(k * K, (k + 1) * K);
    const vote = this.rule.familyVote;
    if (vote === null) return { ...decide(own, 0, rhythm, this.rule), votedV: own[V]! };
    let families = this.streams.get(stream);
    if (families === undefined) this.streams.set(stream, (families = new BeatFamilies(vote, this.rIndex)));
    const votedV = families.votedV(windows[0], windows[1], own[V]!);
    withVotedV(own, votedV, this.row);
    const decision = decide(this.row, 0, rhythm, this.rule);
    const swayed = decision.reason === 'network' && argmax(this.row, 0) !== argmax(own, 0);
    return { label: decision.label, votedV, reason: swayed ? 'family' : decision.reason };
  }

  /** The stream has ended, or paused long enough to be heard afresh: its families go. */
  forget(stream: string): void {
    this.streams.delete(stream);
  }
}

/**
 * Decides beats of a beat set by `rule`, beat k of `beats` being row k of `probabilities`; each
 * record is a stream of its own, so `beats` must hold each record's beats in time order for a
 * family vote to hear what it would have heard live.
 */
export function decideBeatSet(
  rule: DecisionRule,
  set: BeatSet,
  beats: ArrayLike<number>,
  probabilities: Float32Array,
): BeatDecision[] {
  const decider = new BeatDecider(rule, set.rIndex);
  const L = set.windowLength;
  return Array.from(beats, (i, k) =>
    decider.decide(
      set.recordNames[set.recordIndex[i]!]!,
      [set.windows.subarray(i * L, (i + 1) * L), set.secondWindows.subarray(i * L, (i + 1) * L)],
      probabilities,
      k,
      beatRhythmOf(set, i),
    ),
  );
}
