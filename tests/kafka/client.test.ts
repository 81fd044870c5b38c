import { asKafkaFailure, compactKafkaLog, KafkaUnavailableError } from '../../stream/kafka/kafkajs.js';
import { Kafka, logLevel } from 'kafkajs';
import { describe, expect, it } from 'vitest';

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

describe("kafkajs's log", () => {
  const entry = (namespace: string, message: string) => ({
    namespace,
    level: logLevel.ERROR,
    label: 'ERROR',
    log: { timestamp: '', message },
  });

  it('prints each line once per 30 s and then says how often it came in between', () => {
    const lines: string[] = [];
    let clock = 0;
    const log = compactKafkaLog(
      (l) => lines.push(l),
      () => clock,
    )(logLevel.ERROR);
    for (let retry = 0; retry < 10; retry++, clock += 1000) {
      log(entry('Connection', 'Connection error: connect ECONNREFUSED 127.0.0.1:1'));
      log(entry('BrokerPool', 'Failed to connect to seed broker'));
    }
    expect(lines).toEqual([
      'kafka: Connection: Connection error: connect ECONNREFUSED 127.0.0.1:1\n',
      'kafka: BrokerPool: Failed to connect to seed broker\n',
    ]);
    clock = 31_000;
    log(entry('Connection', 'Connection error: connect ECONNREFUSED 127.0.0.1:1'));
    expect(lines.at(-1)).toBe(
      'kafka: Connection: Connection error: connect ECONNREFUSED 127.0.0.1:1 (repeated 9 times in the 31 s before)\n',
    );
  });

  it('says nothing more once the command has failed and said why', () => {
    const lines: string[] = [];
    const log = compactKafkaLog((l) => lines.push(l))(logLevel.ERROR);
    const before = process.exitCode;
    try {
      process.exitCode = 2;
      log(entry('Connection', 'Connection error'));
    } finally {
      process.exitCode = before;
    }
    expect(lines).toEqual([]);
    log(entry('Connection', 'Connection error'));
    expect(lines).toHaveLength(1);
  });
});
