import { type AamiClass } from '../contracts/aami.js';
import {
  asyncScheduler,
  bufferTime,
  concatMap,
  connect,
  defer,
  EMPTY,
  endWith,
  filter,
  from,
  groupBy,
  ignoreElements,
  map,
  merge,
  mergeMap,
  type Observable,
  share,
  type OperatorFunction,
  type SchedulerLike,
  switchMap,
  takeUntil,
  tap,
  timer,
} from 'rxjs';
import type { WithheldAlarm } from '../alarms/engine.js';
import type { Alarm } from '../alarms/types.js';
import { ConfigError } from '../contracts/errors.js';
import type { FrameProblem, SampleFrame } from '../contracts/frame.js';
import type { BeatDecision } from '../model/beatFamilies.js';
import type { AlarmAcks } from './acks.js';
import { BedMonitor, DEFAULT_BED, type BedConfig, type PendingBeat } from './bedMonitor.js';
import {
  DEFAULT_ORDERING,
  orderFrames,
  type OrderedFrameEvent,
  type OrderFramesConfig,
  type ResumePoint,
} from './orderFrames.js';
import { usableFrameProblem } from './frameChecks.js';

/** A beat with its class, and for non-N beats the Grad-CAM explanation. */
export interface ClassifiedBeat extends PendingBeat {
  readonly label: AamiClass;
  readonly probabilities: Record<AamiClass, number>;
  /**
   * Why the label is what it is, and the beat's p(V) after its morphology family's vote (the
   * network's own where the rule has no vote): it explains a label the probabilities do not
   * show.
   */
  readonly decision: Pick<BeatDecision, 'reason' | 'votedV'>;
  /** The normalised window the model saw... */
  readonly modelInput: Float32Array;
  /** ...and where the R peak sits in it. */
  readonly modelInputRIndex: number;
  readonly gradCam: Float32Array | undefined;
}

/**
 * Classifies a micro-batch of beats from any beds (the model, or a fake in tests).
 * `usesSecondLead`: the beats must carry their second lead's window where the bed has one (for
 * the network, or for its decision rule's beat families). `window`: the windows to cut, their
 * length and where the R peak sits (the model's `WindowLayout.cut`; default the front end's), and
 * which beats wait for the next R peak (those whose next interval the decision rule reads).
 */
export type Classify = ((beats: readonly PendingBeat[]) => Promise<ClassifiedBeat[]>) & {
  readonly usesSecondLead?: boolean;
  readonly window?: { readonly length: number; readonly rIndex: number; readonly nextBeatWaitBelow?: number };
  /** Drops what the classifier keeps for a bed between batches (the ward released it). */
  readonly forget?: (bedId: string) => void;
  /**
   * The same classifier with per-bed state of its own: each ward subscription opens one, so
   * that a bed's classifier state starts and ends with the rest of its state (a new group
   * generation of a worker starts every bed afresh, on whichever worker it lands).
   */
  readonly open?: () => Classify;
};

export interface BatchingConfig {
  readonly maxBatch: number;
  readonly maxWaitMs: number;
  readonly scheduler?: SchedulerLike;
}

export const DEFAULT_BATCHING: BatchingConfig = { maxBatch: 64, maxWaitMs: 5 };

export type WardEvent =
  | { readonly kind: 'beat'; readonly beat: ClassifiedBeat }
  /**
   * A frame set aside (`frame`: invalid, or numbered implausibly) or a bed's processing failed
   * (`code` bed-failure): the bed carries the invalid-input alarm, the frame goes to the dead
   * letters.
   */
  | {
      readonly kind: 'rejected';
      readonly bedId: string;
      readonly code: string;
      readonly reason: string;
      readonly frame: SampleFrame | undefined;
    }
  | { readonly kind: 'alarm'; readonly alarm: Alarm; readonly explanation: readonly ClassifiedBeat[] }
  /** An alarm the bed's pulse held back (a pulse present while the ECG shows no QRS, say), and why. */
  | { readonly kind: 'withheld'; readonly bedId: string; readonly withheld: WithheldAlarm }
  | { readonly kind: 'gap'; readonly bedId: string; readonly lostFrames: number }
  | { readonly kind: 'duplicate'; readonly bedId: string; readonly seq: number; readonly renumbered: boolean };

