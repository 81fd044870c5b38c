/**
 * Live-pipeline figures with the shipped model, each printed with backend, machine and commit.
 *   npm run bench:pipeline -- capacity [--seconds 20] [--model DIR|ARCHITECTURE]   beds held in real time, all
 *       cores (one worker process per core); an architecture name (e.g. seed-resnet) runs it with untrained
 *       weights, and explains the beats the reference labels abnormal, as a trained model would
 *   npm run bench:pipeline -- latency [--beds 100 --seconds 60]   window complete -> beat event in ecg.beats, through Kafka
 *   npm run bench:pipeline -- replay [--records 100,101,...]      hours of ECG per wall-clock minute through Kafka
 *   npm run bench:pipeline -- memory [--beds 10 --hours 2]        the worker's heap per bed, and whether it grows
 *       over a long shift: each bed replays its record looped, through Kafka at full speed
 *   npm run bench:pipeline -- admissions [--beds 10 --rounds 10 --minutes 10 --release-seconds 10
 *       --silence-seconds 12]   the worker's heap as bed ids come and go, one per admission (a release
 *       time over the silence keeps every bed, as a worker without the release would)
 */
import { embeddedKafka } from '../stream/kafka/connection.js';
import { fork } from 'node:child_process';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { firstValueFrom, from, toArray } from 'rxjs';
import { publishReplay, ReplayPacer } from '../simulators/publish.js';
import { loadBed, recordFrames, type LoadedBed, type ReplayBed } from '../simulators/replay.js';
import { DEFAULT_BEAT_WINDOW } from '../stream/dsp/index.js';
import { parseCommandLine, positiveNumber, runMain } from '../apps/cli.js';
import { ConfigError } from '../stream/contracts/errors.js';
import { followTopic } from '../stream/kafka/follow.js';
import type { SampleFrame } from '../stream/contracts/frame.js';
import { ackCodec, alertCodec, beatCodec, type AlertMessage } from '../stream/contracts/messages.js';
import { TOPICS } from '../stream/contracts/topics.js';
import { initBackend } from '../stream/model/backend.js';
import { architecture, isArchitectureName } from '../stream/model/architectures.js';
import { BeatClassifier } from '../stream/model/inference.js';
import { SHIPPED_MODEL_DIR } from '../stream/model/shipped.js';
import { labelledBatches, modelClassifier } from '../stream/pipeline/classifier.js';
import { AAMI_CLASSES } from '../stream/contracts/aami.js';
import { DEFAULT_STALL, monitorWard, type Classify } from '../stream/pipeline/ward.js';
import { runPipelineWorker, workerFailure } from '../stream/pipeline/worker.js';
import { listRecords, mitdbDir, readAnnotations, readRecord } from '../stream/wfdb/index.js';
import { percentile } from '../stream/eval/qrsEval.js';
import { ReferenceLabels } from '../stream/eval/referenceLabels.js';
import { machineLine } from './machine.js';

const quiet = (): void => undefined;

/** A ward of `beds` beds, bed-0, bed-1, ..., replaying the database's records in turn. */
async function wardBeds(beds: number): Promise<{ bedId: string; record: string }[]> {
  const records = await listRecords(mitdbDir());
  return Array.from({ length: beds }, (_, b) => ({ bedId: `bed-${b}`, record: records[b % records.length]! }));
}

/**
 * Frames of `beds` beds (`wardBeds`), `seconds` of ECG each, interleaved as they would arrive,
 * and the record each bed replays.
 */
async function wardFrames(
  beds: number,
  seconds: number,
): Promise<{ frames: SampleFrame[]; recordOfBed: (bedId: string) => string }> {
  const ward = await wardBeds(beds);
  const records = new Map(ward.map((b) => [b.bedId, b.record]));
  const perBed: SampleFrame[][] = [];
  for (const { bedId, record } of ward) {
    const signal = await readRecord(mitdbDir(), record);
    perBed.push([...recordFrames(signal, bedId, 'bench', { frameMs: 250, loop: false, maxFrames: seconds * 4 })]);
  }
  return {
    frames: perBed[0]!.flatMap((_, i) => perBed.map((frames) => frames[i]!)),
    recordOfBed: (bedId) => records.get(bedId)!,
  };
}

