import { Kafka, logLevel } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { asKafkaFailure, KafkaUnavailableError } from '../../stream/kafka/client.js';

describe('a cluster that cannot be reached', () => {
  it("ends a command with one line naming the cluster and kafkajs's reason", async () => {
    // nothing listens on port 1; no retries, so kafkajs gives up at once
    const kafka = new Kafka({
      clientId: 'test',
      brokers: ['127.0.0.1:1'],
      retry: { retries: 0 },
      logLevel: logLevel.NOTHING,
    });
    const error = await kafka
      .producer()
      .connect()
      .catch((e: unknown) => e);
    const failure = asKafkaFailure(error, 'cluster 127.0.0.1:1 (KAFKA_BROKERS)');
    expect(failure).toBeInstanceOf(KafkaUnavailableError);
    expect((failure as Error).message).toMatch(
      /^kafka: cluster 127\.0\.0\.1:1 \(KAFKA_BROKERS\): .*ECONNREFUSED 127\.0\.0\.1:1$/,
    );
    expect((failure as Error).cause).toBe(error);
  });

  it('leaves errors that are not kafkajs errors as they are', () => {
    const other = new RangeError('not a broker problem');
    expect(asKafkaFailure(other, 'cluster x')).toBe(other);
  });
});
