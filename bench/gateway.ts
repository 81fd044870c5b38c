/**
 * The gateway under load, three processes so that its own CPU and memory are measured alone:
 * a ward (the embedded broker, `beds` MIT-BIH records streaming at real time, 4 alerts a second
 * written to ecg.alerts), the gateway (this process), and the clients (N WebSocket clients
 * following the ward). It steps through client counts up to N (25, 50, 100, 200, ...), `seconds`
 * each, and prints per step the alert latency from ecg.alerts to each client (p50, p99), alerts
 * lost, waveform frames delivered and dropped, the gateway's CPU and memory; and the most clients
 * it held with every waveform frame delivered within 300 MB.
 *   npm run bench:gateway [-- --clients 200 --beds 32 --seconds 20 --json]
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import type { GatewayMessage } from '../stream/contracts/display.js';
import { connectKafka } from '../stream/kafka/connection.js';
import { startEmbeddedBroker } from '../stream/kafka/embedded.js';
import { kafkaAt } from '../stream/kafka/kafkajs.js';
import { parseCommandLine, positiveNumber, runMain } from '../apps/cli.js';
import { machineLine } from './machine.js';
import { AlertWriter, benchAlert, percentile, recordWard, streamWard } from './ward.js';
import { benchGateway } from './browser.js';

const quiet = (): void => undefined;
const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));
const MEMORY_BOUND_MB = 300;
const ALERTS_PER_S = 4;

/** A child's answer to a request, by its id. */
function ask<T>(child: ChildProcess, request: Record<string, unknown>): Promise<T> {
  const id = Math.random().toString(36).slice(2);
  return new Promise((done) => {
    const listen = (m: { id?: string; answer?: T }): void => {
      if (m.id !== id) return;
      child.off('message', listen);
      done(m.answer as T);
    };
    child.on('message', listen);
    child.send({ ...request, id });
  });
}

