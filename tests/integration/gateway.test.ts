import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { buildDashboard } from '../../gateway/bundle.js';
import { startGateway, type RunningGateway } from '../../gateway/gateway.js';
import { UserDirectory } from '../../gateway/users.js';
import { publishReplay } from '../../simulators/publish.js';
import { loadBed } from '../../simulators/replay.js';
import { AckKeyRing } from '../../stream/contracts/ackSignature.js';
import type { AlertView, GatewayMessage } from '../../stream/contracts/display.js';
import { ackCodec, alertCodec, type AckMessage, type AlertMessage } from '../../stream/contracts/messages.js';
import { TOPICS } from '../../stream/contracts/topics.js';
import { connectKafka, type KafkaConnection } from '../../stream/kafka/connection.js';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../stream/kafka/embedded.js';
import { runPipelineWorker } from '../../stream/pipeline/worker.js';
import { mitdbDir } from '../../stream/wfdb/index.js';
import { referenceClassifier } from '../helpers/referenceClassifier.js';
import { followTopic, waitFor } from '../helpers/kafkaTopics.js';

let dir: string;
let broker: EmbeddedBroker;
let connection: KafkaConnection;
let gateway: RunningGateway;
let uiDir: string;
const tokens: Record<'nurse' | 'viewer', string> = { nurse: '', viewer: '' };
let users: UserDirectory;
const keys = AckKeyRing.generated('station');
let alertNo = 0;
const stopWorker = new AbortController();
let worker: Promise<void>;

/** An alert of the test's own for a bed, as a worker publishes alerts (the worker beside raises others). */
function alert(bedId: string, state: 'active' | 'ended' = 'active'): AlertMessage {
  alertNo++;
  return {
    v: 1,
    id: `${bedId}/signal-gap/${900_000 + alertNo}`,
    bedId,
    type: 'signal-gap',
    priority: 'technical',
    state,
    acknowledged: false,
    onsetS: alertNo,
    raisedS: alertNo,
    endS: null,
    evidence: [],
    explanation: [],
    raisedAtMs: Date.now(),
    publishedMs: Date.now(),
  };
}

async function publish(alerts: AlertMessage[]): Promise<void> {
  const producer = connection.kafka.producer();
  await producer.connect();
  await producer.send({
    topic: TOPICS.alerts,
    messages: alerts.map((a) => ({ key: a.bedId, value: alertCodec.encode(a) })),
  });
  await producer.disconnect();
}

const start = (db = join(dir, 'gateway.db')) =>
  startGateway({
    connection,
    users,
    ackKeys: keys,
    dbPath: db,
    uiDir,
    hub: { maxBufferedBytes: 16 * 1024, slowCloseMs: 60_000, heartbeatMs: 1000 },
    kafkaWatch: { everyMs: 500, lostAfterMs: 1500 },
    log: () => undefined,
  });

/** A WebSocket client of the gateway that keeps every message it gets. */
class Client {
  readonly ws: WebSocket;
  readonly messages: GatewayMessage[] = [];
  binary = 0;
  closed: { code: number; reason: string } | undefined;
  readonly opened: Promise<void>;

  constructor(token: string | undefined, options: { origin?: string } = {}) {
    const protocols = token === undefined ? ['ecg.v1'] : ['ecg.v1', `bearer.${token}`];
    this.ws = new WebSocket(`${gateway.url.replace('http', 'ws')}/ws`, protocols, options);
    this.ws.on('message', (data, isBinary) => {
      if (isBinary) this.binary++;
      else this.messages.push(JSON.parse(String(data)) as GatewayMessage);
    });
    this.ws.on('close', (code, reason) => (this.closed = { code, reason: String(reason) }));
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
      this.ws.once('error', reject);
    });
  }

  subscribe(beds: 'ward' | string[], resume = 0): void {
    this.ws.send(JSON.stringify({ type: 'subscribe', beds, resume }));
  }

  alerts(): AlertView[] {
    return this.messages.flatMap((m) => (m.type === 'alert' ? [m.view] : m.type === 'snapshot' ? [...m.alerts] : []));
  }

  of<T extends GatewayMessage['type']>(type: T): Extract<GatewayMessage, { type: T }>[] {
    return this.messages.filter((m): m is Extract<GatewayMessage, { type: T }> => m.type === type);
  }
}