interface WorkerRate {
  /** Bed-seconds of ECG per wall-clock second. */
  readonly rate: number;
  readonly beats: number;
  /** Beats explained with Grad-CAM (the non-N ones): they cost a backward pass each. */
  readonly explained: number;
}

/** One worker: processes `beds` beds of `seconds` s at full speed. */
async function capacityWorker(beds: number, seconds: number, model: string): Promise<WorkerRate> {
  await initBackend('wasm', quiet);
  // an architecture is timed with untrained weights, labelling each beat with its reference
  // label: it then explains the beats a trained model would, which is most of its cost
  const untrained = isArchitectureName(model);
  const classifier = untrained
    ? new BeatClassifier(architecture(model).build(DEFAULT_BEAT_WINDOW.length, 1), `${model} (untrained)`)
    : await BeatClassifier.load(model);
  const { frames, recordOfBed } = await wardFrames(beds, seconds);
  const reference = untrained
    ? new ReferenceLabels((bedId) => readAnnotations(mitdbDir(), recordOfBed(bedId)))
    : undefined;
  // untrained: the network runs as the model's would, and the reference names each beat's class
  const classify: Classify =
    reference === undefined
      ? modelClassifier(classifier)
      : labelledBatches(classifier, async (pending, _inputs, p) =>
          Promise.all(
            pending.map(async (b, i) => ({
              label: AAMI_CLASSES.indexOf(await reference.classOf(b.bedId, b.rPeakSample)),
              reason: 'network' as const,
              votedV: p[i * AAMI_CLASSES.length + AAMI_CLASSES.indexOf('V')]!,
            })),
          ),
        );
  const started = performance.now();
  const events = await firstValueFrom(from(frames).pipe(monitorWard({ classify }), toArray()));
  const beats = events.flatMap((e) => (e.kind === 'beat' ? [e.beat] : []));
  return {
    rate: (beds * seconds) / ((performance.now() - started) / 1000),
    beats: beats.length,
    explained: beats.filter((b) => b.gradCam !== undefined).length,
  };
}

async function capacity(seconds: number, model: string): Promise<void> {
  console.log(`capacity: model ${model}`);
  const workers = cpus().length;
  for (const bedsPerWorker of [25, 50, 100, 200]) {
    const rates = await Promise.all(
      Array.from(
        { length: workers },
        () =>
          new Promise<WorkerRate>((resolve, reject) => {
            const child = fork(
              fileURLToPath(import.meta.url),
              ['capacity-worker', String(bedsPerWorker), String(seconds), model],
              {
                execArgv: ['--import', 'tsx'],
                stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
              },
            );
            child.on('message', (m) => resolve(m as WorkerRate));
            child.on('exit', (code) => (code === 0 ? undefined : reject(new Error(`capacity worker exited ${code}`))));
          }),
      ),
    );
    const total = rates.reduce((a, r) => a + r.rate, 0);
    const beats = rates.reduce((a, r) => a + r.beats, 0);
    const explained = rates.reduce((a, r) => a + r.explained, 0);
    console.log(
      `capacity: ${workers} workers x ${bedsPerWorker} beds (${seconds} s of ECG each): ${total.toFixed(0)} bed-seconds per second ` +
        `=> about ${Math.floor(total)} beds in real time (${beats} beats, ${((100 * explained) / beats).toFixed(1)} % explained with Grad-CAM)`,
    );
    if (total < workers * bedsPerWorker) break; // they fell behind: the ramp is over
  }
}

/** A benchmark's beds; an unreadable record ends it, since its figures would not be for the beds asked. */
function loadAll(beds: readonly ReplayBed[]): Promise<LoadedBed[]> {
  return Promise.all(beds.map((bed) => loadBed(mitdbDir(), bed)));
}

