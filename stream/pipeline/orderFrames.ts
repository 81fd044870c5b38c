import { asyncScheduler, Observable, type OperatorFunction, type SchedulerLike, type Subscription } from 'rxjs';
import type { SampleFrame } from '../contracts/frame.js';

export type OrderedFrameEvent =
  | { readonly kind: 'frame'; readonly frame: SampleFrame }
  /** Frames `fromSeq`..`toSeq - 1` never came: the stream resumes at `toSeq`. */
  | { readonly kind: 'gap'; readonly bedId: string; readonly fromSeq: number; readonly toSeq: number }
  /**
   * A frame numbered below what the bed has reached. `renumbered`: it was produced after every
   * frame of the bed taken so far, yet numbered further back than any reordering: its producer
   * started the bed's numbering over, which a producer must not do (see StreamPosition).
   */
  | { readonly kind: 'duplicate'; readonly bedId: string; readonly seq: number; readonly renumbered: boolean };

/** The next sequence number a bed's stream goes on from, and the latest production time of its frames taken. */
export interface ResumePoint {
  readonly seq: number;
  readonly producedAtMs: number;
}

/** A bed's stream seen before: where it had got to, and where to keep where it gets to now. */
export interface ResumeTrack {
  readonly from: ResumePoint | undefined;
  save(point: ResumePoint): void;
}

export interface OrderFramesConfig {
  /** Frames held waiting for a missing one before it is declared lost. */
  readonly maxHeld: number;
  /** Longest wait for a missing frame, ms. */
  readonly maxWaitMs: number;
  readonly scheduler?: SchedulerLike;
}

export const DEFAULT_ORDERING: OrderFramesConfig = { maxHeld: 8, maxWaitMs: 1000 };

/**
 * Puts one bed's frames back in sequence order. Late frames are held in a small reorder
 * window; a frame seen before is reported as a duplicate and dropped; a frame still missing
 * when the window fills or the wait expires is reported as a gap, never silently bridged.
 * All state belongs to the subscription and is released when it ends.
 */
export function orderFrames(
  config: OrderFramesConfig = DEFAULT_ORDERING,
  /** Where the bed's stream had got to (else it starts at its first frame), and where it gets to, saved at the end. */
  resume?: ResumeTrack,
): OperatorFunction<SampleFrame, OrderedFrameEvent> {
  const scheduler = config.scheduler ?? asyncScheduler;
  return (source) =>
    new Observable<OrderedFrameEvent>((subscriber) => {
      let next: number | undefined = resume?.from?.seq;
      /** Latest production time of the frames taken: a copy of one of them carries its original's. */
      let newestMs = resume?.from?.producedAtMs ?? -Infinity;
      const held = new Map<number, SampleFrame>();
      let timer: Subscription | undefined;

      const drain = (): void => {
        while (next !== undefined && held.has(next)) {
          const frame = held.get(next)!;
          held.delete(next);
          next++;
          subscriber.next({ kind: 'frame', frame });
        }
        if (held.size === 0) {
          timer?.unsubscribe();
          timer = undefined;
        }
      };
      const skipToEarliestHeld = (): void => {
        if (held.size === 0 || next === undefined) return;
        const earliest = Math.min(...held.keys());
        const bedId = held.get(earliest)!.bedId;
        subscriber.next({ kind: 'gap', bedId, fromSeq: next, toSeq: earliest });
        next = earliest;
        drain();
      };
      const armTimer = (): void => {
        if (timer !== undefined) return;
        timer = scheduler.schedule(() => {
          timer = undefined;
          skipToEarliestHeld();
          if (held.size > 0) armTimer();
        }, config.maxWaitMs);
      };

      const subscription = source.subscribe({
        next(frame) {
          next ??= frame.seq;
          if (frame.seq < next || held.has(frame.seq)) {
            const renumbered = next - frame.seq > config.maxHeld && frame.producedAtMs > newestMs;
            subscriber.next({ kind: 'duplicate', bedId: frame.bedId, seq: frame.seq, renumbered });
            return;
          }
          newestMs = Math.max(newestMs, frame.producedAtMs);
          held.set(frame.seq, frame);
          drain();
          if (held.size > config.maxHeld) skipToEarliestHeld();
          if (held.size > 0) armTimer();
        },
        error: (error: unknown) => subscriber.error(error),
        complete() {
          while (held.size > 0) skipToEarliestHeld();
          subscriber.complete();
        },
      });
      return () => {
        subscription.unsubscribe();
        timer?.unsubscribe();
        held.clear();
        if (next !== undefined) resume?.save({ seq: next, producedAtMs: newestMs });
      };
    });
}
