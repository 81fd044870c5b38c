import { connectKafka, type KafkaConnection } from '../stream/kafka/connection.js';
import { asKafkaFailure } from '../stream/kafka/kafkajs.js';
import type { ClusterWatch } from '../stream/kafka/watchdog.js';
import { MalformedMessages } from '../stream/kafka/malformed.js';
import { timer } from 'rxjs';
import { continuedBeds, publishReplay } from '../simulators/publish.js';
import { loadBeds, type LoadedBed, type ReplayBed } from '../simulators/replay.js';
import { parseSynthEvents, SYNTH_EVENT_KINDS, synthBeds } from '../simulators/synth.js';
import type { RunningGateway } from '../gateway/gateway.js';
import { parseCommandLine, positiveNumber, runMain, speedOption } from './cli.js';
import { gatewayUsers, serveDashboard } from './dashboard.js';
import { AckKeyRing } from '../stream/contracts/ackSignature.js';
import { ConfigError } from '../stream/contracts/errors.js';
import { DEFAULT_CHECKPOINT, metadataMaxBytesFromEnv, type CheckpointConfig } from '../stream/kafka/checkpoint.js';
import { TOPICS } from '../stream/contracts/topics.js';
import { initBackend } from '../stream/model/backend.js';
import { BeatClassifier } from '../stream/model/inference.js';
import { SHIPPED_MODEL_DIR } from '../stream/model/shipped.js';
import { modelClassifier } from '../stream/pipeline/classifier.js';
import { REPLAY_DRAIN_MS, type WardEvent } from '../stream/pipeline/ward.js';
import { WardSummary } from './wardSummary.js';
import { runPipelineWorker } from '../stream/pipeline/worker.js';
import { mitdbDir, selectRecords } from '../stream/wfdb/index.js';

/**
 * The ward `npm start` replays: PVC-rich records (119, 200, 208, 233), ventricular tachycardia
 * (233 at 28 s, 200 at 109 s, 203 at 46 s) and a quiet one (100).
 */
const DEFAULT_WARD = '100,119,200,203,208,233';

const USAGE = `npm start -- [options]          embedded broker (or KAFKA_BROKERS) + replayed beds + pipeline, with a ward summary
npm run simulate -- [options]   replay records into ecg.samples / ecg.reference of KAFKA_BROKERS
npm run pipeline -- [options]   a pipeline worker: ecg.samples -> ecg.beats + ecg.alerts (consumer group ecg-pipeline)
  --records LIST      records to replay, one bed each (default ${DEFAULT_WARD} unless --synth is given)
  --synth N           N synthetic beds (McSharry-style ECG with HRV and noise), after the records
  --events SPEC       events of the synthetic beds: kind@s[:size],... or "demo" (default demo); kinds
                      ${SYNTH_EVENT_KINDS.join(', ')}
  --synth-duration S  length of a synthetic bed's recording before it ends or loops (default 300)
  --speed X           replay speed, x real time (default 1; "max" = as fast as possible)
  --loop              replay records in a loop
  --duration S        stop after S seconds of wall time
  --model DIR         classifier (default ${SHIPPED_MODEL_DIR})
  --summary-every S   ward summary period, s (default 5)
  --port N            start: the central station's port (default 8080; 0: any free one)
  --host ADDR         start: the address it listens on (default 127.0.0.1)
Environment: KAFKA_BROKERS (a cluster; unset, the embedded broker), KAFKA_OFFSET_METADATA_MAX_BYTES (the
cluster's offset.metadata.max.bytes where it is not Kafka's default 4096; start and pipeline), ECG_ACK_KEYS or
ECG_ACK_KEYS_FILE (the keys acknowledgements are signed with; start makes one when unset), KAFKA_SSL*,
KAFKA_SASL_* (docs/operations.md)`;

const log = (line: string): void => void process.stderr.write(`${line}\n`);

function printSummary(ward: WardSummary, ...counters: MalformedMessages[]): void {
  const bad = counters.flatMap((c) => Object.entries(c.snapshot()));
  process.stdout.write(
    `ward @ ${new Date().toISOString()}\n${ward.lines().join('\n')}\n${bad.length > 0 ? `  malformed: ${JSON.stringify(Object.fromEntries(bad))}\n` : ''}`,
  );
}