/** The embedded broker and one pipeline worker serving the shipped model, as `npm start` runs them. */
async function shippedWorker(
  hooks: Pick<Parameters<typeof runPipelineWorker>[0], 'onEvent' | 'onFrame' | 'release'> = {},
) {
  const connection = embeddedKafka('bench', quiet);
  await initBackend('wasm', quiet);
  const classifier = await BeatClassifier.load(SHIPPED_MODEL_DIR);
  const stop = new AbortController();
  const worker = runPipelineWorker({
    kafka: connection.kafka,
    classify: modelClassifier(classifier),
    modelId: classifier.modelId,
    stop: stop.signal,
    ...hooks,
  });
  const stopWorker = async (): Promise<void> => {
    stop.abort();
    await worker;
  };
  return { connection, kafka: connection.kafka, stopWorker, failed: workerFailure(worker) };
}

async function latency(beds: number, seconds: number): Promise<void> {
  const { connection, kafka, stopWorker, failed } = await shippedWorker();
  // each beat's latency, also split at the moment the worker made its message
  // (latency.publishedMs), and when its window was complete: an alarm raised by a beat (the
  // engine stamps it with that beat's time, raisedS) is timed from that beat's window completion
  // to the alert's arrival
  const beats: { key: string; windowCompleteMs: number; arrivedMs: number; publishedMs: number }[] = [];
  const alerts: { key: string; arrivedMs: number }[] = [];
  // a nurse at the central station acknowledges every alarm as its first message arrives: from
  // the acknowledgement sent to ecg.acks to the alarm's acknowledged message read from ecg.alerts
  const ackProducer = kafka.producer();
  await ackProducer.connect();
  const acksSentMs = new Map<string, number>();
  const ackRoundTrips: number[] = [];
  const acknowledge = (alert: AlertMessage): void => {
    if (alert.acknowledged) {
      const sent = acksSentMs.get(alert.id);
      if (sent !== undefined) ackRoundTrips.push(Date.now() - sent);
      acksSentMs.delete(alert.id);
    } else if (!acksSentMs.has(alert.id)) {
      acksSentMs.set(alert.id, Date.now());
      const ack = { v: 1 as const, bedId: alert.bedId, alertId: alert.id, by: 'bench', atMs: Date.now() };
      ackProducer
        .send({ topic: TOPICS.acks, messages: [{ key: alert.bedId, value: ackCodec.encode(ack) }] })
        .catch(() => {
          acksSentMs.delete(alert.id); // counted as not sent
        });
    }
  };
  const readers = [
    await followTopic(kafka, TOPICS.beats, (b) => beatCodec.decode(b), {
      onItem: (beat) =>
        beats.push({
          key: `${beat.bedId}/${beat.timeS}`,
          windowCompleteMs: beat.latency.windowCompleteMs,
          arrivedMs: Date.now(),
          publishedMs: beat.latency.publishedMs,
        }),
    }),
    await followTopic(kafka, TOPICS.alerts, (b) => alertCodec.decode(b), {
      onItem: (alert) => {
        if (alert.state === 'active' && !alert.acknowledged)
          alerts.push({ key: `${alert.bedId}/${alert.raisedS}`, arrivedMs: Date.now() });
        acknowledge(alert);
      },
    }),
  ];
  const producer = kafka.producer();
  await producer.connect();
  await Promise.race([
    publishReplay(producer, await loadAll(await wardBeds(beds)), {
      frameMs: 250,
      loop: false,
      speed: 1,
      maxFrames: seconds * 4,
    }),
    failed,
  ]);
  await new Promise((resolve) => setTimeout(resolve, 3000));
  await stopWorker();
  await Promise.all([...readers.map((r) => r.stop()), producer.disconnect(), ackProducer.disconnect()]);
  connection.close();
  // the first 10 % of the beats (and the alerts before the last of them) are start-up and learning
  const steadyFromMs = beats[Math.floor(beats.length / 10)]?.arrivedMs ?? Infinity;
  const steadyBeats = beats.filter((b) => b.arrivedMs >= steadyFromMs);
  const windowComplete = new Map(beats.map((b) => [b.key, b.windowCompleteMs]));
  const steadyAlerts = alerts.filter((a) => a.arrivedMs >= steadyFromMs);
  // alarms raised by the clock or the signal (asystole, flutter, technical ones) have no beat to time them from
  const alertLatencies = steadyAlerts.flatMap((a) => {
    const complete = windowComplete.get(a.key);
    return complete === undefined ? [] : [a.arrivedMs - complete];
  });
  const figures = (latencies: number[]): string =>
    latencies.length === 0 ? 'none' : `p50 ${percentile(latencies, 50)} ms, p99 ${percentile(latencies, 99)} ms`;
  console.log(
    `latency: ${beds} beds at real time for ${seconds} s, one pipeline worker, ${connection.description} in the same process: ` +
      `${beats.length} beats, window complete -> beat in ecg.beats ${figures(steadyBeats.map((b) => b.arrivedMs - b.windowCompleteMs))}; ` +
      `of which the worker (frame produced -> beat message made, its publishedMs) ${figures(steadyBeats.map((b) => b.publishedMs - b.windowCompleteMs))} ` +
      `and the way out (message made -> read from ecg.beats) ${figures(steadyBeats.map((b) => b.arrivedMs - b.publishedMs))}; ` +
      `${alertLatencies.length} alarms raised by a beat (of ${steadyAlerts.length} raised), window complete -> alert in ecg.alerts ${figures(alertLatencies)}; ` +
      `${ackRoundTrips.length} alarms acknowledged (of ${alerts.length} raised, each as its first message arrived; ${acksSentMs.size} without an answer), acknowledgement sent to ecg.acks -> acknowledged alert read from ecg.alerts ${figures(ackRoundTrips)}`,
  );
}

