import { Kafka, logLevel } from 'kafkajs';
import { startEmbeddedBroker, type EmbeddedBroker } from './embedded.js';

export interface KafkaConnection {
  readonly kafka: Kafka;
  readonly brokers: string[];
  /** Present when the app started its own broker (KAFKA_BROKERS unset). */
  readonly embedded: EmbeddedBroker | undefined;
  close(): void;
}

/** KAFKA_BROKERS set: that cluster. Unset: the embedded librdkafka mock cluster, announced in the log. */
export function connectKafka(clientId: string, log: (line: string) => void): KafkaConnection {
  const configured = process.env.KAFKA_BROKERS?.split(',')
    .map((b) => b.trim())
    .filter(Boolean);
  let embedded: EmbeddedBroker | undefined;
  let brokers: string[];
  if (configured !== undefined && configured.length > 0) {
    brokers = configured;
    log(`kafka: cluster ${brokers.join(',')} (KAFKA_BROKERS)`);
  } else {
    embedded = startEmbeddedBroker();
    brokers = embedded.bootstrap.split(',');
    log(`kafka: embedded broker (librdkafka ${embedded.librdkafkaVersion} mock cluster) at ${embedded.bootstrap}`);
  }
  const kafka = new Kafka({ clientId, brokers, logLevel: logLevel.ERROR, retry: { retries: 8 } });
  return { kafka, brokers, embedded, close: () => embedded?.close() };
}
