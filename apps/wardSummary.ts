import type { Alarm } from '../stream/alarms/types.js';
import type { ClassifiedBeat } from '../stream/pipeline/ward.js';

/** Beats the shown heart rate averages: one RR alone would swing beat to beat in bigeminy. */
export const HR_AVERAGE_BEATS = 8;

/** The part of a ward event the summary reads (every WardEvent is one). */
export type SummaryEvent =
  | { readonly kind: 'beat'; readonly beat: Pick<ClassifiedBeat, 'bedId' | 'label' | 'rrS'> }
  | {
      readonly kind: 'alarm';
      readonly alarm: Pick<Alarm, 'bedId' | 'id' | 'type' | 'priority' | 'state' | 'acknowledged'>;
    }
  | { readonly kind: 'gap'; readonly bedId: string }
  | { readonly kind: 'duplicate'; readonly bedId: string; readonly renumbered: boolean }
  | { readonly kind: 'rejected'; readonly bedId: string; readonly reason: string }
  | { readonly kind: 'withheld'; readonly bedId: string; readonly withheld: { readonly reason: string } };

interface BedState {
  beats: number;
  counts: Record<string, number>;
  recentRr: number[];
  active: Map<string, string>;
  /** Frames dropped because their producer started the bed's numbering over. */
  renumbered: number;
  /** Frames set aside (or failures of the bed's processing), and the latest reason. */
  rejected: number;
  lastRejection: string;
  /** The latest alarm the pulse held back, and why, until the next summary. */
  withheld: string;
}

/**
 * The terminal's view of the ward, a line per bed: heart rate (the mean of the latest
 * HR_AVERAGE_BEATS RR intervals, as bedside monitors average), beats by class, active alarms
 * (those a nurse has acknowledged said so).
 */
export class WardSummary {
  private readonly beds = new Map<string, BedState>();

  add(events: Iterable<SummaryEvent>): void {
    for (const e of events) {
      const bed = this.bed(e.kind === 'beat' ? e.beat.bedId : e.kind === 'alarm' ? e.alarm.bedId : e.bedId);
      if (e.kind === 'beat') {
        bed.beats++;
        bed.counts[e.beat.label] = (bed.counts[e.beat.label] ?? 0) + 1;
        if (e.beat.rrS !== null) bed.recentRr = [...bed.recentRr.slice(1 - HR_AVERAGE_BEATS), e.beat.rrS];
      } else if (e.kind === 'alarm') {
        const { type, priority, acknowledged } = e.alarm;
        if (e.alarm.state === 'active')
          bed.active.set(e.alarm.id, `${type} (${priority}${acknowledged ? ', acknowledged' : ''})`);
        else bed.active.delete(e.alarm.id);
      } else if (e.kind === 'duplicate' && e.renumbered) bed.renumbered++;
      else if (e.kind === 'rejected') {
        bed.rejected++;
        bed.lastRejection = e.reason;
      } else if (e.kind === 'withheld') bed.withheld = e.withheld.reason;
    }
  }

  /** Heart rate of a bed, bpm (undefined before its first RR interval). */
  heartRate(bedId: string): number | undefined {
    const rr = this.beds.get(bedId)?.recentRr ?? [];
    return rr.length === 0 ? undefined : (60 * rr.length) / rr.reduce((a, b) => a + b, 0);
  }

  /** One line per bed, sorted by bed id (one saying so before any bed has been heard from). */
  lines(): string[] {
    if (this.beds.size === 0) return ['  no bed heard from yet'];
    return [...this.beds.keys()].sort().map((bedId) => {
      const bed = this.beds.get(bedId)!;
      const rate = this.heartRate(bedId);
      const hr = rate === undefined ? '  -' : String(Math.round(rate)).padStart(3);
      const classes = Object.entries(bed.counts)
        .map(([c, n]) => `${c} ${n}`)
        .join(', ');
      const alarms = [...bed.active.values()].join('; ') || 'no active alarm';
      // not a fault of the signal: what an operator must fix at the producer
      const renumbered =
        bed.renumbered === 0
          ? ''
          : `  ${bed.renumbered} frames dropped: numbered below the bed's stream (its producer started its numbering over)`;
      const rejected = bed.rejected === 0 ? '' : `  ${bed.rejected} frames set aside (latest: ${bed.lastRejection})`;
      const withheld = bed.withheld === '' ? '' : `  (${bed.withheld})`;
      bed.withheld = '';
      return `  ${bedId.padEnd(10)} HR ${hr}  beats ${String(bed.beats).padStart(6)} (${classes})  ${alarms}${withheld}${renumbered}${rejected}`;
    });
  }

  private bed(bedId: string): BedState {
    let bed = this.beds.get(bedId);
    if (bed === undefined) {
      bed = {
        beats: 0,
        counts: {},
        recentRr: [],
        active: new Map(),
        renumbered: 0,
        rejected: 0,
        lastRejection: '',
        withheld: '',
      };
      this.beds.set(bedId, bed);
    }
    return bed;
  }
}