async function replay(records: string[]): Promise<void> {
  let beats = 0;
  const pacer = new ReplayPacer();
  const { connection, kafka, stopWorker, failed } = await shippedWorker({
    onEvent: (e) => void (e.kind === 'beat' && beats++),
    onFrame: pacer.onFrame,
  });
  const producer = kafka.producer();
  await producer.connect();
  const started = performance.now();
  const beds = records.map((record, b) => ({ bedId: `bed-${b}`, record }));
  const { frames } = await Promise.race([
    publishReplay(producer, await loadAll(beds), {
      frameMs: 250,
      loop: false,
      speed: Infinity,
      throttle: pacer.throttle,
    }),
    failed,
  ]);
  await Promise.race([pacer.allConsumed(frames), failed]);
  await stopWorker();
  const minutes = (performance.now() - started) / 60000;
  await producer.disconnect();
  connection.close();
  const hours = (frames * 0.25) / 3600;
  console.log(
    `replay: ${records.length} records, ${hours.toFixed(2)} h of ECG, ${beats} beats through ${connection.description} in ${minutes.toFixed(2)} min: ${(hours / minutes).toFixed(2)} h of ECG per minute`,
  );
}

let gc: (() => void) | undefined;

/** A full garbage collection, so that the heap measured is what the pipeline holds, not what it has yet to free. */
function collectGarbage(): void {
  if (gc === undefined) {
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as () => void;
  }
  gc();
}

const MB = 1024 * 1024;

/**
 * The worker's JavaScript heap after a full collection, every 10 minutes of ECG per bed: the
 * beds' state (filters, detector, templates, families, alarm engine, checkpoints) is what
 * grows with beds; a heap that still grows once every bed has run longer than its longest
 * memory (the 200-beat RR baseline, about 3 minutes) would be a leak that ends a long shift.
 */
