import type { AlertView, BeatView, BedState, GatewayMessage, KafkaState, Role } from '../stream/contracts/display.js';
import { MISSING, type DisplayChunk } from './displayFrame.js';

/** Display samples kept per lead in the browser: 12 s at 125 Hz (the strip shows 6 s). */
export const KEPT_SAMPLES = 12 * 125;

/** One bed's waveform on this screen: a ring of the last samples per lead, and where the data has got to. */
export class BedWave {
  readonly leads: string[];
  readonly rings: Int16Array[];
  /** Display index of the newest sample held + 1 (0 before any). */
  end = 0;
  /** performance.now() when the newest samples arrived: the playhead runs behind it. */
  receivedAt = 0;

  constructor(leads: readonly string[]) {
    this.leads = [...leads];
    this.rings = leads.map(() => new Int16Array(KEPT_SAMPLES).fill(MISSING));
  }

  /** Adds a chunk; samples skipped since the last one (dropped frames, a gap) are held as missing. */
  add(chunk: DisplayChunk, now: number): void {
    const first = chunk.firstSample;
    const n = chunk.samples[0]?.length ?? 0;
    if (first + n <= this.end) return; // already held
    for (let k = Math.max(this.end, first - KEPT_SAMPLES); k < first; k++)
      for (const ring of this.rings) ring[k % KEPT_SAMPLES] = MISSING;
    chunk.samples.forEach((samples, l) => {
      const ring = this.rings[l];
      if (ring === undefined) return;
      for (let k = 0; k < n; k++) ring[(first + k) % KEPT_SAMPLES] = samples[k]!;
    });
    this.end = Math.max(this.end, first + n);
    this.receivedAt = now;
  }

  /** The sample of lead `l` at display index `k` (MISSING if not held). */
  at(l: number, k: number): number {
    if (k < this.end - KEPT_SAMPLES || k >= this.end || k < 0) return MISSING;
    return this.rings[l]![k % KEPT_SAMPLES]!;
  }
}

export type ConnectionState =
  | { readonly kind: 'connecting' }
  | { readonly kind: 'open' }
  | { readonly kind: 'retrying'; readonly inS: number; readonly reason: string }
  | { readonly kind: 'refused'; readonly reason: string };

/**
 * What this screen knows of the ward, fed by the gateway connection. Components listen to its
 * events: `beds`, `alerts`, `beats`, `connection`. Waveforms are read by the sweep renderer
 * directly, every animation frame, without events.
 */
export class WardStore extends EventTarget {
  user: { name: string; role: Role } | undefined;
  gatewayId = '';
  kafka: { state: KafkaState; sinceMs: number } = { state: 'ok', sinceMs: 0 };
  connection: ConnectionState = { kind: 'connecting' };
  readonly beds = new Map<string, BedState>();
  readonly waves = new Map<string, BedWave>();
  /** Each alarm's latest message, by id. */
  readonly alerts = new Map<string, AlertView>();
  readonly beats = new Map<string, BeatView[]>();
  /** The last alert seq seen: the resume token of the next (re)connection. */
  resume = 0;
  /** Waveform frames the gateway dropped for this screen, and when it last said so. */
  dropped = { frames: 0, atMs: 0 };

  /** `detail`: the one bed a `beds` event is about (none: every bed may have changed). */
  private emit(type: 'beds' | 'alerts' | 'beats' | 'connection', detail?: string): void {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  setConnection(state: ConnectionState): void {
    this.connection = state;
    this.emit('connection');
  }

  onChunks(chunks: readonly DisplayChunk[], now: number): void {
    for (const chunk of chunks) {
      let wave = this.waves.get(chunk.bedId);
      if (wave === undefined || wave.leads.join() !== chunk.leads.join()) {
        wave = new BedWave(chunk.leads);
        this.waves.set(chunk.bedId, wave);
      }
      wave.add(chunk, now);
    }
  }

  onMessage(message: GatewayMessage): void {
    switch (message.type) {
      case 'hello':
        this.user = message.user;
        this.gatewayId = message.gatewayId;
        this.kafka = { state: message.kafka, sinceMs: message.serverMs };
        this.emit('connection');
        return;
      case 'snapshot':
        for (const state of message.beds) this.beds.set(state.bedId, state);
        for (const view of message.alerts) this.addAlert(view);
        this.resume = Math.max(this.resume, message.resume);
        this.emit('beds');
        this.emit('alerts');
        return;
      case 'alert':
        this.addAlert(message.view);
        this.resume = Math.max(this.resume, message.view.seq);
        this.emit('alerts');
        return;
      case 'beats':
        for (const beat of message.beats) {
          const list = this.beats.get(beat.bedId) ?? [];
          list.push(beat);
          if (list.length > 600) list.splice(0, list.length - 600);
          this.beats.set(beat.bedId, list);
        }
        this.emit('beats');
        return;
      case 'bed': {
        const isNew = !this.beds.has(message.state.bedId);
        this.beds.set(message.state.bedId, message.state);
        this.emit('beds', isNew ? undefined : message.state.bedId);
        return;
      }
      case 'kafka':
        this.kafka = { state: message.state, sinceMs: message.sinceMs };
        this.emit('connection');
        return;
      case 'dropped':
        this.dropped = { frames: this.dropped.frames + message.frames, atMs: Date.now() };
        this.emit('connection');
        return;
      case 'error':
        console.warn(`gateway: ${message.message}`);
        return;
    }
  }

  /** An alarm's newer message replaces its older one (they come in order; a resumed one may repeat). */
  private addAlert(view: AlertView): void {
    const known = this.alerts.get(view.alert.id);
    if (known !== undefined && known.seq >= view.seq) return;
    this.alerts.set(view.alert.id, view);
  }

  /** Active alarms, and those ended in the last `recentMs`, most urgent and newest first. */
  alarmList(order: readonly string[], recentMs = 30 * 60_000): AlertView[] {
    const now = Date.now();
    return [...this.alerts.values()]
      .filter((v) => v.alert.state === 'active' || now - v.receivedMs < recentMs)
      .sort(
        (a, b) =>
          Number(b.alert.state === 'active') - Number(a.alert.state === 'active') ||
          Number(a.alert.acknowledged) - Number(b.alert.acknowledged) ||
          order.indexOf(a.alert.priority) - order.indexOf(b.alert.priority) ||
          b.seq - a.seq,
      );
  }
}
