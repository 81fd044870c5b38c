import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { GatewayMessage } from '../stream/contracts/display.js';
import { decodeDisplayFrame } from './displayFrame.js';
import type { WardStore } from './store.js';

/** Reconnection delays, s: quick at first, then every 5 s. */
const RETRY_S = [1, 2, 3, 5];

/**
 * The WebSocket to the gateway, as a Lit ReactiveController: opened when the host connects,
 * closed when it disconnects. On every (re)connection it subscribes to the ward with the last
 * alert seq it has, so the gateway sends every alert missed while it was away. The token goes as
 * a subprotocol (`bearer.<token>`): a browser cannot set the Authorization header on a socket.
 */
export class GatewayConnection implements ReactiveController {
  private socket: WebSocket | undefined;
  private retries = 0;
  private retryTimer: number | undefined;
  private stopped = false;

  constructor(
    private readonly host: ReactiveControllerHost,
    private readonly store: WardStore,
    private readonly token: string,
  ) {
    host.addController(this);
  }

  hostConnected(): void {
    this.stopped = false;
    this.open();
  }

  hostDisconnected(): void {
    this.stopped = true;
    window.clearTimeout(this.retryTimer);
    this.socket?.close(1000, 'page closed');
  }

  private open(): void {
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
    const socket = new WebSocket(url, ['ecg.v1', `bearer.${this.token}`]);
    socket.binaryType = 'arraybuffer';
    this.socket = socket;
    this.store.setConnection({ kind: 'connecting' });
    socket.onopen = () => {
      this.retries = 0;
      this.store.setConnection({ kind: 'open' });
      socket.send(JSON.stringify({ type: 'subscribe', beds: 'ward', resume: this.store.resume }));
      this.host.requestUpdate();
    };
    socket.onmessage = (event: MessageEvent<ArrayBuffer | string>) => {
      if (typeof event.data === 'string') this.store.onMessage(JSON.parse(event.data) as GatewayMessage);
      else this.store.onChunks(decodeDisplayFrame(event.data).chunks, performance.now());
    };
    socket.onclose = (event) => {
      if (this.stopped) return;
      // a refused upgrade closes with 1006 before opening: the token may be wrong, but retry anyway
      const inS = RETRY_S[Math.min(this.retries++, RETRY_S.length - 1)]!;
      const reason = event.reason || (event.code === 1006 ? 'the gateway cannot be reached' : `closed (${event.code})`);
      this.store.setConnection({ kind: 'retrying', inS, reason });
      this.retryTimer = window.setTimeout(() => this.open(), inS * 1000);
      this.host.requestUpdate();
    };
  }
}

/** The gateway's REST API with this screen's token. */
export class GatewayApi {
  constructor(private readonly token: string) {}

  async get<T>(path: string): Promise<T> {
    const res = await fetch(path, { headers: { authorization: `Bearer ${this.token}` } });
    const body = (await res.json()) as T & { error?: string };
    if (!res.ok) throw new Error(body.error ?? `${res.status}`);
    return body;
  }

  async post<T>(path: string): Promise<T> {
    const res = await fetch(path, { method: 'POST', headers: { authorization: `Bearer ${this.token}` } });
    const body = (await res.json()) as T & { error?: string };
    if (!res.ok) throw new Error(body.error ?? `${res.status}`);
    return body;
  }
}
