import { aamiClass, type AamiClass } from '../stream/contracts/aami.js';
import type { AlarmType } from '../stream/contracts/alarms.js';
import { DISPLAY_HZ, type AlarmSummary, type BeatView, type BedState } from '../stream/contracts/display.js';
import type { SampleFrame } from '../stream/contracts/frame.js';
import type { AlertMessage, BeatMessage, ReferenceMessage } from '../stream/contracts/messages.js';
import { monitoringLeadOf } from '../stream/contracts/signals.js';
import { BedDisplay, MISSING, type DisplayChunk } from './display.js';

/** A bed whose last frame is older than this (gateway wall clock) is not drawn as live. */
export const STALE_MS = 5000;
/** Beats the heart rate averages, as the terminal summary and bedside monitors do. */
const HR_BEATS = 8;
/** Beats kept per bed: the bed view's 10 minutes at up to 200 bpm. */
const KEPT_BEATS = 2000;
/** A reference annotation within this of a beat is its reference (EC57's window). */
const MATCH_S = 0.15;
/** Frames over which a bed's speed (signal time per wall time) is measured. */
const SPEED_FRAMES = 16;

/** Rhythm alarms, most serious first: the one active names the bed's rhythm. */
const RHYTHMS: readonly [AlarmType, string][] = [
  ['ventricular-fibrillation', 'VF / flutter'],
  ['asystole', 'asystole'],
  ['ventricular-tachycardia', 'VT'],
  ['extreme-tachycardia', 'extreme tachycardia'],
  ['extreme-bradycardia', 'extreme bradycardia'],
  ['irregular-rhythm', 'irregular (AF-like)'],
  ['bigeminy', 'bigeminy'],
  ['trigeminy', 'trigeminy'],
];

interface Bed {
  display: BedDisplay;
  source: string;
  beats: BeatView[];
  lastDataMs: number;
  /** Recent frames' [signal time s, wall ms]: the speed. */
  pace: [number, number][];
  /** Reference annotations of a replay: [source sample, class], in order. */
  reference: [number, AamiClass | 'other'][];
  sampleRate: number;
}

/**
 * What the central station knows of the ward: per bed its display signal, recent beats, active
 * alarms and state. Fed by the gateway's Kafka readers; read by its clients. No sockets here.
 */
export class WardView {
  private readonly beds = new Map<string, Bed>();
  /** Each bed's active alarms, by id: also of a bed whose signal this gateway has not seen yet. */
  private readonly active = new Map<string, Map<string, AlarmSummary>>();

  constructor(private readonly now: () => number = Date.now) {}

  bedIds(): string[] {
    return [...this.beds.keys()].sort();
  }

  has(bedId: string): boolean {
    return this.beds.has(bedId);
  }

  /** A frame of a bed (already checked usable by the caller). */
  onFrame(frame: SampleFrame): void {
    let bed = this.beds.get(frame.bedId);
    if (bed === undefined || !bed.display.fits(frame)) {
      // a new bed, or one whose signal changed (another device): its display starts again
      bed = {
        display: new BedDisplay(frame),
        source: frame.source,
        beats: bed?.beats ?? [],
        lastDataMs: 0,
        pace: [],
        reference: bed?.reference ?? [],
        sampleRate: frame.sampleRate,
      };
      this.beds.set(frame.bedId, bed);
    }
    bed.display.push(frame);
    bed.source = frame.source;
    bed.lastDataMs = this.now();
    bed.pace.push([frame.firstSample / frame.sampleRate, frame.producedAtMs]);
    if (bed.pace.length > SPEED_FRAMES) bed.pace.shift();
  }

  /** A published beat, as the station shows it (undefined for a bed whose signal it has not seen). */
  onBeat(beat: BeatMessage): BeatView | undefined {
    const bed = this.beds.get(beat.bedId);
    if (bed === undefined) return undefined;
    const reference = this.referenceOf(bed, beat.rPeakSample);
    const view: BeatView = {
      bedId: beat.bedId,
      rPeakSample: beat.rPeakSample,
      displaySample: bed.display.displayIndexOf(beat.rPeakSample),
      timeS: beat.timeS,
      rrS: beat.rrS,
      label: beat.label,
      probabilities: beat.probabilities,
      reason: beat.decision.reason,
      votedV: beat.decision.votedV,
      quality: beat.quality,
      ...(reference === undefined ? {} : { reference }),
    };
    bed.beats.push(view);
    if (bed.beats.length > KEPT_BEATS) bed.beats.splice(0, bed.beats.length - KEPT_BEATS);
    return view;
  }

  /** An alert's latest state: the bed's active alarms follow it. */
  onAlert(alert: AlertMessage): void {
    const active = this.active.get(alert.bedId) ?? new Map<string, AlarmSummary>();
    this.active.set(alert.bedId, active);
    if (alert.state === 'active')
      active.set(alert.id, {
        id: alert.id,
        type: alert.type,
        priority: alert.priority,
        acknowledged: alert.acknowledged,
        onsetS: alert.onsetS,
        ...(alert.detail === undefined ? {} : { detail: alert.detail }),
      });
    else active.delete(alert.id);
  }

