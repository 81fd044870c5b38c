import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { WebSocketServer } from 'ws';
import type { AckKeyRing } from '../stream/contracts/ackSignature.js';
import { DISPLAY_HZ, type BeatView, type KafkaState } from '../stream/contracts/display.js';
import { ackCodec } from '../stream/contracts/messages.js';
import { TOPICS } from '../stream/contracts/topics.js';
import type { KafkaConnection } from '../stream/kafka/connection.js';
import { MalformedMessages } from '../stream/kafka/malformed.js';
import type { KafkaProducer } from '../stream/kafka/client.js';
import { frameProblem } from '../stream/contracts/frame.js';
import { startFeeds, type Feeds } from './feeds.js';
import { ClientHub, DEFAULT_HUB, type HubConfig } from './hub.js';
import {
  ALARM_TYPES,
  authenticate,
  bearerToken,
  HttpError,
  oneOf,
  originAllowed,
  PRIORITIES,
  RateLimit,
  readBody,
  requireRole,
  sendJson,
  serveStatic,
  upgradeToken,
  wholeNumber,
} from './http.js';
import { GatewayStore } from './store.js';
import type { UserDirectory } from './users.js';
import { WardView } from './ward.js';

export interface GatewayOptions {
  readonly connection: KafkaConnection;
  readonly users: UserDirectory;
  /** The keys acknowledgements are signed with (the workers hold them too); without, acknowledging is refused (503). */
  readonly ackKeys: AckKeyRing | undefined;
  /** SQLite file of alarm history and audit (`:memory:` for none that survives). */
  readonly dbPath: string;
  /** The built dashboard (`buildDashboard`). */
  readonly uiDir: string;
  readonly host?: string;
  readonly port?: number;
  readonly tls?: { readonly cert: Buffer; readonly key: Buffer };
  /** Browser origins besides the gateway's own that may use it. */
  readonly origins?: readonly string[];
  /** This instance's name: its consumer group is `ecg-gateway.<instance>` (default: the one its store was made with). */
  readonly instance?: string;
  readonly hub?: Partial<HubConfig>;
  /** How fast a lost cluster is noticed (clients see "Kafka unreachable" within 5 s). */
  readonly kafkaWatch?: { readonly everyMs: number; readonly lostAfterMs: number };
  readonly log?: (line: string) => void;
}

export interface RunningGateway {
  /** The address it listens on, e.g. http://127.0.0.1:8080. */
  readonly url: string;
  readonly port: number;
  readonly store: GatewayStore;
  readonly hub: ClientHub;
  close(): Promise<void>;
}

/** Acknowledgements one user may ask for per minute. */
const ACKS_PER_MINUTE = 30;
const TICK_MS = 250;
const STATE_EVERY_MS = 1000;

/**
 * The central station's server: follows the ward's topics (a consumer group of its own), keeps
 * alarm history and the audit log in SQLite, and serves the dashboard, a REST API and the
 * WebSocket fan-out. Binds 127.0.0.1 unless told otherwise; TLS when given a certificate.
 */
