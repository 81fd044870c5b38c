import { Kafka, logLevel, type logCreator } from 'kafkajs';
import { MonitorError } from '../errors.js';
import { EmbeddedBrokerError, startEmbeddedBroker, type EmbeddedBroker } from './embedded.js';
import { InProcessKafka } from './inProcess.js';

/**
 * The part of a Kafka client the monitor uses. Two implementations: kafkajs against a cluster
 * (KAFKA_BROKERS, or the embedded librdkafka mock cluster), and the in-process transport for
 * machines without librdkafka. Offsets are only ever committed explicitly.
 */
export interface KafkaClient {
  producer(): KafkaProducer;
  consumer(config: ConsumerOptions): KafkaConsumer;
  admin(): KafkaAdmin;
}

export interface ConsumerOptions {
  readonly groupId: string;
  /** Longest a fetch waits for new messages, ms. */
  readonly maxWaitTimeInMs?: number;
  readonly sessionTimeout?: number;
  readonly heartbeatInterval?: number;
}

export interface OutgoingMessage {
  readonly key: string;
  readonly value: Buffer;
}

export interface KafkaProducer {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  send(record: { topic: string; messages: OutgoingMessage[] }): Promise<unknown>;
  sendBatch(batch: { topicMessages: { topic: string; messages: OutgoingMessage[] }[] }): Promise<unknown>;
}

export interface FetchedMessage {
  readonly offset: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
}

/** One partition's messages, with kafkajs's eachBatch controls. */
export interface FetchedBatch {
  readonly topic: string;
  readonly partition: number;
  readonly messages: FetchedMessage[];
  /** Marks a message processed: the next fetch of this partition starts after it. */
  resolveOffset(offset: string): void;
  heartbeat(): Promise<void>;
  isRunning(): boolean;
  /** The partition was sought or reassigned since this batch was fetched. */
  isStale(): boolean;
}

export interface ConsumerRun {
  /** Whether a batch counts as processed once `eachBatch` returns (default true). */
  readonly autoResolve?: boolean;
  readonly partitionsConsumedConcurrently?: number;
  readonly eachBatch: (batch: FetchedBatch) => Promise<void>;
}

export interface PartitionOffset {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly metadata?: string | null;
}

export interface KafkaConsumer {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  subscribe(subscription: { topic: string; fromBeginning?: boolean }): Promise<void>;
  run(run: ConsumerRun): Promise<void>;
  commitOffsets(offsets: PartitionOffset[]): Promise<void>;
  seek(position: { topic: string; partition: number; offset: string }): void;
  /**
   * Called after every group join, before the first batch of the new assignment, with the
   * partitions assigned (of every subscribed topic); returns its remover.
   */
  onGroupJoin(listener: (partitions: number[]) => void): () => void;
}

export interface KafkaAdmin {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  fetchOffsets(query: {
    groupId: string;
    topics: string[];
  }): Promise<{ topic: string; partitions: { partition: number; offset: string; metadata: string | null }[] }[]>;
  fetchTopicOffsets(topic: string): Promise<{ partition: number; low: string; high: string }[]>;
}

/**
 * Longest a fetch waits for new messages, ms: kafkajs's default 5 s long poll would be added to
 * every beat's latency by brokers that answer at the deadline (librdkafka's mock cluster does).
 */
export const FETCH_WAIT_MS = 50;

/** kafkajs behind the monitor's client interface. */
export function kafkajsClient(kafka: Kafka): KafkaClient {
  return {
    producer: () => kafka.producer(),
    admin: () => kafka.admin(),
    consumer: (options) => {
      const consumer = kafka.consumer(options);
      return {
        connect: () => consumer.connect(),
        disconnect: () => consumer.disconnect(),
        subscribe: (subscription) => consumer.subscribe(subscription),
        run: (run) =>
          consumer.run({
            autoCommit: false,
            eachBatchAutoResolve: run.autoResolve ?? true,
            partitionsConsumedConcurrently: run.partitionsConsumedConcurrently ?? 1,
            eachBatch: ({ batch, resolveOffset, heartbeat, isRunning, isStale }) =>
              run.eachBatch({
                topic: batch.topic,
                partition: batch.partition,
                messages: batch.messages,
                resolveOffset,
                heartbeat,
                isRunning,
                isStale,
              }),
          }),
        commitOffsets: (offsets) => consumer.commitOffsets(offsets),
        seek: (position) => consumer.seek(position),
        onGroupJoin: (listener) =>
          consumer.on(consumer.events.GROUP_JOIN, ({ payload }) =>
            listener(
              Object.values(payload.memberAssignment)
                .flat()
                .sort((a, b) => a - b),
            ),
          ),
      };
    },
  };
}

/** A kafkajs line repeated within this long is counted, not printed again. */
const REPEAT_WINDOW_MS = 30_000;
const MAX_REMEMBERED = 256;