function spawnRole(role: string, ...args: string[]): ChildProcess {
  return fork(fileURLToPath(import.meta.url), [role, ...args], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

/** The ward process: broker, beds, alerts; answers with the broker's address and the alerts written. */
async function wardRole(beds: number): Promise<void> {
  const broker = startEmbeddedBroker();
  const kafka = kafkaAt('bench-ward', broker.bootstrap.split(','));
  const stop = new AbortController();
  void streamWard(kafka, await recordWard(beds), stop.signal);
  const writer = await AlertWriter.open(kafka);
  const written: { id: string; atMs: number }[] = [];
  let n = 0;
  const timer = setInterval(() => {
    const alert = benchAlert(`bed-${String((n % beds) + 1).padStart(2, '0')}`, ++n);
    written.push({ id: alert.id, atMs: alert.publishedMs });
    void writer.write(alert);
  }, 1000 / ALERTS_PER_S);
  process.on('message', (m: { id: string; type: string; from?: number; to?: number }) => {
    if (m.type === 'address') process.send!({ id: m.id, answer: broker.bootstrap });
    if (m.type === 'written')
      process.send!({ id: m.id, answer: written.filter((w) => w.atMs >= m.from! && w.atMs < m.to!).map((w) => w.id) });
    if (m.type === 'stop') {
      clearInterval(timer);
      stop.abort();
      setTimeout(() => process.exit(0), 500);
    }
  });
}

/** The clients process: opens clients on request; reports what each received in a window. */
async function clientsRole(url: string, token: string): Promise<void> {
  const clients: { frames: number[]; alerts: Map<string, number> }[] = [];
  const open = (): Promise<void> =>
    new Promise((done, fail) => {
      const ws = new WebSocket(`${url.replace('http', 'ws')}/ws`, ['ecg.v1', `bearer.${token}`]);
      const state = { frames: [] as number[], alerts: new Map<string, number>() };
      clients.push(state);
      ws.on('open', () => {
        ws.send(JSON.stringify({ type: 'subscribe', beds: 'ward', resume: Number.MAX_SAFE_INTEGER }));
        done();
      });
      ws.on('error', fail);
      ws.on('message', (data, isBinary) => {
        const now = Date.now();
        if (isBinary) state.frames.push(now);
        else {
          const m = JSON.parse(String(data)) as GatewayMessage;
          if (m.type === 'alert') state.alerts.set(m.view.alert.id, now - m.view.alert.publishedMs);
        }
      });
    });
  process.on('message', async (m: { id: string; type: string; count?: number; from?: number; to?: number }) => {
    if (m.type === 'open') {
      for (let k = 0; k < m.count!; k++) await open();
      process.send!({ id: m.id, answer: clients.length });
    }
    if (m.type === 'report')
      process.send!({
        id: m.id,
        answer: clients.map((c) => ({
          frames: c.frames.filter((t) => t >= m.from! && t < m.to!).length,
          alerts: [...c.alerts],
        })),
      });
    if (m.type === 'stop') process.exit(0);
  });
}

async function main(): Promise<void> {
  const [role, ...rest] = process.argv.slice(2);
  if (role === 'ward') return wardRole(Number(rest[0]));
  if (role === 'clients') return clientsRole(rest[0]!, rest[1]!);
  const { values } = parseCommandLine('bench:gateway', process.argv.slice(2), {
    clients: { type: 'string' },
    beds: { type: 'string' },
    seconds: { type: 'string' },
    json: { type: 'boolean' },
  });
  const maxClients = positiveNumber('bench:gateway', 'clients', values.clients ?? '200', true);
  const beds = positiveNumber('bench:gateway', 'beds', values.beds ?? '32', true);
  const seconds = positiveNumber('bench:gateway', 'seconds', values.seconds ?? '20');
  const ward = spawnRole('ward', String(beds));
  const bootstrap = await ask<string>(ward, { type: 'address' });
  process.env.KAFKA_BROKERS = bootstrap;
  const connection = connectKafka('bench-gateway', quiet);
  const { gateway, token } = await benchGateway(connection);
  const clients = spawnRole('clients', gateway.url, token);
  await sleep(5000); // every bed streaming
  const levels: number[] = [];
  for (let n = 25; n < maxClients; n *= 2) levels.push(n);
  levels.push(maxClients);
  const steps = [];
  let connected = 0;
  for (const level of levels) {
    connected = await ask<number>(clients, { type: 'open', count: level - connected });
    await sleep(2000); // snapshots sent, steady again
    const { framesDropped: dropped0, framesSent: sent0 } = gateway.hub.stats();
    const cpu0 = process.cpuUsage();
    const from = Date.now();
    let peakRss = 0;
    const sampling = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 500);
    await sleep(seconds * 1000);
    const to = Date.now();
    const { framesDropped, framesSent } = gateway.hub.stats();
    clearInterval(sampling);
    const cpu = process.cpuUsage(cpu0);
    await sleep(1500); // the last alerts of the window arrive
    const written = await ask<string[]>(ward, { type: 'written', from, to: to - 1000 });
    const reports = await ask<{ frames: number; alerts: [string, number][] }[]>(clients, { type: 'report', from, to });
    const latencies: number[] = [];
    let lost = 0;
    for (const r of reports) {
      const got = new Map(r.alerts);
      for (const id of written) {
        const latency = got.get(id);
        if (latency === undefined) lost++;
        else latencies.push(latency);
      }
    }
    const received = reports.reduce((a, r) => a + r.frames, 0);
    const dropped = framesDropped - dropped0;
    // frames of the window in flight at its edges aside, what was sent arrived
    const sent = framesSent - sent0;
    const step = {
      clients: level,
      alertLatencyMs: { p50: percentile(latencies, 50), p99: percentile(latencies, 99) },
      alertsWritten: written.length,
      alertsLost: lost,
      waveformFrames: { sent, received, dropped },
      gatewayCpuPercent: Math.round(((cpu.user + cpu.system) / 1000 / (to - from)) * 100),
      gatewayRssMb: Math.round(peakRss / 2 ** 20),
    };
    steps.push(step);
    if (values.json !== true)
      console.log(
        `  ${level} clients: alert latency p50 ${step.alertLatencyMs.p50} ms, p99 ${step.alertLatencyMs.p99} ms; alerts lost ${lost} of ${written.length * level}; waveform frames sent ${sent}, received ${received}, dropped ${dropped}; gateway CPU ${step.gatewayCpuPercent} %, RSS ${step.gatewayRssMb} MB`,
      );
  }
  // every frame delivered: none dropped, and what was sent in the window received (1 % for the
  // frames in flight at its edges)
  const held = steps.filter(
    (s) =>
      s.waveformFrames.dropped === 0 &&
      s.waveformFrames.received >= 0.99 * s.waveformFrames.sent &&
      s.gatewayRssMb <= MEMORY_BOUND_MB,
  );
  const last = steps.at(-1)!;
  const result = {
    beds,
    clients: maxClients,
    alertLatencyMs: last.alertLatencyMs,
    alertsLost: steps.reduce((a, s) => a + s.alertsLost, 0),
    maxClients: held.length === 0 ? 0 : Math.max(...held.map((s) => s.clients)),
    steps,
    machine: machineLine(),
  };
  if (values.json === true) console.log(JSON.stringify(result));
  else
    console.log(
      `bench:gateway: ${beds} beds; most clients with every waveform frame delivered within ${MEMORY_BOUND_MB} MB: ${result.maxClients}; ${result.machine}`,
    );
  clients.send({ type: 'stop' });
  ward.send({ type: 'stop' });
  await gateway.close();
  connection.close();
}

runMain(main);