async function memory(beds: number, hours: number): Promise<void> {
  const pacer = new ReplayPacer();
  const every = beds * 10 * 60 * 4; // frames of 10 minutes of ECG for every bed
  const heap: { ecgMinutesPerBed: number; heapMb: number; rssMb: number }[] = [];
  // measured with the worker drained (every frame sent consumed), so that no measurement holds
  // more frames in flight than another
  const measure = async (sent: number): Promise<void> => {
    await pacer.allConsumed(sent);
    collectGarbage();
    const { heapUsed, rss } = process.memoryUsage();
    heap.push({ ecgMinutesPerBed: sent / beds / 4 / 60, heapMb: heapUsed / MB, rssMb: rss / MB });
  };
  const { connection, kafka, stopWorker, failed } = await shippedWorker({ onFrame: pacer.onFrame });
  const producer = kafka.producer();
  await producer.connect();
  // the replayed records live in this process too: loaded before the first measurement and
  // held until after the last, they are in every one
  const loaded = await loadAll(await wardBeds(beds));
  await measure(0); // the model loaded, the worker running and the records read, before the first frame
  const started = performance.now();
  const { frames } = await Promise.race([
    publishReplay(producer, loaded, {
      frameMs: 250,
      loop: true,
      speed: Infinity,
      maxFrames: Math.round(hours * 3600 * 4),
      // every bed sends one frame per tick, so the count passes each multiple of `every`
      throttle: async (sent) => {
        if (sent > 0 && sent % every === 0) await measure(sent);
        await pacer.throttle(sent);
      },
    }),
    failed,
  ]);
  await Promise.race([measure(frames), failed]);
  const minutes = (performance.now() - started) / 60000;
  await stopWorker();
  await producer.disconnect();
  connection.close();
  for (const h of heap)
    console.log(
      `memory: ${h.ecgMinutesPerBed.toFixed(0).padStart(4)} min of ECG per bed: heap ${h.heapMb.toFixed(1)} MB, rss ${h.rssMb.toFixed(0)} MB`,
    );
  const empty = heap[0]!;
  const rest = heap.slice(1); // at least three: --hours is 0.5 or more
  const last = rest[rest.length - 1]!;
  // the trend over the second half of the run, when every bed's memory of its past is full
  const half = rest.slice(Math.floor(rest.length / 2));
  const slope = leastSquaresSlope(
    half.map((h) => h.ecgMinutesPerBed / 60),
    half.map((h) => h.heapMb),
  );
  console.log(
    `memory: ${loaded.length} beds, ${hours} h of ECG each (records looped) through ${connection.description} in ${minutes.toFixed(1)} min, one worker: ` +
      `heap ${empty.heapMb.toFixed(1)} MB before the first frame, ${last.heapMb.toFixed(1)} MB at the end => ${(((last.heapMb - empty.heapMb) * 1024) / beds).toFixed(0)} kB per bed (the worker's own growth since its start included); ` +
      `trend over the second half ${((slope * 1024) / beds).toFixed(1)} kB per bed per hour of ECG; rss ${last.rssMb.toFixed(0)} MB (the embedded broker's retained messages included)`,
  );
}

/**
 * The worker's heap as beds come and go under new ids (an id per admission, as some hospitals
 * give them): rounds of `beds` admissions, each streaming `minutes` of ECG at full speed and
 * then silent for good, measured `silenceSeconds` after each round. A bed silent longer than
 * the release time gives up its analysis (`ReleaseConfig`); what it keeps is what an admission
 * costs for as long as the worker runs.
 */
async function admissions(
  beds: number,
  rounds: number,
  minutes: number,
  releaseSeconds: number,
  silenceSeconds: number,
): Promise<void> {
  const pacer = new ReplayPacer();
  const { connection, kafka, stopWorker, failed } = await shippedWorker({
    onFrame: pacer.onFrame,
    release: { afterMs: releaseSeconds * 1000 },
  });
  const producer = kafka.producer();
  await producer.connect();
  const ward = await loadAll(await wardBeds(beds));
  const heap: number[] = [];
  const measure = (): void => {
    collectGarbage();
    heap.push(process.memoryUsage().heapUsed / MB);
  };
  measure();
  const started = performance.now();
  let sent = 0;
  for (let round = 0; round < rounds; round++) {
    const admitted = ward.map((b, i) => ({ ...b, bed: { ...b.bed, bedId: `admission-${round * beds + i}` } }));
    const run = await Promise.race([
      publishReplay(producer, admitted, {
        frameMs: 250,
        loop: true,
        speed: Infinity,
        maxFrames: minutes * 60 * 4,
        throttle: (n) => pacer.throttle(sent + n),
      }),
      failed,
    ]);
    sent += run.frames;
    await Promise.race([pacer.allConsumed(sent), failed]);
    await new Promise((resolve) => setTimeout(resolve, silenceSeconds * 1000));
    measure();
    console.log(
      `admissions: ${((round + 1) * beds).toString().padStart(5)} beds admitted and gone silent: heap ${heap.at(-1)!.toFixed(1)} MB`,
    );
  }
  const wallMinutes = (performance.now() - started) / 60000;
  await stopWorker();
  await producer.disconnect();
  connection.close();
  // from the first round on: the worker's own start-up growth is in every measurement after it
  const rest = heap.slice(1);
  const perAdmission =
    leastSquaresSlope(
      rest.map((_, i) => (i + 1) * beds),
      rest,
    ) * 1024;
  console.log(
    `admissions: ${rounds * beds} admissions (${beds} at a time, ${minutes} min of ECG each, measured ${silenceSeconds} s after each round) through ${connection.description} in ${wallMinutes.toFixed(1)} min, one worker, release after ${releaseSeconds} s: ` +
      `heap ${heap[0]!.toFixed(1)} MB before the first frame, ${heap.at(-1)!.toFixed(1)} MB at the end; ${perAdmission.toFixed(1)} kB per admission (least squares over the rounds)` +
      (silenceSeconds > releaseSeconds ? '' : '; no bed was released before it was measured'),
  );
}

