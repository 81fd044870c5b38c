/**
 * The whole way, as `npm start` runs it: records replayed at real time through the embedded
 * broker, a pipeline worker with the shipped model, the gateway, the dashboard in headless
 * Chromium. For every alarm a beat raises: from the frame that completed that beat's window (its
 * `windowCompleteMs`, the producer's clock) to the animation frame in which the browser has it.
 *   npm run bench:e2e [-- --seconds 120 --records 119,200,203,208,233 --json]
 */
import { publishReplay } from '../simulators/publish.js';
import { loadBeds } from '../simulators/replay.js';
import { alertCodec, beatCodec, type AlertMessage, type BeatMessage } from '../stream/contracts/messages.js';
import { TOPICS } from '../stream/contracts/topics.js';
import { embeddedKafka } from '../stream/kafka/connection.js';
import { followTopic } from '../stream/kafka/follow.js';
import { initBackend } from '../stream/model/backend.js';
import { BeatClassifier } from '../stream/model/inference.js';
import { SHIPPED_MODEL_DIR } from '../stream/model/shipped.js';
import { modelClassifier } from '../stream/pipeline/classifier.js';
import { runPipelineWorker } from '../stream/pipeline/worker.js';
import { mitdbDir, selectRecords } from '../stream/wfdb/index.js';
import { parseCommandLine, positiveNumber, runMain } from '../apps/cli.js';
import { benchGateway, launchBenchBrowser } from './browser.js';
import { machineLine } from './machine.js';
import { percentile } from './ward.js';

const quiet = (): void => undefined;

async function main(): Promise<void> {
  const { values } = parseCommandLine('bench:e2e', process.argv.slice(2), {
    seconds: { type: 'string' },
    records: { type: 'string' },
    json: { type: 'boolean' },
  });
  const seconds = positiveNumber('bench:e2e', 'seconds', values.seconds ?? '120');
  const records = await selectRecords(mitdbDir(), values.records ?? '119,200,203,208,233', 'bench:e2e');
  const backend = await initBackend('wasm', quiet);
  const classifier = await BeatClassifier.load(SHIPPED_MODEL_DIR);
  const connection = embeddedKafka('bench-e2e', quiet);
  const stop = new AbortController();
  const worker = runPipelineWorker({
    kafka: connection.kafka,
    classify: modelClassifier(classifier),
    modelId: classifier.modelId,
    stop: stop.signal,
  });
  const { gateway, token } = await benchGateway(connection);
  const beats = await followTopic<BeatMessage>(connection.kafka, TOPICS.beats, (b) => beatCodec.decode(b));
  const alerts = await followTopic<AlertMessage>(connection.kafka, TOPICS.alerts, (b) => alertCodec.decode(b));
  const browser = await launchBenchBrowser();
  const page = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
  await page.goto(`${gateway.url}/?token=${token}`);
  // the page notes the animation frame in which each alarm id is first on its screen (a page script)
  await page.waitForFunction(`document.querySelector('ecg-central-station')?.store !== undefined`);
  await page.evaluate(`(() => {
    const store = document.querySelector('ecg-central-station').store;
    window.drawnAt = {};
    store.addEventListener('alerts', () => {
      const fresh = [...store.alerts.keys()].filter((id) => !(id in window.drawnAt));
      for (const id of fresh) window.drawnAt[id] = null;
      requestAnimationFrame(() => { const t = performance.timeOrigin + performance.now(); for (const id of fresh) window.drawnAt[id] = t; });
    });
  })()`);
  const { loaded } = await loadBeds(
    mitdbDir(),
    records.map((record, i) => ({ bedId: `bed-${String(i + 1).padStart(2, '0')}`, record })),
  );
  const producer = connection.kafka.producer();
  await producer.connect();
  const replay = publishReplay(producer, loaded, { frameMs: 250, loop: false, speed: 1, signal: stop.signal });
  await new Promise((done) => setTimeout(done, seconds * 1000));
  const drawnAt = (await page.evaluate('window.drawnAt')) as Record<string, number | null>;
  stop.abort();
  await replay.catch(quiet);
  await worker.catch(quiet);
  const latencies: number[] = [];
  const beatAt = new Map<string, BeatMessage>();
  for (const b of beats.items) beatAt.set(`${b.bedId}@${b.timeS}`, b);
  const seen = new Set<string>();
  for (const a of alerts.items) {
    // an alarm's first message is its raising; a beat-driven one was raised by the beat at its raising time
    if (seen.has(a.id)) continue;
    seen.add(a.id);
    const drawn = drawnAt[a.id];
    const beat = beatAt.get(`${a.bedId}@${a.raisedS}`);
    if (drawn === undefined || drawn === null || beat === undefined || a.evidence.length === 0) continue;
    latencies.push(drawn - beat.latency.windowCompleteMs);
  }
  const result = {
    records,
    seconds,
    alarms: latencies.length,
    windowCompleteToDrawnMs: {
      p50: Math.round(percentile(latencies, 50)),
      p99: Math.round(percentile(latencies, 99)),
      max: Math.round(Math.max(...latencies)),
    },
    backend,
    model: classifier.modelId,
    browser: `Chromium ${browser.version()} headless, --disable-gpu`,
    machine: machineLine(),
  };
  await browser.close();
  await Promise.all([beats.stop(), alerts.stop(), producer.disconnect()]);
  await gateway.close();
  connection.close();
  if (values.json === true) console.log(JSON.stringify(result));
  else {
    console.log(`bench:e2e: model ${result.model} on ${backend}; ${result.browser}; ${result.machine}`);
    console.log(
      `  ${result.alarms} alarms raised by beats over ${seconds} s of ${records.join(', ')} at real time: beat window complete -> alarm on screen p50 ${result.windowCompleteToDrawnMs.p50} ms, p99 ${result.windowCompleteToDrawnMs.p99} ms, max ${result.windowCompleteToDrawnMs.max} ms`,
    );
  }
}

runMain(main);
