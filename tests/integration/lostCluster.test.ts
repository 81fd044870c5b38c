import { describe, expect, it } from 'vitest';
import { runMonitor } from '../helpers/cli.js';

describe('a Kafka cluster that cannot be reached', () => {
  it('ends npm run pipeline with exit 2 and one last line that names the cluster, after its retries, counted', async () => {
    // nothing listens on port 1: kafkajs retries 8 times (about 45 s) before it gives up, but
    // not under vitest's NODE_ENV=test
    const run = await runMonitor(['pipeline'], { KAFKA_BROKERS: '127.0.0.1:1', NODE_ENV: 'production' }, 110_000);
    expect(run.code).toBe(2);
    // and then it ends: it used to wait another minute for clients retrying in the background
    expect(run.afterLastErrorMs).toBeLessThan(10_000);
    const lines = run.stderr.trimEnd().split('\n');
    expect(lines.at(-1)).toMatch(/^error: kafka: cluster 127\.0\.0\.1:1 \(KAFKA_BROKERS\): .*ECONNREFUSED/);
    // each retry logs two kafkajs lines (about 90 in all before the counting); repeated within
    // 30 s they are counted, not printed (whether a retry falls after 30 s depends on kafkajs's
    // randomised backoff, so the count itself is checked in tests/kafka/client.test.ts)
    const retries = lines.filter((l) => l.startsWith('kafka: Connection:') || l.startsWith('kafka: BrokerPool:'));
    expect(retries.length).toBeGreaterThan(0);
    expect(retries.length).toBeLessThanOrEqual(6);
  }, 130_000);
});
