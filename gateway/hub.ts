import type { WebSocket } from 'ws';
import type {
  AlertView,
  BeatView,
  BedState,
  ClientMessage,
  GatewayMessage,
  KafkaState,
} from '../stream/contracts/display.js';
import { encodeDisplayFrame, type DisplayChunk } from './display.js';
import type { User } from './users.js';

export interface HubConfig {
  /** Past this many bytes waiting to go to a client, its waveform frames are dropped (alerts and beats wait). */
  readonly maxBufferedBytes: number;
  /** A client past the bound this long is closed (1013): it cannot keep up even with alerts alone. */
  readonly slowCloseMs: number;
  /** Ping every this often; a client that did not answer the last ping is gone. */
  readonly heartbeatMs: number;
  /** Malformed messages a client may send before it is closed (1008). */
  readonly maxMalformed: number;
}

export const DEFAULT_HUB: HubConfig = {
  maxBufferedBytes: 1 << 20,
  slowCloseMs: 15_000,
  heartbeatMs: 10_000,
  maxMalformed: 5,
};

/** What the hub reads from the rest of the gateway. */
export interface HubSources {
  /** Each subscribed bed's state, and its last 10 s of waveform for the snapshot. */
  state(bedId: string): BedState | undefined;
  recent(bedId: string): Omit<DisplayChunk, 'seq'> | undefined;
  bedIds(): string[];
  /** The alerts after a resume token (all beds), and the newest token. */
  alertsSince(seq: number): AlertView[];
  lastSeq(): number;
  kafka(): { state: KafkaState; sinceMs: number };
}

interface Client {
  readonly ws: WebSocket;
  readonly user: User;
  /** The subscribed beds; undefined before the first subscribe, 'ward' for every bed. */
  beds: 'ward' | Set<string> | undefined;
  alive: boolean;
  malformed: number;
  /** When its buffer last went over the bound (undefined while under it). */
  slowSince: number | undefined;
  /** Waveform frames dropped since it was last told, and for which beds. */
  dropped: number;
  droppedBeds: Set<string>;
  framesSent: number;
  framesDropped: number;
}

/**
 * The central station's WebSocket clients: subscriptions, fan-out, backpressure and heartbeat.
 * Waveforms go as one binary display frame per 250 ms tick, encoded once per subscription; beats,
 * alerts and states as JSON. A slow client loses waveform frames (and is told), never an alert or
 * a beat; one that stays too slow is closed with a reason.
 */
export class ClientHub {
  private readonly clients = new Set<Client>();
  private readonly heartbeat: NodeJS.Timeout;
  private framesSent = 0;
  private framesDropped = 0;

  constructor(
    private readonly sources: HubSources,
    private readonly gatewayId: string,
    private readonly config: HubConfig = DEFAULT_HUB,
  ) {
    this.heartbeat = setInterval(() => this.ping(), config.heartbeatMs);
    this.heartbeat.unref();
  }

  /** A client that passed authentication on the upgrade. */
  add(ws: WebSocket, user: User): void {
    const client: Client = {
      ws,
      user,
      beds: undefined,
      alive: true,
      malformed: 0,
      slowSince: undefined,
      dropped: 0,
      droppedBeds: new Set(),
      framesSent: 0,
      framesDropped: 0,
    };
    this.clients.add(client);
    ws.on('pong', () => (client.alive = true));
    ws.on('close', () => this.clients.delete(client));
    ws.on('error', () => ws.terminate());
    ws.on('message', (data, isBinary) => this.onMessage(client, data, isBinary));
    const { state } = this.sources.kafka();
    this.send(client, { type: 'hello', v: 1, gatewayId: this.gatewayId, user, kafka: state, serverMs: Date.now() });
  }

  get size(): number {
    return this.clients.size;
  }

  /** Counts for health and metrics, in all and per client. */
  stats(): {
    clients: number;
    framesSent: number;
    framesDropped: number;
    perClient: { user: string; sent: number; dropped: number }[];
  } {
    return {
      clients: this.clients.size,
      framesSent: this.framesSent,
      framesDropped: this.framesDropped,
      perClient: [...this.clients].map((c) => ({ user: c.user.name, sent: c.framesSent, dropped: c.framesDropped })),
    };
  }