async function simulate(
  command: string,
  connection: KafkaConnection,
  beds: readonly LoadedBed[],
  speed: number,
  loop: boolean,
  stop: AbortSignal,
): Promise<void> {
  const continued = await continuedBeds(connection.kafka, beds, new MalformedMessages(log), stop);
  for (const { bed, start } of continued)
    if (start !== undefined)
      log(
        `${command}: ${bed.bedId} goes on from seq ${start.seq}, sample ${start.sample}, where its stream in ${TOPICS.samples} ends`,
      );
  const producer = connection.kafka.producer();
  await producer.connect();
  try {
    const { frames } = await publishReplay(producer, continued, { frameMs: 250, loop, speed, signal: stop });
    log(`${command}: ${frames} frames published for ${beds.length} bed${beds.length === 1 ? '' : 's'}`);
  } finally {
    await producer.disconnect();
  }
}

/** The backend and the classifier, loaded before anything starts: a bad --model ends the run at once. */
async function loadClassifier(modelDir: string): Promise<BeatClassifier> {
  const backend = await initBackend();
  const classifier = await BeatClassifier.load(modelDir);
  log(`pipeline: model ${classifier.modelId} on ${backend}`);
  return classifier;
}

async function pipeline(
  connection: KafkaConnection,
  classifier: BeatClassifier,
  stop: AbortSignal,
  summaryEvery: number,
  checkpoint: CheckpointConfig,
  ackKeys: AckKeyRing | undefined,
): Promise<void> {
  const modelId = classifier.modelId;
  const malformed = new MalformedMessages(log);
  const rejections = new MalformedMessages(log, 'setting aside a frame');
  const ward = new WardSummary();
  const pending: WardEvent[] = [];
  const summaryTimer = setInterval(() => {
    ward.add(pending.splice(0));
    printSummary(ward, malformed, rejections);
  }, summaryEvery * 1000);
  try {
    await runPipelineWorker({
      kafka: connection.kafka,
      classify: modelClassifier(classifier),
      modelId,
      stop,
      malformed,
      rejections,
      ackKeys,
      checkpoint,
      warn: log,
      onEvent: (e) => pending.push(e),
      onAssigned: (partitions) =>
        log(
          partitions.length === 0
            ? `${TOPICS.samples}: no partition assigned (more workers than partitions); standing by`
            : `${TOPICS.samples}: consuming partitions ${partitions.join(', ')}`,
        ),
    });
  } finally {
    clearInterval(summaryTimer);
    ward.add(pending.splice(0));
    printSummary(ward, malformed, rejections);
  }
}

/**
 * The acknowledgement keys (ECG_ACK_KEYS): a worker applies only acknowledgements signed with one.
 * `npm start` without them makes one for its own process and prints it for `npm run ack`.
 */
function acknowledgementKeys(command: string): AckKeyRing | undefined {
  const configured = AckKeyRing.fromEnv();
  if (configured !== undefined || command === 'simulate') return configured;
  if (command === 'start') {
    const generated = AckKeyRing.generated();
    const key = generated.keys[0]!;
    log(`start: acknowledgement key for npm run ack: ECG_ACK_KEYS=${key.id}:${key.secret.toString('base64')}`);
    return generated;
  }
  log('pipeline: no ECG_ACK_KEYS (or ECG_ACK_KEYS_FILE): every acknowledgement in ecg.acks will be ignored');
  return undefined;
}

/** The replayed records (one bed each, bed-01...) and the synthetic beds (synth-01...). */
async function wardBeds(
  command: string,
  values: {
    records?: string;
    synth?: string;
    events?: string;
    'synth-duration'?: string;
  },
): Promise<ReplayBed[]> {
  const synthCount = Number(values.synth ?? '0');
  if (!(Number.isInteger(synthCount) && synthCount >= 0))
    throw new ConfigError(`${command}: --synth must be a whole number, got "${values.synth}"`);
  const durationS = Number(values['synth-duration'] ?? '300');
  if (!(durationS > 10)) throw new ConfigError(`${command}: --synth-duration must be more than 10 s`);
  if (values.records?.trim() === '')
    throw new ConfigError(`${command}: --records names no record (give a list such as 100,208)`);
  const recordList = values.records ?? (synthCount > 0 ? '' : DEFAULT_WARD);
  const records = recordList === '' ? [] : await selectRecords(mitdbDir(), recordList, command);
  return [
    ...records.map((record, i) => ({ bedId: `bed-${String(i + 1).padStart(2, '0')}`, record })),
    ...synthBeds(synthCount, { durationS, events: parseSynthEvents(values.events ?? 'demo') }),
  ];
}

/**
 * The beds whose records can be read. A missing or corrupt record costs its own bed only: it is
 * named with the reason and the ward goes on without it (the command then ends with status 1).
 */
async function readableBeds(
  command: string,
  beds: readonly ReplayBed[],
): Promise<{ loaded: LoadedBed[]; leftOut: number }> {
  const { loaded, unreadable } = await loadBeds(mitdbDir(), beds);
  for (const { bed, source, reason } of unreadable) log(`${command}: ${bed.bedId} (${source}) left out: ${reason}`);
  if (loaded.length === 0 && unreadable.length > 0)
    throw new ConfigError(`${command}: none of the beds' records could be read`);
  return { loaded, leftOut: unreadable.length };
}

