import { Kafka, logLevel, type KafkaConfig, type logCreator } from 'kafkajs';
import { MonitorError } from '../contracts/errors.js';
import type { KafkaClient } from './client.js';
import type { KafkaSecurity } from './security.js';
import { PROBE_EVERY_MS, type ClusterProbe } from './watchdog.js';

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
        commitOffsets: async (offsets) => {
          try {
            await consumer.commitOffsets(offsets);
          } catch (error) {
            throw asCommitRefusal(error);
          }
        },
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

/**
 * Commit refusals that only mean the group is rebalancing (kafkajs calls them not retriable: the
 * same request in the same generation fails again); a later commit, or the partition's next
 * owner resuming from the last commit, gets past them.
 */
const REBALANCING = new Set([
  'REBALANCE_IN_PROGRESS',
  'ILLEGAL_GENERATION',
  'UNKNOWN_MEMBER_ID',
  'NOT_COORDINATOR',
  'NOT_COORDINATOR_FOR_GROUP',
]);

/** A commit the cluster refused. */
export class KafkaCommitError extends MonitorError {}

/** A kafkajs commit failure as a MonitorError, `retriable` where it only means a rebalance (kafkajs wraps the broker's refusal after its retries: its cause too). */
function asCommitRefusal(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  const e = error as { type?: string; cause?: { type?: string } };
  const rebalancing = REBALANCING.has(e.type ?? '') || REBALANCING.has(e.cause?.type ?? '');
  return new KafkaCommitError(`kafka: offset commit refused: ${error.message}`, {
    cause: error,
    retriable: rebalancing,
  });
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

/** How long a connection to a broker may take to open, ms (kafkajs: 1 s, too short for TLS over a WAN). */
const CONNECTION_TIMEOUT_MS = 5_000;

/** kafkajs's options for the brokers at `brokers`, with TLS and SASL where `security` gives them. */
function kafkaOptions(clientId: string, brokers: string[], security: KafkaSecurity | undefined): KafkaConfig {
  return {
    clientId,
    brokers,
    ...(security?.ssl === undefined ? {} : { ssl: security.ssl }),
    ...(security?.sasl === undefined ? {} : { sasl: security.sasl }),
    connectionTimeout: CONNECTION_TIMEOUT_MS,
    logLevel: logLevel.ERROR,
    logCreator: compactLog,
    retry: { retries: 8 },
  };
}

/** A kafkajs client of the brokers at `bootstrap` (errors only: the monitor logs what matters itself). */
export function kafkaAt(clientId: string, brokers: string[], security?: KafkaSecurity): KafkaClient {
  return kafkajsClient(new Kafka(kafkaOptions(clientId, brokers, security)));
}

/**
 * A probe of the cluster for `watchCluster`: the cluster's description through an admin client
 * of its own that gives up at the first failure (the monitor's clients retry for a minute).
 */
export function clusterProbe(clientId: string, brokers: string[], security?: KafkaSecurity): ClusterProbe {
  const admin = new Kafka({
    ...kafkaOptions(`${clientId}-probe`, brokers, security),
    logLevel: logLevel.NOTHING,
    requestTimeout: PROBE_EVERY_MS,
    retry: { retries: 0 },
  }).admin();
  let connected = false;
  return {
    probe: async () => {
      try {
        if (!connected) {
          await admin.connect();
          connected = true;
        }
        await admin.describeCluster();
      } catch (error) {
        connected = false;
        await admin.disconnect().catch(() => undefined); // already failing: the probe's error is what counts
        throw error;
      }
    },
    close: () => admin.disconnect(),
  };
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