/** A bed's monitor cutting the windows `classify` needs: their layout, and the second lead's where it reads them. */
export function bedMonitorFor(bedId: string, classify: Classify, bed: BedConfig = DEFAULT_BED): BedMonitor {
  const window = classify.window;
  return new BedMonitor(bedId, {
    ...bed,
    ...(window === undefined ? {} : { frontEnd: { ...bed.frontEnd, window: { ...bed.frontEnd?.window, ...window } } }),
    secondLeadWindows: classify.usesSecondLead === true,
  });
}

/** Micro-batches beats across beds: a batch closes when full or after `maxWaitMs`, whichever first. */
export function classifyInBatches(
  classify: Classify,
  config: BatchingConfig = DEFAULT_BATCHING,
): OperatorFunction<PendingBeat, ClassifiedBeat> {
  return (beats) =>
    beats.pipe(
      bufferTime(config.maxWaitMs, null, config.maxBatch, config.scheduler ?? asyncScheduler),
      filter((batch) => batch.length > 0),
      concatMap((batch) => from(classify(batch))),
      mergeMap((classified) => from(classified)),
    );
}

const EXPLAINED_BEATS = 32;
/**
 * Alarms per bed whose explanation is kept for their later messages (ended, acknowledged): a
 * consumer that keeps only an alarm's latest message keeps its explanation. At least the alarm
 * engine's acknowledgeable ended alarms and its active ones.
 */
const EXPLAINED_ALARMS = 32;

export interface StallConfig {
  readonly afterMs: number;
  readonly scheduler?: SchedulerLike;
}

/**
 * A bed's invalid-input alarm ends at its first usable frame once this long (wall clock) has
 * passed without another refused frame or failure: a single forged frame shows for a few seconds,
 * a producer that keeps sending unusable frames keeps it on.
 */
export const QUARANTINE_CLEAR_MS = 5000;

/** Five seconds: twenty frames late, well past any reordering wait or broker hiccup. */
export const DEFAULT_STALL: StallConfig = { afterMs: 5000 };

/**
 * How long a replay that has ended waits before it stops its worker: each bed's stall (the
 * replay's end) lets go of the beats still waiting for the beat after them (`BedMonitor.onStalled`),
 * and a second more lets them through the classifier.
 */
export const REPLAY_DRAIN_MS = DEFAULT_STALL.afterMs + 1000;

/** A bed silent this long (wall clock; longer than the stall time) is released (`BedMonitor.release`). */
export interface ReleaseConfig {
  readonly afterMs: number;
  readonly scheduler?: SchedulerLike;
}

/**
 * Ten minutes: a patient off telemetry that long (discharged, moved, or the transmitter off)
 * starts afresh when the stream comes back, as after a gap, and losing the first beats its
 * detector needs to learn the signal again costs less than holding every bed ever admitted.
 */
export const DEFAULT_RELEASE: ReleaseConfig = { afterMs: 10 * 60_000 };

/**
 * The per-ward pipeline: frames of many beds in, beat and alarm events out. It only wires the
 * stages (ordering, BedMonitor, classifier, alarm engine); per-bed state lives in this
 * subscription and is released when it ends, and a bed's signal analysis (the bulk of it) when
 * the bed has been silent for the release time.
 */
