import { EmbeddedBrokerError, startEmbeddedBroker, type EmbeddedBroker } from './embedded.js';
import { InProcessKafka } from './inProcess.js';
import { clusterProbe, kafkaAt, KafkaUnavailableError } from './kafkajs.js';
import { kafkaSecurityFromEnv } from './security.js';
import { lostAfterMsFromEnv, watchCluster, type ClusterWatch } from './watchdog.js';
import type { KafkaClient } from './client.js';

export interface KafkaConnection {
  readonly kafka: KafkaClient;
  /** What the app is connected to, for the log and reports. */
  readonly description: string;
  /** Present when the app started the librdkafka mock cluster (KAFKA_BROKERS unset). */
  readonly embedded: EmbeddedBroker | undefined;
  /** Whether other processes can reach this broker (not so for the in-process transport). */
  readonly shared: boolean;
  /**
   * Watches the cluster (`watchCluster`): `onLost` once it has failed every probe for 20 s,
   * `onBack` when it answers again. A broker in this process cannot be lost: nothing to watch.
   */
  watch(
    handlers: { onLost: (error: KafkaUnavailableError) => void; onBack?: () => void },
    timing?: { readonly everyMs: number; readonly lostAfterMs: number },
  ): ClusterWatch;
  close(): void;
}

const UNWATCHED: ClusterWatch = { stop: () => undefined };

/**
 * KAFKA_BROKERS set: that cluster. Unset: the embedded broker (see embeddedKafka). Said in the log.
 */
export function connectKafka(clientId: string, log: (line: string) => void): KafkaConnection {
  const configured = process.env.KAFKA_BROKERS?.split(',')
    .map((b) => b.trim())
    .filter(Boolean);
  if (configured !== undefined && configured.length > 0) {
    const security = kafkaSecurityFromEnv();
    const configuredLostAfterMs = lostAfterMsFromEnv();
    const description = `cluster ${configured.join(',')} (KAFKA_BROKERS)`;
    log(`kafka: ${description}, ${security.description}`);
    return {
      kafka: kafkaAt(clientId, configured, security),
      description,
      embedded: undefined,
      shared: true,
      watch: ({ onLost, onBack }, timing) => {
        const lostAfterMs = timing?.lostAfterMs ?? configuredLostAfterMs;
        return watchCluster({
          probe: clusterProbe(clientId, configured, security),
          onLost: (error) =>
            onLost(
              new KafkaUnavailableError(
                `kafka: ${description}: unreachable for ${lostAfterMs / 1000} s (${error instanceof Error ? error.message : String(error)})`,
                { cause: error, retriable: true },
              ),
            ),
          ...(onBack === undefined ? {} : { onBack }),
          ...(timing === undefined ? {} : { everyMs: timing.everyMs }),
          lostAfterMs,
        });
      },
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
        watch: () => UNWATCHED,
        close: () => embedded.close(),
      };
    } catch (error) {
      if (!(error instanceof EmbeddedBrokerError)) throw error;
      reason = error.message;
    }
  }
  const description = 'in-process transport (no Kafka protocol; this process only)';
  log(`kafka: ${description}: ${reason}`);
  return {
    kafka: new InProcessKafka(),
    description,
    embedded: undefined,
    shared: false,
    watch: () => UNWATCHED,
    close: () => undefined,
  };
}