export async function startGateway(options: GatewayOptions): Promise<RunningGateway> {
  const log = options.log ?? ((line: string) => void process.stderr.write(`${line}\n`));
  const store = new GatewayStore(options.dbPath);
  const ward = new WardView();
  const malformed = new MalformedMessages(log);
  const started = Date.now();
  let kafka: { state: KafkaState; sinceMs: number } = { state: 'ok', sinceMs: started };
  const gatewayId = options.instance ?? store.instanceId();
  const hub = new ClientHub(
    {
      state: (bedId) => ward.state(bedId),
      recent: (bedId) => ward.recent(bedId, 10),
      bedIds: () => ward.bedIds(),
      alertsSince: (seq) => store.alertsSince(seq),
      lastSeq: () => store.lastSeq(),
      kafka: () => kafka,
    },
    gatewayId,
    { ...DEFAULT_HUB, ...options.hub },
  );
  const limits = new RateLimit(ACKS_PER_MINUTE, 60_000);
  let pendingBeats: BeatView[] = [];
  let alertsStored = 0;
  /** Producer time of each bed's latest frame: the lag health reports. */
  const produced = new Map<string, number>();

  const feeds: Feeds = await startFeeds(
    options.connection.kafka,
    `ecg-gateway.${gatewayId}`,
    {
      frame: (frame) => {
        // the pipeline sets unusable frames aside (dead letters); the station does not draw them
        if (frameProblem(frame) !== undefined) return;
        ward.onFrame(frame);
        produced.set(frame.bedId, frame.producedAtMs);
      },
      beat: (beat) => {
        const view = ward.onBeat(beat);
        if (view !== undefined) pendingBeats.push(view);
      },
      reference: (ref) => ward.onReference(ref),
      alert: (alert, source) => {
        const view = store.addAlert(alert, source, Date.now());
        if (view === undefined) return; // read again after a restart: stored already
        alertsStored++;
        ward.onAlert(alert);
        hub.alert(view);
        const state = ward.state(alert.bedId);
        if (state !== undefined) hub.states([state]);
      },
      ack: (ack, source) => {
        const verdict = options.ackKeys?.verify(ack) ?? 'no-keys';
        if (verdict === 'valid') store.setAcknowledgedBy(ack.alertId, ack.by, ack.atMs);
        store.audit(
          {
            atMs: ack.atMs,
            actor: ack.by,
            role: null,
            action: 'acknowledgement',
            alertId: ack.alertId,
            bedId: ack.bedId,
            detail: `read in ${TOPICS.acks} (${verdict === 'valid' ? `signed with ${ack.v === 2 ? ack.keyId : '?'}` : verdict})`,
          },
          source,
        );
      },
    },
    malformed,
  );

  const producer: KafkaProducer = options.connection.kafka.producer();
  await producer.connect();

  const watch = options.connection.watch(
    {
      onLost: (error) => {
        kafka = { state: 'unreachable', sinceMs: Date.now() };
        log(`gateway: ${error.message}; clients are told, and it goes on trying`);
        hub.kafka(kafka.state, kafka.sinceMs);
      },
      onBack: () => {
        kafka = { state: 'ok', sinceMs: Date.now() };
        log('gateway: kafka reachable again');
        hub.kafka(kafka.state, kafka.sinceMs);
      },
    },
    options.kafkaWatch ?? { everyMs: 1000, lostAfterMs: 3000 },
  );

  let lastStates = 0;
  const tick = setInterval(() => {
    hub.waveforms(ward.takeChunks());
    const beats = pendingBeats;
    pendingBeats = [];
    hub.beats(beats);
    const now = performance.now();
    if (now - lastStates >= STATE_EVERY_MS) {
      lastStates = now;
      hub.states(ward.bedIds().map((b) => ward.state(b)!));
    }
  }, TICK_MS);

  const acknowledge = async (user: Parameters<typeof requireRole>[0], alertId: string): Promise<unknown> => {
    const view = store.alert(alertId);
    if (view === undefined) throw new HttpError(404, `no alert ${alertId}`);
    const refuse = (status: number, why: string): never => {
      store.audit({
        atMs: Date.now(),
        actor: user.name,
        role: user.role,
        action: 'refused',
        alertId,
        bedId: view.alert.bedId,
        detail: why,
      });
      throw new HttpError(status, why);
    };
    if (user.role === 'viewer') refuse(403, `${user.name} (viewer) may not acknowledge alarms`);
    if (!limits.allow(user.name)) refuse(429, `more than ${ACKS_PER_MINUTE} acknowledgements in a minute`);
    if (options.ackKeys === undefined)
      refuse(503, 'no acknowledgement keys (ECG_ACK_KEYS): acknowledgements cannot be signed');
    if (kafka.state !== 'ok') refuse(503, 'Kafka is unreachable: the acknowledgement cannot reach the monitor');
    const ack = options.ackKeys!.sign({ bedId: view.alert.bedId, alertId, by: user.name, atMs: Date.now() });
    await producer.send({ topic: TOPICS.acks, messages: [{ key: ack.bedId, value: ackCodec.encode(ack) }] });
    store.audit({
      atMs: ack.atMs,
      actor: user.name,
      role: user.role,
      action: 'acknowledge',
      alertId,
      bedId: ack.bedId,
      detail: `published to ${TOPICS.acks}, signed with ${ack.keyId}`,
    });
    return { alertId, bedId: ack.bedId, by: user.name, atMs: ack.atMs, state: 'published' };
  };

  const api = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    const user = authenticate(options.users, bearerToken(req));
    const path = url.pathname;
    const params = url.searchParams;
    const parts = path.split('/').slice(1).map(decodeURIComponent); // ['api', ...]
    if (req.method === 'POST') {
      if (!originAllowed(req, options.origins ?? [], options.tls !== undefined))
        throw new HttpError(403, `origin ${req.headers.origin ?? ''} may not use this gateway`);
      await readBody(req);
      if (parts.length === 4 && parts[1] === 'alerts' && parts[3] === 'ack')
        return sendJson(res, 202, await acknowledge(user, parts[2]!));
      throw new HttpError(404, `no such endpoint: POST ${path}`);
    }
    if (req.method !== 'GET') throw new HttpError(405, `${req.method ?? ''} is not served here`);
    if (path === '/api/beds') return sendJson(res, 200, { beds: ward.bedIds().map((b) => ward.state(b)) });
    if (parts[1] === 'beds' && parts.length >= 3) {
      const bedId = parts[2]!;
      const state = ward.state(bedId);
      if (state === undefined) throw new HttpError(404, `no bed ${bedId}`);
      if (parts.length === 3) return sendJson(res, 200, state);
      if (parts[3] === 'history' && parts.length === 4) {
        const seconds = wholeNumber(params, 'seconds', 600, 1, 600)!;
        const wave = ward.recent(bedId, seconds)!;
        return sendJson(res, 200, {
          bedId,
          hz: DISPLAY_HZ,
          firstSample: wave.firstSample,
          leads: wave.leads,
          samples: Buffer.from(wave.samples.buffer, wave.samples.byteOffset, wave.samples.byteLength).toString(
            'base64',
          ),
          beats: ward.beats(bedId, wave.firstSample),
          alerts: store.alarms({ bedId, limit: 100 }),
        });
      }
      if (parts[3] === 'template' && parts.length === 4) {
        const length = wholeNumber(params, 'length', 187, 16, 1000)!;
        const rIndex = wholeNumber(params, 'rIndex', 93, 0, length - 1)!;
        const template = ward.normalTemplate(bedId, length, rIndex);
        if (template === undefined) throw new HttpError(404, `no normal beats of ${bedId} yet`);
        return sendJson(res, 200, { bedId, length, rIndex, template });
      }
    }
    if (path === '/api/alerts') {
      const limit = wholeNumber(params, 'limit', 100, 1, 1000)!;
      const alerts = store.alarms({
        ...(params.get('bed') ? { bedId: params.get('bed')! } : {}),
        type: oneOf(params, 'type', ALARM_TYPES),
        priority: oneOf(params, 'priority', PRIORITIES),
        state: oneOf(params, 'state', ['active', 'ended']),
        fromMs: wholeNumber(params, 'from', undefined, 0, Number.MAX_SAFE_INTEGER),
        toMs: wholeNumber(params, 'to', undefined, 0, Number.MAX_SAFE_INTEGER),
        before: wholeNumber(params, 'before', undefined, 1, Number.MAX_SAFE_INTEGER),
        limit,
      });
      return sendJson(res, 200, { alerts, ...(alerts.length === limit ? { next: alerts.at(-1)!.seq } : {}) });
    }
    if (parts[1] === 'alerts' && parts.length === 3) {
      const view = store.alert(parts[2]!);
      if (view === undefined) throw new HttpError(404, `no alert ${parts[2]}`);
      return sendJson(res, 200, view);
    }
    if (path === '/api/audit') {
      requireRole(user, 'audit', 'read the audit log');
      const limit = wholeNumber(params, 'limit', 100, 1, 1000)!;
      const before = wholeNumber(params, 'before', undefined, 1, Number.MAX_SAFE_INTEGER);
      return sendJson(res, 200, { entries: store.auditLog(limit, before), verified: store.verifyAudit() });
    }
    if (path === '/api/health') {
      const now = Date.now();
      const stats = hub.stats();
      return sendJson(res, 200, {
        gatewayId,
        kafka: { ...kafka, cluster: options.connection.description },
        uptimeS: Math.round((now - started) / 1000),
        beds: ward.bedIds().map((bedId) => ({
          bedId,
          lagMs: now - (produced.get(bedId) ?? now),
          stale: ward.state(bedId)!.stale,
        })),
        clients: stats.clients,
        waveformFrames: { sent: stats.framesSent, dropped: stats.framesDropped, perClient: stats.perClient },
        alertsStored,
        malformed: malformed.snapshot(),
      });
    }
    throw new HttpError(404, `no such endpoint: GET ${path}`);
  };

  const metrics = (): string => {
    const stats = hub.stats();
    const now = Date.now();
    const lines = [
      '# HELP ecg_gateway_kafka_up Whether the gateway reaches its Kafka cluster.',
      '# TYPE ecg_gateway_kafka_up gauge',
      `ecg_gateway_kafka_up ${kafka.state === 'ok' ? 1 : 0}`,
      '# HELP ecg_gateway_clients WebSocket clients connected.',
      '# TYPE ecg_gateway_clients gauge',
      `ecg_gateway_clients ${stats.clients}`,
      '# HELP ecg_gateway_beds Beds the gateway has seen.',
      '# TYPE ecg_gateway_beds gauge',
      `ecg_gateway_beds ${ward.bedIds().length}`,
      '# HELP ecg_gateway_waveform_frames_total Waveform frames sent to clients, and dropped for slow ones.',
      '# TYPE ecg_gateway_waveform_frames_total counter',
      `ecg_gateway_waveform_frames_total{outcome="sent"} ${stats.framesSent}`,
      `ecg_gateway_waveform_frames_total{outcome="dropped"} ${stats.framesDropped}`,
      '# HELP ecg_gateway_alerts_stored_total Alert messages stored since start.',
      '# TYPE ecg_gateway_alerts_stored_total counter',
      `ecg_gateway_alerts_stored_total ${alertsStored}`,
      "# HELP ecg_gateway_bed_lag_ms Wall-clock age of each bed's newest frame.",
      '# TYPE ecg_gateway_bed_lag_ms gauge',
      ...ward.bedIds().map((b) => `ecg_gateway_bed_lag_ms{bed=${JSON.stringify(b)}} ${now - (produced.get(b) ?? now)}`),
    ];
    return `${lines.join('\n')}\n`;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://gateway');
    try {
      if (url.pathname.startsWith('/api/')) return await api(req, res, url);
      if (url.pathname === '/metrics') {
        authenticate(options.users, bearerToken(req));
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
        return void res.end(metrics());
      }
      if (req.method !== 'GET') throw new HttpError(405, `${req.method ?? ''} is not served here`);
      await serveStatic(res, options.uiDir, url.pathname);
    } catch (error) {
      if (error instanceof HttpError) sendJson(res, error.status, { error: error.message });
      else {
        log(`gateway: ${req.method} ${url.pathname} failed: ${error instanceof Error ? error.message : String(error)}`);
        sendJson(res, 500, { error: 'the gateway failed to answer this request' });
      }
    }
  };

  const server: Server =
    options.tls === undefined
      ? createHttpServer((req, res) => void handle(req, res))
      : createHttpsServer({ cert: options.tls.cert, key: options.tls.key }, (req, res) => void handle(req, res));
  const sockets = new WebSocketServer({
    noServer: true,
    maxPayload: 16 * 1024,
    handleProtocols: (protocols) => (protocols.has('ecg.v1') ? 'ecg.v1' : false),
  });
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    const refuse = (status: number, why: string): void => {
      socket.end(`HTTP/1.1 ${status} ${why}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    if (new URL(req.url ?? '/', 'http://gateway').pathname !== '/ws') return refuse(404, 'Not Found');
    if (!originAllowed(req, options.origins ?? [], options.tls !== undefined)) return refuse(403, 'Forbidden');
    const user = options.users.authenticate(upgradeToken(req));
    if (user === undefined) return refuse(401, 'Unauthorized');
    sockets.handleUpgrade(req, socket, head, (ws) => hub.add(ws, user));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `${options.tls === undefined ? 'http' : 'https'}://${host}:${address.port}`;
  return {
    url,
    port: address.port,
    store,
    hub,
    close: async () => {
      clearInterval(tick);
      watch.stop();
      hub.close();
      sockets.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await Promise.all([feeds.stop(), producer.disconnect()]);
      store.close();
    },
  };
}