  /** A reference annotation of a replay (beats only are kept). */
  onReference(ref: ReferenceMessage): void {
    const bed = this.beds.get(ref.bedId);
    const cls = aamiClass(ref.symbol);
    if (bed === undefined || ref.symbol === '+' || ref.symbol.length === 0) return;
    const entry: [number, AamiClass | 'other'] = [ref.sample, cls ?? 'other'];
    const list = bed.reference;
    if (list.length === 0 || list.at(-1)![0] < ref.sample) list.push(entry);
    else {
      const at = list.findIndex(([s]) => s >= ref.sample);
      if (list[at]?.[0] !== ref.sample) list.splice(at, 0, entry);
    }
  }

  /** The display chunks of every bed with new samples since the last call (one per 250 ms tick). */
  takeChunks(): DisplayChunk[] {
    const out: DisplayChunk[] = [];
    for (const bed of this.beds.values()) {
      const chunk = bed.display.take();
      if (chunk !== undefined) out.push(chunk);
    }
    return out;
  }

  /** A bed's last `seconds` of display signal (a snapshot's waveform). */
  recent(bedId: string, seconds: number): Omit<DisplayChunk, 'seq'> | undefined {
    const bed = this.beds.get(bedId);
    if (bed === undefined) return undefined;
    const end = bed.display.end;
    return bed.display.range(end - seconds * DISPLAY_HZ, end);
  }

  /** A bed's kept beats from display index `from` on. */
  beats(bedId: string, from = 0): BeatView[] {
    return (this.beds.get(bedId)?.beats ?? []).filter((b) => b.displaySample >= from);
  }

  state(bedId: string): BedState | undefined {
    const bed = this.beds.get(bedId);
    if (bed === undefined) return undefined;
    const rr = bed.beats
      .slice(-HR_BEATS)
      .map((b) => b.rrS)
      .filter((r): r is number => r !== null && r > 0);
    const last = bed.beats.at(-1);
    const active = [...(this.active.get(bedId)?.values() ?? [])];
    const rhythm =
      RHYTHMS.find(([type]) => active.some((a) => a.type === type))?.[1] ?? (last === undefined ? '—' : 'regular');
    const [first, latest] = [bed.pace[0], bed.pace.at(-1)];
    const speed =
      first === undefined || latest === undefined || latest[1] <= first[1]
        ? null
        : Number(((latest[0] - first[0]) / ((latest[1] - first[1]) / 1000)).toFixed(2));
    return {
      bedId,
      source: bed.source,
      leads: bed.display.leads,
      hr: rr.length === 0 ? null : Math.round((60 * rr.length) / rr.reduce((a, b) => a + b, 0)),
      rhythm,
      lastBeat: last?.label ?? null,
      quality: last?.quality ?? null,
      activeAlarms: active,
      lastDataMs: bed.lastDataMs,
      stale: this.now() - bed.lastDataMs > STALE_MS,
      speed,
    };
  }

  /**
   * The patient's normal beat: the sample-wise median of the last 8 N beats' windows of the
   * monitoring lead, `length` samples with the R peak at `rIndex`, each min-max normalised as the
   * classifier's input is, so it lies beside an alarm's evidence beat.
   */
  normalTemplate(bedId: string, length: number, rIndex: number): number[] | undefined {
    const bed = this.beds.get(bedId);
    if (bed === undefined) return undefined;
    const lead = monitoringLeadOf(bed.display.leads.map((name) => ({ name, kind: 'ecg' as const })));
    const windows: number[][] = [];
    for (const beat of [...bed.beats].reverse()) {
      if (windows.length >= HR_BEATS) break;
      if (beat.label !== 'N') continue;
      const start = beat.displaySample - rIndex;
      const { samples } = bed.display.range(start, start + length);
      const n = samples.length / bed.display.leads.length;
      if (n !== length) continue;
      const values = Array.from(samples.subarray(lead * n, lead * n + n));
      if (values.includes(MISSING)) continue;
      const lo = Math.min(...values);
      const span = Math.max(...values) - lo || 1;
      windows.push(values.map((v) => (v - lo) / span));
    }
    if (windows.length === 0) return undefined;
    return Array.from({ length }, (_, k) => {
      const column = windows.map((w) => w[k]!).sort((a, b) => a - b);
      return Number(column[Math.floor(column.length / 2)]!.toFixed(4));
    });
  }

  /** A bed's reference class near a beat, where the replay sent annotations. */
  private referenceOf(bed: Bed, sample: number): AamiClass | 'other' | undefined {
    const list = bed.reference;
    if (list.length === 0) return undefined;
    let lo = 0;
    let hi = list.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (list[mid]![0] < sample) lo = mid + 1;
      else hi = mid;
    }
    const window = MATCH_S * bed.sampleRate;
    const near = [list[lo - 1], list[lo]].filter((e) => e !== undefined && Math.abs(e[0] - sample) <= window);
    near.sort((a, b) => Math.abs(a![0] - sample) - Math.abs(b![0] - sample));
    return near[0]?.[1];
  }
}