  /** A 250 ms tick's waveform: each client gets its beds' chunks in one binary message. */
  waveforms(chunks: readonly DisplayChunk[]): void {
    if (chunks.length === 0) return;
    let ward: Uint8Array | undefined;
    const now = Date.now();
    for (const client of this.clients) {
      if (client.beds === undefined) continue;
      const mine = client.beds === 'ward' ? chunks : chunks.filter((c) => (client.beds as Set<string>).has(c.bedId));
      if (mine.length === 0) continue;
      if (client.ws.bufferedAmount > this.config.maxBufferedBytes) {
        client.slowSince ??= now;
        client.dropped++;
        client.framesDropped++;
        this.framesDropped++;
        for (const c of mine) client.droppedBeds.add(c.bedId);
        if (now - client.slowSince > this.config.slowCloseMs)
          client.ws.close(1013, 'too slow: the client fell behind for too long');
        continue;
      }
      client.slowSince = undefined;
      if (client.dropped > 0) {
        this.send(client, { type: 'dropped', frames: client.dropped, beds: [...client.droppedBeds] });
        client.dropped = 0;
        client.droppedBeds.clear();
      }
      const bytes = client.beds === 'ward' ? (ward ??= encodeDisplayFrame(chunks)) : encodeDisplayFrame(mine);
      client.ws.send(bytes);
      client.framesSent++;
      this.framesSent++;
    }
  }

  /** An alert stored by the gateway: to every client that follows its bed (never dropped). */
  alert(view: AlertView): void {
    this.toFollowers(view.alert.bedId, { type: 'alert', view });
  }

  /** A tick's beats, to each client its beds'. */
  beats(beats: readonly BeatView[]): void {
    if (beats.length === 0) return;
    for (const client of this.clients) {
      const mine = beats.filter((b) => this.follows(client, b.bedId));
      if (mine.length > 0) this.send(client, { type: 'beats', beats: mine });
    }
  }

  /** Bed states (every second, and on alarm changes). */
  states(states: readonly BedState[]): void {
    for (const state of states) this.toFollowers(state.bedId, { type: 'bed', state });
  }

  kafka(state: KafkaState, sinceMs: number): void {
    for (const client of this.clients) this.send(client, { type: 'kafka', state, sinceMs });
  }

  close(): void {
    clearInterval(this.heartbeat);
    for (const client of this.clients) client.ws.close(1001, 'the gateway is shutting down');
  }

  private follows(client: Client, bedId: string): boolean {
    return client.beds === 'ward' || (client.beds !== undefined && client.beds.has(bedId));
  }

  private toFollowers(bedId: string, message: GatewayMessage): void {
    let text: string | undefined;
    for (const client of this.clients) {
      if (!this.follows(client, bedId)) continue;
      text ??= JSON.stringify(message);
      client.ws.send(text);
    }
  }

  private send(client: Client, message: GatewayMessage): void {
    client.ws.send(JSON.stringify(message));
  }

  private onMessage(client: Client, data: unknown, isBinary: boolean): void {
    let message: ClientMessage | undefined;
    if (!isBinary) {
      try {
        message = parseClientMessage(JSON.parse(String(data)));
      } catch {
        message = undefined;
      }
    }
    if (message === undefined) {
      client.malformed++;
      this.send(client, {
        type: 'error',
        message: 'malformed message: send {"type":"subscribe","beds":"ward"|[ids],"resume":N} or {"type":"ping"}',
      });
      if (client.malformed >= this.config.maxMalformed) client.ws.close(1008, 'too many malformed messages');
      return;
    }
    if (message.type === 'ping') return;
    this.subscribe(client, message);
  }

  /** A (re)subscription: the snapshot of the beds, the alerts missed since `resume`, then live. */
  private subscribe(client: Client, message: Extract<ClientMessage, { type: 'subscribe' }>): void {
    client.beds = message.beds === 'ward' ? 'ward' : new Set(message.beds);
    const beds =
      message.beds === 'ward' ? this.sources.bedIds() : message.beds.filter((b) => this.sources.state(b) !== undefined);
    const resume = this.sources.lastSeq();
    const missed = this.sources.alertsSince(message.resume).filter((v) => this.follows(client, v.alert.bedId));
    this.send(client, {
      type: 'snapshot',
      beds: beds.map((b) => this.sources.state(b)!),
      alerts: missed,
      resume,
    });
    const waves = beds.flatMap((b) => {
      const recent = this.sources.recent(b);
      return recent === undefined ? [] : [{ ...recent, seq: 0 }];
    });
    if (waves.length > 0) client.ws.send(encodeDisplayFrame(waves, true));
  }

  private ping(): void {
    for (const client of this.clients) {
      if (!client.alive) {
        client.ws.terminate();
        this.clients.delete(client);
        continue;
      }
      client.alive = false;
      client.ws.ping();
    }
  }
}

/** A client message, checked field by field (undefined for anything else). */
function parseClientMessage(value: unknown): ClientMessage | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const m = value as Record<string, unknown>;
  if (m.type === 'ping') return { type: 'ping' };
  if (m.type !== 'subscribe') return undefined;
  const resume = m.resume ?? 0;
  if (typeof resume !== 'number' || !Number.isSafeInteger(resume) || resume < 0) return undefined;
  if (m.beds === 'ward') return { type: 'subscribe', beds: 'ward', resume };
  if (!Array.isArray(m.beds) || m.beds.length > 256 || !m.beds.every((b) => typeof b === 'string' && b.length <= 64))
    return undefined;
  return { type: 'subscribe', beds: m.beds as string[], resume };
}