export function monitorWard(deps: {
  classify: Classify;
  ordering?: OrderFramesConfig;
  batching?: BatchingConfig;
  bed?: BedConfig;
  /** A bed whose frames stop for this long (wall clock) raises stream-stalled. */
  stall?: StallConfig;
  /** A bed whose frames stop for this long (wall clock) gives up its signal analysis. */
  release?: ReleaseConfig;
  /** Called for every beat window cut, before it waits for the classifier. */
  onPending?: (beat: PendingBeat) => void;
  /** Acknowledgements of alarms (`ecg.acks`): each bed's alarms are published again, acknowledged. */
  acks?: AlarmAcks;
}): OperatorFunction<SampleFrame, WardEvent> {
  const stall = deps.stall ?? DEFAULT_STALL;
  const release = deps.release ?? DEFAULT_RELEASE;
  if (!(release.afterMs > stall.afterMs))
    throw new ConfigError(
      `monitorWard: the release time (${release.afterMs} ms) must be longer than the stall time (${stall.afterMs} ms)`,
    );
  return (frames) =>
    defer(() => {
      const classify = deps.classify.open?.() ?? deps.classify;
      const monitors = new Map<string, BedMonitor>();
      /** Where each bed's stream had got to when its group last ended (a released bed). */
      const resumePoints = new Map<string, ResumePoint>();
      const recent = new Map<string, ClassifiedBeat[]>();
      const monitorOf = (bedId: string): BedMonitor => {
        let m = monitors.get(bedId);
        if (m === undefined) {
          m = bedMonitorFor(bedId, classify, deps.bed);
          monitors.set(bedId, m);
        }
        return m;
      };
      /** The explanation each bed's latest alarms were raised with, for their later messages. */
      const explanations = new Map<string, Map<string, readonly ClassifiedBeat[]>>();
      const explain = (alarm: Alarm): readonly ClassifiedBeat[] => {
        const kept = explanations.get(alarm.bedId)?.get(alarm.id);
        if (kept !== undefined) return kept;
        const beats = recent.get(alarm.bedId) ?? [];
        const explanation = alarm.evidence.flatMap((s) =>
          beats.filter((b) => b.rPeakSample === s && b.gradCam !== undefined),
        );
        if (explanation.length === 0) return explanation;
        const bed = explanations.get(alarm.bedId) ?? new Map<string, readonly ClassifiedBeat[]>();
        explanations.set(alarm.bedId, bed);
        bed.set(alarm.id, explanation);
        for (const oldest of bed.keys()) {
          if (bed.size <= EXPLAINED_ALARMS) break;
          bed.delete(oldest);
        }
        return explanation;
      };
      // an alarm raised again after it was acknowledged (its frames read again after a
      // rebalance or a restart) stays acknowledged, in this message and its later ones
      const acknowledged = (alarm: Alarm): Alarm => {
        if (alarm.acknowledged || deps.acks?.appliesTo(alarm) !== true) return alarm;
        monitors.get(alarm.bedId)?.alarms.acknowledge(alarm.id);
        return { ...alarm, acknowledged: true };
      };
      const alarmEvent = (raised: Alarm): WardEvent => {
        const alarm = acknowledged(raised);
        return { kind: 'alarm', alarm, explanation: explain(alarm) };
      };

      const withheldEvents = (bedId: string): WardEvent[] =>
        monitorOf(bedId)
          .alarms.drainWithheld()
          .map((withheld) => ({ kind: 'withheld', bedId, withheld }));

      const releaseBed = (bedId: string): void => {
        monitors.get(bedId)?.release();
        recent.delete(bedId);
        explanations.delete(bedId);
        classify.forget?.(bedId);
      };

      /** When each bed's input was last refused or its processing last failed (scheduler time). */
      const troubled = new Map<string, number>();
      const now = (): number => (stall.scheduler ?? asyncScheduler).now();
      /**
       * A bed's frame was refused, or its processing failed (`quarantine`: its signal analysis
       * starts afresh): the bed says why, and the frame, if any, is set aside.
       */
      const trouble = (
        bedId: string,
        code: string,
        reason: string,
        frame: SampleFrame | undefined,
        quarantine = false,
      ): WardEvent[] => {
        troubled.set(bedId, now());
        const monitor = monitorOf(bedId);
        const alarms = quarantine ? monitor.quarantine(reason) : monitor.onRejected(reason, frame?.producedAtMs ?? 0);
        return [...alarms.map(alarmEvent), { kind: 'rejected', bedId, code, reason, frame }];
      };
      /** A failure anywhere in a bed's stages quarantines that bed, never the worker or another bed. */
      const failed = (bedId: string, error: unknown, frame?: SampleFrame): WardEvent[] => {
        const reason = `processing failed: ${error instanceof Error ? error.message : String(error)}`.slice(0, 280);
        return trouble(bedId, 'bed-failure', reason, frame, true);
      };
      /** A usable frame: the bed's invalid-input alarm ends once its input has been usable for a while. */
      const settled = (bedId: string): Alarm[] => {
        const since = troubled.get(bedId);
        if (since === undefined || now() - since < QUARANTINE_CLEAR_MS) return [];
        troubled.delete(bedId);
        return monitorOf(bedId).inputValid();
      };

      type Stage = WardEvent | { readonly kind: 'pending'; readonly beat: PendingBeat };
      type BedInput =
        | OrderedFrameEvent
        | { readonly kind: 'stalled'; readonly bedId: string }
        | { readonly kind: 'invalid'; readonly frame: SampleFrame; readonly problem: FrameProblem };
      const staged: Observable<Stage> = frames.pipe(
        // a bed's group ends when it has been silent for the release time; its next frame
        // opens another, which goes on from where the bed's stream had got to
        groupBy((f) => f.bedId, {
          duration: (bed) =>
            bed.pipe(
              switchMap(() => timer(release.afterMs, release.scheduler ?? asyncScheduler)),
              takeUntil(bed.pipe(ignoreElements(), endWith(null))),
              tap(() => releaseBed(bed.key)),
            ),
        }),
        mergeMap((bed) =>
          bed.pipe(
            // a frame no bed can use never reaches the bed's ordering or its signal analysis
            map((frame) => ({ frame, problem: usableFrameProblem(frame) })),
            connect((checked): Observable<BedInput> => {
              const usable = checked.pipe(
                filter((c) => c.problem === undefined),
                map((c) => c.frame),
                share(),
              );
              return merge(
                checked.pipe(
                  filter((c): c is { frame: SampleFrame; problem: FrameProblem } => c.problem !== undefined),
                  map((c) => ({ kind: 'invalid' as const, ...c })),
                ),
                usable.pipe(
                  orderFrames(deps.ordering ?? DEFAULT_ORDERING, {
                    from: resumePoints.get(bed.key),
                    save: (point) => resumePoints.set(bed.key, point),
                  }),
                ),
                // every usable frame restarts the bed's stall clock; the clock stops with the stream
                usable.pipe(
                  switchMap(() => timer(stall.afterMs, stall.scheduler ?? asyncScheduler)),
                  map(() => ({ kind: 'stalled' as const, bedId: bed.key })),
                  takeUntil(usable.pipe(ignoreElements(), endWith(null))),
                ),
              );
            }),
          ),
        ),
        mergeMap((event): Stage[] => {
          switch (event.kind) {
            case 'duplicate':
              return [event];
            case 'gap':
              return [{ kind: 'gap', bedId: event.bedId, lostFrames: event.toSeq - event.fromSeq }];
            case 'invalid':
              return trouble(event.frame.bedId, event.problem.code, event.problem.reason, event.frame);
            case 'implausible':
              return trouble(
                event.frame.bedId,
                'seq',
                `frame numbered ${event.frame.seq}, far from the bed's numbering, and not confirmed by the frames after it`,
                event.frame,
              );
            case 'stalled':
            case 'frame': {
              const bedId = event.kind === 'stalled' ? event.bedId : event.frame.bedId;
              let changes: { beats: PendingBeat[]; alarms: Alarm[] };
              try {
                changes =
                  event.kind === 'stalled' ? monitorOf(bedId).onStalled() : monitorOf(bedId).onFrame(event.frame);
              } catch (error) {
                return failed(bedId, error, event.kind === 'frame' ? event.frame : undefined);
              }
              const { beats, alarms } = changes;
              if (event.kind === 'frame') alarms.push(...settled(bedId));
              for (const beat of beats) deps.onPending?.(beat);
              return [
                ...alarms.map(alarmEvent),
                ...withheldEvents(bedId),
                ...beats.map((beat) => ({ kind: 'pending' as const, beat })),
              ];
            }
          }
        }),
      );
      return staged.pipe(
        connect((shared) =>
          merge(
            shared.pipe(filter((s): s is WardEvent => s.kind !== 'pending')),
            shared.pipe(
              filter((s): s is { kind: 'pending'; beat: PendingBeat } => s.kind === 'pending'),
              map((s) => s.beat),
              classifyInBatches(classify, deps.batching),
              mergeMap((beat): WardEvent[] => {
                const list = recent.get(beat.bedId) ?? [];
                list.push(beat);
                if (list.length > EXPLAINED_BEATS) list.shift();
                recent.set(beat.bedId, list);
                let alarms: Alarm[];
                try {
                  alarms = monitorOf(beat.bedId).onClassified(beat);
                } catch (error) {
                  return [{ kind: 'beat', beat }, ...failed(beat.bedId, error)];
                }
                return [{ kind: 'beat', beat }, ...alarms.map(alarmEvent), ...withheldEvents(beat.bedId)];
              }),
            ),
            (deps.acks?.arrivals ?? EMPTY).pipe(
              takeUntil(shared.pipe(ignoreElements(), endWith(null))),
              mergeMap((ack): WardEvent[] => {
                // only an alarm this worker raised for that bed, and acknowledged after it was raised
                const engine = monitors.get(ack.bedId)?.alarms;
                const raised = engine?.find(ack.alertId);
                if (engine === undefined || raised === undefined || !deps.acks!.appliesTo(raised)) return [];
                const alarm = engine.acknowledge(ack.alertId);
                return alarm === undefined ? [] : [alarmEvent(alarm)];
              }),
            ),
          ),
        ),
      );
    });
}
