import { EmbeddedBrokerError, startEmbeddedBroker, type EmbeddedBroker } from './embedded.js';
import { InProcessKafka } from './inProcess.js';
import { kafkaAt } from './kafkajs.js';
import type { KafkaClient } from './client.js';

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
