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
  | { readonly kind: 'duplicate'; readonly bedId: string; readonly seq: number; readonly renumbered: boolean }
  /**
   * A frame numbered far ahead of the bed's stream (beyond the reorder window) that the frames
   * after it did not confirm: one forged or corrupt frame, set aside so that it cannot make the
   * bed drop its real frames as duplicates.
   */
  | { readonly kind: 'implausible'; readonly frame: SampleFrame };

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
  /**
   * A jump in numbering beyond the reorder window is taken (as a gap) only once this many frames
   * in a row carry the new numbering; as many frames of the old numbering refute it.
   */
  readonly confirmJump: number;
  readonly scheduler?: SchedulerLike;
}

export const DEFAULT_ORDERING: OrderFramesConfig = { maxHeld: 8, maxWaitMs: 1000, confirmJump: 3 };

/**
 * Puts one bed's frames back in sequence order. Late frames are held in a small reorder
 * window; a frame seen before is reported as a duplicate and dropped; a frame still missing
 * when the window fills or the wait expires is reported as a gap, never silently bridged. A
 * frame numbered beyond the window is a resynchronisation only when the frames after it confirm
 * the new numbering (`confirmJump`); otherwise it is set aside as implausible, so a single
 * forged frame cannot blind the bed. All state belongs to the subscription and is released when
 * it ends.
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
      /** Frames of a numbering far ahead, near each other, waiting for confirmation (oldest first). */
      let jump: SampleFrame[] = [];
      /** Frames of the old numbering taken since the jump began: enough of them refute it. */
      let sinceJump = 0;
      const refuteJump = (): void => {
        for (const frame of jump) subscriber.next({ kind: 'implausible', frame });
        jump = [];
        sinceJump = 0;
      };

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

      /** Takes the jump's numbering: the frames between are lost, the jump's frames go on from there. */
      const acceptJump = (): void => {
        const first = jump.reduce((a, b) => (b.seq < a.seq ? b : a));
        // frames held from the old numbering come first, then the gap up to the new one
        while (held.size > 0) skipToEarliestHeld();
        if (next !== undefined && first.seq > next)
          subscriber.next({ kind: 'gap', bedId: first.bedId, fromSeq: next, toSeq: first.seq });
        next = first.seq;
        for (const frame of jump) held.set(frame.seq, frame);
        newestMs = Math.max(newestMs, ...jump.map((f) => f.producedAtMs));
        jump = [];
        sinceJump = 0;
        drain();
      };

      const subscription = source.subscribe({
        next(frame) {
          next ??= frame.seq;
          if (frame.seq > next + config.maxHeld + 1) {
            // a new numbering's frames may come out of order too, within the reorder window
            const near = jump.some((j) => Math.abs(j.seq - frame.seq) <= config.maxHeld + 1 && j.seq !== frame.seq);
            if (jump.length > 0 && !near) refuteJump();
            if (!jump.some((j) => j.seq === frame.seq)) jump.push(frame);
            if (jump.length >= config.confirmJump) acceptJump();
            return;
          }
          if (jump.length > 0 && ++sinceJump >= config.confirmJump) refuteJump();
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
          refuteJump(); // never confirmed
          subscriber.complete();
        },
      });
      return () => {
        subscription.unsubscribe();
        timer?.unsubscribe();
        held.clear();
        jump = [];
        if (next !== undefined) resume?.save({ seq: next, producedAtMs: newestMs });
      };
    });
}
