import { kafkajsClient } from '../../stream/kafka/kafkajs.js';
import { Kafka, logLevel } from 'kafkajs';
import { type KafkaClient } from '../../stream/kafka/client.js';
import { startEmbeddedBroker } from '../../stream/kafka/embedded.js';
import { InProcessKafka } from '../../stream/kafka/inProcess.js';

export interface TestTransport {
  readonly name: string;
  start(): { kafka: KafkaClient; close(): void };
}

/** The two brokers the monitor runs on without a cluster: the same tests hold on both. */
export const TRANSPORTS: readonly TestTransport[] = [
  {
    name: 'the librdkafka mock cluster',
    start: () => {
      const broker = startEmbeddedBroker();
      const kafka = new Kafka({ clientId: 'test', brokers: broker.bootstrap.split(','), logLevel: logLevel.NOTHING });
      return { kafka: kafkajsClient(kafka), close: () => broker.close() };
    },
  },
  { name: 'the in-process transport', start: () => ({ kafka: new InProcessKafka(), close: () => undefined }) },
];