async function main(): Promise<void> {
  const [command, ...argv] = process.argv.slice(2);
  if (command !== 'start' && command !== 'simulate' && command !== 'pipeline') {
    throw new ConfigError(`unknown command "${command ?? ''}": use start, simulate or pipeline\n${USAGE}`);
  }
  const { values } = parseCommandLine(
    command,
    argv,
    {
      records: { type: 'string' },
      speed: { type: 'string' },
      loop: { type: 'boolean' },
      duration: { type: 'string' },
      model: { type: 'string' },
      'summary-every': { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      synth: { type: 'string' },
      events: { type: 'string' },
      'synth-duration': { type: 'string' },
    },
    USAGE,
  );
  const speed = speedOption(command, values.speed ?? '1');
  const port =
    values.port === undefined
      ? undefined
      : values.port === '0'
        ? 0
        : positiveNumber(command, 'port', values.port, true);
  const summaryEvery = positiveNumber(command, 'summary-every', values['summary-every'] ?? '5');
  const durationS = values.duration === undefined ? undefined : positiveNumber(command, 'duration', values.duration);
  const checkpoint: CheckpointConfig =
    command === 'simulate'
      ? DEFAULT_CHECKPOINT
      : { ...DEFAULT_CHECKPOINT, metadataMaxBytes: metadataMaxBytesFromEnv() };
  const { loaded: beds, leftOut } =
    command === 'pipeline' ? { loaded: [], leftOut: 0 } : await readableBeds(command, await wardBeds(command, values));

  const stop = new AbortController();
  process.once('SIGINT', () => stop.abort());
  process.once('SIGTERM', () => stop.abort());
  if (durationS !== undefined) timer(durationS * 1000).subscribe(() => stop.abort());
  const classifier = command === 'simulate' ? undefined : await loadClassifier(values.model ?? SHIPPED_MODEL_DIR);
  const ackKeys = acknowledgementKeys(command);
  const connection = connectKafka(`ecg-${command}`, log);
  if (command !== 'start' && !connection.shared) {
    connection.close();
    throw new ConfigError(
      `${command} runs beside other processes, which cannot reach the in-process transport: set KAFKA_BROKERS, ` +
        'or install librdkafka1 for the embedded broker, or run everything in one process with npm start',
    );
  }
  let gateway: RunningGateway | undefined;
  // a cluster lost for 20 s ends the command then, whatever its clients' retries are doing
  let watch: ClusterWatch | undefined;
  const lost = new Promise<never>((_, reject) => {
    watch = connection.watch({
      onLost: (error) => {
        stop.abort();
        reject(error);
      },
    });
  });
  lost.catch(() => undefined); // raced below; reported from there
  const work = async (): Promise<void> => {
    if (classifier === undefined) await simulate(command, connection, beds, speed, values.loop === true, stop.signal);
    else if (command === 'pipeline')
      await pipeline(connection, classifier, stop.signal, summaryEvery, checkpoint, ackKeys);
    else {
      log(`start: ${beds.map((b) => `${b.bed.bedId} = ${b.source}`).join(', ')} at ${speed}x`);
      const { users, devToken } = gatewayUsers(undefined);
      // the worker joins its group while the station starts: both wait on the broker
      const worker = pipeline(connection, classifier, stop.signal, summaryEvery, checkpoint, ackKeys);
      // a worker that fails (a lost broker) ends the replay too; its error is reported below
      worker.catch(() => stop.abort());
      try {
        gateway = await serveDashboard({
          connection,
          ackKeys,
          users,
          devToken,
          // the embedded broker's topics live as long as this process: so does the history
          dbPath: ':memory:',
          port,
          host: values.host ?? '127.0.0.1',
        });
        await simulate(command, connection, beds, speed, values.loop === true, stop.signal);
      } catch (error) {
        stop.abort();
        await worker.catch(() => undefined);
        throw error;
      }
      if (values.duration === undefined && values.loop !== true) {
        // replay finished: give the pipeline time to drain, then stop
        await new Promise((resolve) => setTimeout(resolve, REPLAY_DRAIN_MS));
        stop.abort();
      }
      await worker;
    }
  };
  try {
    await Promise.race([work(), lost]);
  } catch (error) {
    throw asKafkaFailure(error, connection.description);
  } finally {
    watch?.stop();
    await gateway?.close();
    connection.close();
  }
  // the ward ran without the beds it could not read (said at the start): not a clean run
  if (leftOut > 0) process.exitCode = 1;
}

runMain(main);