const api = (path: string, init: RequestInit & { token?: string } = {}) =>
  fetch(`${gateway.url}${path}`, {
    ...init,
    headers: {
      ...(init.token === undefined ? {} : { authorization: `Bearer ${init.token}` }),
      ...(init.headers ?? {}),
    },
  });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gateway-'));
  const usersFile = join(dir, 'users.json');
  tokens.nurse = UserDirectory.addUser(usersFile, { name: 'nurse.jones', role: 'nurse' });
  tokens.viewer = UserDirectory.addUser(usersFile, { name: 'desk', role: 'viewer' });
  users = UserDirectory.fromFile(usersFile);
  uiDir = await buildDashboard(join(dir, 'ui'));
  broker = startEmbeddedBroker();
  // as KAFKA_BROKERS names a cluster: watched, so that its loss shows
  const saved = process.env.KAFKA_BROKERS;
  process.env.KAFKA_BROKERS = broker.bootstrap;
  connection = connectKafka('gateway-test', () => undefined);
  process.env.KAFKA_BROKERS = saved;
  gateway = await start();
  // two beds streaming at twice real time through the test
  const beds = await Promise.all(
    [
      { bedId: 'bed-a', record: '208' },
      { bedId: 'bed-b', record: '119' },
    ].map((b) => loadBed(mitdbDir(), b)),
  );
  // and a pipeline worker publishing their beats and alarms
  const classify = await referenceClassifier((bedId) => (bedId === 'bed-a' ? '208' : '119'));
  worker = runPipelineWorker({
    kafka: connection.kafka,
    classify,
    modelId: 'reference-labels',
    stop: stopWorker.signal,
    ackKeys: keys,
  });
  const producer = connection.kafka.producer();
  await producer.connect();
  void publishReplay(producer, beds, { frameMs: 250, loop: false, speed: 2, maxFrames: 4 * 600 }).finally(() =>
    producer.disconnect(),
  );
}, 60_000);

afterAll(async () => {
  stopWorker.abort();
  await worker;
  await gateway.close();
  broker.close();
  await rm(dir, { recursive: true, force: true });
});

describe('the gateway refuses', () => {
  it('a missing or wrong token with 401 and nothing else; a viewer acknowledging with 403; unknown ids with 404 naming them', async () => {
    for (const token of [undefined, 'not-a-token']) {
      const res = await api('/api/beds', { ...(token === undefined ? {} : { token }) });
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual({ error: 'a valid token is required' });
    }
    expect((await api('/metrics')).status).toBe(401);
    await publish([alert('bed-a')]);
    const known = await waitForAlert(`bed-a/signal-gap/${900_000 + alertNo}`);
    const viewer = await api(`/api/alerts/${encodeURIComponent(known)}/ack`, { method: 'POST', token: tokens.viewer });
    expect(viewer.status).toBe(403);
    expect(await viewer.json()).toEqual({ error: 'desk (viewer) may not acknowledge alarms' });
    const unknownAlert = await api('/api/alerts/bed-a%2Fcouplet%2F7/ack', { method: 'POST', token: tokens.nurse });
    expect(unknownAlert.status).toBe(404);
    expect(await unknownAlert.json()).toEqual({ error: 'no alert bed-a/couplet/7' });
    const unknownBed = await api('/api/beds/bed-zz', { token: tokens.nurse });
    expect(await unknownBed.json()).toEqual({ error: 'no bed bed-zz' });
    expect((await api('/api/alerts?priority=urgent', { token: tokens.nurse })).status).toBe(400);
    const foreign = await api(`/api/alerts/${encodeURIComponent(known)}/ack`, {
      method: 'POST',
      token: tokens.nurse,
      headers: { origin: 'https://evil.example' },
    });
    expect(foreign.status).toBe(403);
  });

  it('an upgrade without a valid token or from a foreign origin; an oversized or malformed message closes the socket', async () => {
    await expect(new Client(undefined).opened).rejects.toThrow('HTTP 401');
    await expect(new Client('nope').opened).rejects.toThrow('HTTP 401');
    await expect(new Client(tokens.viewer, { origin: 'https://evil.example' }).opened).rejects.toThrow('HTTP 403');
    const big = new Client(tokens.viewer);
    await big.opened;
    big.ws.send('x'.repeat(64 * 1024));
    await waitFor(
      () => big.closed !== undefined,
      5000,
      () => 'not closed',
    );
    expect(big.closed!.code).toBe(1009);
    const chatty = new Client(tokens.viewer);
    await chatty.opened;
    for (let k = 0; k < 5; k++) chatty.ws.send('{not json');
    await waitFor(
      () => chatty.closed !== undefined,
      5000,
      () => 'not closed',
    );
    expect(chatty.of('error')).toHaveLength(5);
    expect(chatty.closed).toEqual({ code: 1008, reason: 'too many malformed messages' });
  });
});