/**
 * kafkajs's errors as one line each (its default logger prints a JSON object with a stack for
 * every retry) and, as syslog does, a line repeated within 30 s only counted: a broker that
 * stays away would otherwise fill the terminal with two lines per retry, over the one that
 * says what happened. Once the command has failed and said why (`process.exitCode` set), the
 * retries of clients still winding down say nothing new and are not printed.
 */
export function compactKafkaLog(
  write: (line: string) => void = (line) => void process.stderr.write(line),
  now: () => number = Date.now,
): logCreator {
  const seen = new Map<string, { printedMs: number; repeats: number }>();
  return () => (entry) => {
    if (process.exitCode !== undefined && process.exitCode !== 0) return;
    const line = `kafka: ${entry.namespace}: ${entry.log.message}`;
    const last = seen.get(line);
    if (last !== undefined && now() - last.printedMs < REPEAT_WINDOW_MS) {
      last.repeats++;
      return;
    }
    const repeats =
      last === undefined || last.repeats === 0
        ? ''
        : ` (repeated ${last.repeats} times in the ${Math.round((now() - last.printedMs) / 1000)} s before)`;
    // lines that name a changing broker or partition must not pile up
    if (seen.size >= MAX_REMEMBERED)
      for (const [k, v] of seen) if (now() - v.printedMs >= REPEAT_WINDOW_MS) seen.delete(k);
    seen.set(line, { printedMs: now(), repeats: 0 });
    write(`${line}${repeats}\n`);
  };
}

const compactLog = compactKafkaLog();

/** A kafkajs client of the brokers at `bootstrap` (errors only: the monitor logs what matters itself). */
export function kafkaAt(clientId: string, brokers: string[]): KafkaClient {
  return kafkajsClient(
    new Kafka({ clientId, brokers, logLevel: logLevel.ERROR, logCreator: compactLog, retry: { retries: 8 } }),
  );
}

/** The cluster failed a command after kafkajs's retries: unreachable, or it refused a request. */
export class KafkaUnavailableError extends MonitorError {}

/**
 * A kafkajs error that ends a command, as a MonitorError naming the cluster (one line from the
 * CLI, not kafkajs's stack); other errors unchanged.
 */
export function asKafkaFailure(error: unknown, description: string): unknown {
  if (!(error instanceof Error) || !error.name.startsWith('KafkaJS')) return error;
  return new KafkaUnavailableError(`kafka: ${description}: ${error.message}`, {
    cause: error,
    retriable: (error as { retriable?: boolean }).retriable === true,
  });
}

export interface KafkaConnection {
  readonly kafka: KafkaClient;
  /** What the app is connected to, for the log and reports. */
  readonly description: string;
  /** Present when the app started the librdkafka mock cluster (KAFKA_BROKERS unset). */
  readonly embedded: EmbeddedBroker | undefined;
  /** Whether other processes can reach this broker (not so for the in-process transport). */
  readonly shared: boolean;
  close(): void;
}

/**
 * KAFKA_BROKERS set: that cluster. Unset: the embedded broker (see embeddedKafka). Said in the log.
 */
export function connectKafka(clientId: string, log: (line: string) => void): KafkaConnection {
  const configured = process.env.KAFKA_BROKERS?.split(',')
    .map((b) => b.trim())
    .filter(Boolean);
  if (configured !== undefined && configured.length > 0) {
    const description = `cluster ${configured.join(',')} (KAFKA_BROKERS)`;
    log(`kafka: ${description}`);
    return {
      kafka: kafkaAt(clientId, configured),
      description,
      embedded: undefined,
      shared: true,
      close: () => undefined,
    };
  }
  return embeddedKafka(clientId, log);
}

/**
 * A broker of this process's own: librdkafka's mock cluster, or without librdkafka (or with
 * KAFKA_TRANSPORT=in-process) the in-process transport. Said in the log.
 */
export function embeddedKafka(clientId: string, log: (line: string) => void): KafkaConnection {
  let reason = 'KAFKA_TRANSPORT=in-process';
  if (process.env.KAFKA_TRANSPORT !== 'in-process') {
    try {
      const embedded = startEmbeddedBroker();
      const description = `embedded broker (librdkafka ${embedded.librdkafkaVersion} mock cluster) at ${embedded.bootstrap}`;
      log(`kafka: ${description}`);
      return {
        kafka: kafkaAt(clientId, embedded.bootstrap.split(',')),
        description,
        embedded,
        shared: true,
        close: () => embedded.close(),
      };
    } catch (error) {
      if (!(error instanceof EmbeddedBrokerError)) throw error;
      reason = error.message;
    }
  }
  const description = 'in-process transport (no Kafka protocol; this process only)';
  log(`kafka: ${description}: ${reason}`);
  return { kafka: new InProcessKafka(), description, embedded: undefined, shared: false, close: () => undefined };
}