/** Slope of the least-squares line through (x, y). */
function leastSquaresSlope(x: readonly number[], y: readonly number[]): number {
  const n = x.length;
  const mx = x.reduce((a, v) => a + v, 0) / n;
  const my = y.reduce((a, v) => a + v, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (x[i]! - mx) * (y[i]! - my);
    sxx += (x[i]! - mx) ** 2;
  }
  return sxy / sxx;
}

async function main(): Promise<void> {
  const [mode, ...argv] = process.argv.slice(2);
  if (mode === 'capacity-worker') {
    process.send!(await capacityWorker(Number(argv[0]), Number(argv[1]), argv[2]!));
    return;
  }
  const { values } = parseCommandLine('bench:pipeline', argv, {
    seconds: { type: 'string' },
    beds: { type: 'string' },
    records: { type: 'string' },
    model: { type: 'string' },
    hours: { type: 'string' },
    rounds: { type: 'string' },
    minutes: { type: 'string' },
    'release-seconds': { type: 'string' },
    'silence-seconds': { type: 'string' },
  });
  console.log(`bench:pipeline ${mode ?? ''} | backend wasm | ${machineLine()}`);
  const seconds = (fallback: string): number => {
    const s = positiveNumber('bench:pipeline', 'seconds', values.seconds ?? fallback);
    // the detector learns 2 s of signal and a window needs 1 s after its R peak: shorter runs
    // have no beat to time or to rate
    if (s < 5)
      throw new ConfigError(`bench:pipeline: --seconds must be at least 5 for any beat, got "${values.seconds}"`);
    return s;
  };
  if (mode === 'capacity') await capacity(seconds('20'), values.model ?? SHIPPED_MODEL_DIR);
  else if (mode === 'latency')
    await latency(positiveNumber('bench:pipeline', 'beds', values.beds ?? '100', true), seconds('60'));
  else if (mode === 'replay') await replay((values.records ?? '100,101,103,105,106,108,109,111').split(','));
  else if (mode === 'memory') {
    const hours = positiveNumber('bench:pipeline', 'hours', values.hours ?? '2');
    // a trend needs two measurements after the first 10 minutes
    if (hours < 0.5)
      throw new ConfigError(`bench:pipeline: --hours must be at least 0.5 for a trend, got "${values.hours}"`);
    await memory(positiveNumber('bench:pipeline', 'beds', values.beds ?? '10', true), hours);
  } else if (mode === 'admissions') {
    const release = positiveNumber('bench:pipeline', 'release-seconds', values['release-seconds'] ?? '10');
    const stallS = DEFAULT_STALL.afterMs / 1000;
    if (release <= stallS)
      throw new ConfigError(
        `bench:pipeline: --release-seconds must be longer than the ${stallS} s stall time, got "${values['release-seconds']}"`,
      );
    const rounds = positiveNumber('bench:pipeline', 'rounds', values.rounds ?? '10', true);
    if (rounds < 2)
      throw new ConfigError(`bench:pipeline: --rounds must be at least 2 for a trend, got "${values.rounds}"`);
    await admissions(
      positiveNumber('bench:pipeline', 'beds', values.beds ?? '10', true),
      rounds,
      positiveNumber('bench:pipeline', 'minutes', values.minutes ?? '10', true),
      release,
      positiveNumber('bench:pipeline', 'silence-seconds', values['silence-seconds'] ?? '12'),
    );
  } else throw new ConfigError('bench:pipeline: choose capacity, latency, replay, memory or admissions');
}

runMain(main);