/** Resolves once `done()` resolves true, polling; rejects with `what` after `timeoutMs`. */
async function eventually(done: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Waits until the gateway has stored an alert, and returns its id. */
async function waitForAlert(id: string): Promise<string> {
  await waitFor(
    () => gateway.store.alert(id) !== undefined,
    15_000,
    () => `alert ${id} not stored`,
  );
  return id;
}

describe('subscriptions', () => {
  it('give each client a snapshot of its beds, then their waveforms, beats and alerts, and only theirs', async () => {
    const ward = new Client(tokens.viewer);
    const one = new Client(tokens.viewer);
    await Promise.all([ward.opened, one.opened]);
    await waitFor(
      () => ward.of('hello').length === 1,
      5000,
      () => 'no hello',
    );
    expect(ward.of('hello')[0]).toMatchObject({ user: { name: 'desk', role: 'viewer' }, kafka: 'ok' });
    await eventually(
      async () =>
        ((await (await api('/api/beds', { token: tokens.viewer })).json()) as { beds: unknown[] }).beds.length === 2,
      20_000,
      'beds not seen',
    );
    ward.subscribe('ward');
    one.subscribe(['bed-b']);
    await waitFor(
      () => ward.of('snapshot').length === 1 && one.of('snapshot').length === 1,
      5000,
      () => 'no snapshot',
    );
    expect(ward.of('snapshot')[0]!.beds.map((b) => b.bedId)).toEqual(['bed-a', 'bed-b']);
    expect(one.of('snapshot')[0]!.beds.map((b) => b.bedId)).toEqual(['bed-b']);
    await waitFor(
      () => ward.binary > 4 && one.binary > 4,
      10_000,
      () => `binary ${ward.binary}/${one.binary}`,
    );
    await waitFor(
      () => ward.of('beats').length > 0,
      20_000,
      () => 'no beats',
    );
    await publish([alert('bed-a'), alert('bed-b')]);
    await waitFor(
      () => one.of('alert').length === 1 && ward.of('alert').length >= 2,
      10_000,
      () => 'alerts',
    );
    expect(one.of('alert').map((m) => m.view.alert.bedId)).toEqual(['bed-b']);
    ward.ws.close();
    one.ws.close();
  });
});

describe('no alert is missed', () => {
  const mine = (c: Client) => c.alerts().filter((v) => v.alert.type === 'signal-gap');

  it('across a reconnection: the resume token brings every alert published while away, and only those', async () => {
    const first = new Client(tokens.viewer);
    await first.opened;
    first.subscribe('ward');
    await waitFor(
      () => first.of('snapshot').length === 1,
      5000,
      () => 'no snapshot',
    );
    const batch = [alert('bed-a'), alert('bed-b')];
    await publish(batch);
    await waitFor(
      () => batch.every((a) => mine(first).some((v) => v.alert.id === a.id)),
      10_000,
      () => 'first batch',
    );
    const resume = Math.max(first.of('snapshot')[0]!.resume, ...first.of('alert').map((m) => m.view.seq));
    first.ws.terminate();
    const missed = [alert('bed-a'), alert('bed-b'), alert('bed-a')];
    await publish(missed);
    await Promise.all(missed.map((a) => waitForAlert(a.id)));
    const second = new Client(tokens.viewer);
    await second.opened;
    second.subscribe('ward', resume);
    await waitFor(
      () => second.of('snapshot').length === 1,
      5000,
      () => 'no snapshot',
    );
    const replayed = second.of('snapshot')[0]!.alerts;
    // in the gateway's order (partitions interleave), each once
    const ids = replayed.filter((v) => v.alert.type === 'signal-gap').map((v) => v.alert.id);
    expect(ids.sort()).toEqual(missed.map((a) => a.id).sort());
    expect(replayed.every((v) => v.seq > resume)).toBe(true);
    second.ws.close();
  });

  it('for a slow client: its waveform frames are dropped (and it is told), its alerts all arrive', async () => {
    const slow = new Client(tokens.viewer);
    await slow.opened;
    slow.subscribe('ward');
    await waitFor(
      () => slow.of('snapshot').length === 1,
      5000,
      () => 'no snapshot',
    );
    // it stops reading: what the gateway sends piles up in its buffer
    const socket = (slow.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    socket.pause();
    // alarms with their explanation (two beats, window and Grad-CAM each: about 10 kB) until its
    // buffers are full: past the gateway's bound, its waveform frames are dropped
    const beat = {
      rPeakSample: 1,
      label: 'V' as const,
      window: Array.from({ length: 187 }, (_, k) => k / 187),
      gradCam: Array.from({ length: 187 }, () => 0.123),
    };
    const during = Array.from({ length: 600 }, (_, k) => ({
      ...alert(k % 2 === 0 ? 'bed-a' : 'bed-b'),
      explanation: [beat, beat],
    }));
    for (let k = 0; k < during.length; k += 50) await publish(during.slice(k, k + 50));
    await Promise.all(during.map((a) => waitForAlert(a.id)));
    await eventually(
      async () => {
        const health = (await (await api('/api/health', { token: tokens.viewer })).json()) as {
          waveformFrames: { perClient: { dropped: number }[] };
        };
        return health.waveformFrames.perClient.some((c) => c.dropped > 0);
      },
      30_000,
      'no waveform frame dropped',
    );
    socket.resume();
    await waitFor(
      () => during.every((a) => mine(slow).some((v) => v.alert.id === a.id)),
      30_000,
      () => 'alerts lost',
    );
    await waitFor(
      () => slow.of('dropped').length > 0,
      10_000,
      () => 'never told',
    );
    expect(slow.of('dropped')[0]!.frames).toBeGreaterThan(0);
    slow.ws.close();
  });

  it('across a restart of the gateway: history and audit kept, alerts published while it was down delivered', async () => {
    const before = await (await api('/api/alerts?limit=1000', { token: tokens.nurse })).json();
    const nurse = new Client(tokens.nurse);
    await nurse.opened;
    nurse.subscribe('ward');
    await waitFor(
      () => nurse.of('snapshot').length === 1,
      5000,
      () => 'no snapshot',
    );
    const resume = nurse.of('snapshot')[0]!.resume;
    // a nurse acknowledges one: published to ecg.acks, signed, and audited
    const target = alert('bed-a');
    await publish([target]);
    await waitForAlert(target.id);
    const acks = await followTopic<AckMessage>(connection.kafka, TOPICS.acks, (b) => ackCodec.decode(b));
    const res = await api(`/api/alerts/${encodeURIComponent(target.id)}/ack`, { method: 'POST', token: tokens.nurse });
    expect(res.status).toBe(202);
    await waitFor(
      () => acks.items.some((a) => a.alertId === target.id),
      10_000,
      () => 'no ack in ecg.acks',
    );
    await acks.stop();
    const ack = acks.items.find((a) => a.alertId === target.id)!;
    expect(ack).toMatchObject({ v: 2, by: 'nurse.jones', bedId: 'bed-a', keyId: 'station' });
    expect(keys.verify(ack)).toBe('valid');
    nurse.ws.terminate();

    await gateway.close();
    const whileDown = [alert('bed-b'), alert('bed-a')];
    await publish(whileDown);
    gateway = await start();
    for (const a of whileDown) await waitForAlert(a.id);
    const after = (await (await api('/api/alerts?limit=1000', { token: tokens.nurse })).json()) as {
      alerts: AlertView[];
    };
    for (const v of (before as { alerts: AlertView[] }).alerts)
      expect(
        after.alerts.some((w) => w.alert.id === v.alert.id),
        v.alert.id,
      ).toBe(true);
    const audit = (await (await api('/api/audit', { token: tokens.nurse })).json()) as {
      entries: { action: string; actor: string; alertId: string }[];
      verified: { intact: boolean };
    };
    expect(audit.verified.intact).toBe(true);
    expect(
      audit.entries
        .filter((e) => e.alertId === target.id)
        .map((e) => [e.action, e.actor])
        .sort(),
    ).toEqual([
      ['acknowledge', 'nurse.jones'],
      ['acknowledgement', 'nurse.jones'],
    ]);
    const back = new Client(tokens.nurse);
    await back.opened;
    back.subscribe('ward', resume);
    await waitFor(
      () => back.of('snapshot').length === 1,
      5000,
      () => 'no snapshot',
    );
    const ids = back.of('snapshot')[0]!.alerts.map((v) => v.alert.id);
    for (const a of [target, ...whileDown]) expect(ids).toContain(a.id);
    back.ws.close();
  });
});

describe('a lost Kafka cluster', () => {
  it('shows on every client within 5 s, and the gateway goes on when it is back, without a restart', async () => {
    const clients = [new Client(tokens.viewer), new Client(tokens.nurse)];
    await Promise.all(clients.map((c) => c.opened));
    for (const c of clients) c.subscribe('ward');
    await waitFor(
      () => clients.every((c) => c.of('snapshot').length === 1),
      5000,
      () => 'no snapshot',
    );
    const down = Date.now();
    broker.setDown(true);
    try {
      await waitFor(
        () => clients.every((c) => c.of('kafka').some((m) => m.state === 'unreachable')),
        10_000,
        () => 'no client told',
      );
      expect(Date.now() - down).toBeLessThan(5000);
      const health = (await (await api('/api/health', { token: tokens.viewer })).json()) as {
        kafka: { state: string };
      };
      expect(health.kafka.state).toBe('unreachable');
    } finally {
      broker.setDown(false);
    }
    await waitFor(
      () => clients.every((c) => c.of('kafka').some((m) => m.state === 'ok')),
      30_000,
      () => 'not back',
    );
    const next = alert('bed-b');
    await publish([next]);
    await waitFor(
      () => clients.every((c) => c.alerts().some((v) => v.alert.id === next.id)),
      60_000,
      () => 'no alert after',
    );
    for (const c of clients) c.ws.close();
  });

  it('and a client that stops answering pings is gone within 30 s', async () => {
    await waitFor(
      () => gateway.hub.size === 0,
      10_000,
      () => `${gateway.hub.size} clients left from before`,
    );
    const dead = new Client(tokens.viewer);
    await dead.opened;
    await waitFor(
      () => gateway.hub.size === 1,
      5000,
      () => 'not connected',
    );
    const since = Date.now();
    (dead.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    await waitFor(
      () => gateway.hub.size === 0,
      30_000,
      () => `${gateway.hub.size} clients`,
    );
    expect(Date.now() - since).toBeLessThan(30_000);
  });
});
