import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { startEmbeddedBroker } from '../../stream/kafka/embedded.js';
import { runMonitor, runScript } from '../helpers/cli.js';

/** Every command states a lost cluster within this (LOST_AFTER_MS is 20 s, probed every 5 s). */
const STATED_WITHIN_MS = 30_000;

describe('a Kafka cluster that cannot be reached', () => {
  it('ends npm run pipeline with exit 2 and one last line that names the cluster, within 30 s', async () => {
    const started = Date.now();
    // nothing listens on port 1
    const run = await runMonitor(['pipeline'], { KAFKA_BROKERS: '127.0.0.1:1', NODE_ENV: 'production' }, 110_000);
    const took = Date.now() - started - run.afterLastErrorMs;
    expect(run.code).toBe(2);
    // and then it ends: it does not wait for clients retrying in the background
    expect(run.afterLastErrorMs).toBeLessThan(10_000);
    const lines = run.stderr.trimEnd().split('\n');
    expect(lines.at(-1)).toMatch(
      /^error: kafka: cluster 127\.0\.0\.1:1 \(KAFKA_BROKERS\): unreachable for 20 s \(.*ECONNREFUSED/,
    );
    // the process starts (a few seconds: the model loads first) and states it within 30 s of that
    expect(took).toBeLessThan(STATED_WITHIN_MS + 10_000);
    // kafkajs's retries log a line each; repeated within 30 s they are counted, not printed
    const retries = lines.filter((l) => l.startsWith('kafka: Connection:') || l.startsWith('kafka: BrokerPool:'));
    expect(retries.length).toBeLessThanOrEqual(6);
  }, 130_000);

  it('npm run ack gives up as soon, with the time an operator set', async () => {
    const started = Date.now();
    const run = await runScript(
      'apps/ack.ts',
      ['--alert', 'bed-01/couplet/3', '--by', 'nurse'],
      {
        KAFKA_BROKERS: '127.0.0.1:1',
        ECG_ACK_KEYS: `k:${Buffer.alloc(32, 7).toString('base64')}`,
        NODE_ENV: 'production',
        // as an operator may set it: the same watch, shorter (the first test shows the default)
        KAFKA_LOST_AFTER_MS: '5000',
      },
      90_000,
    );
    expect(run.code).toBe(2);
    expect(run.stderr.trimEnd().split('\n').at(-1)).toMatch(
      /^error: kafka: cluster 127\.0\.0\.1:1 .*unreachable for 5 s/,
    );
    expect(Date.now() - started - run.afterLastErrorMs).toBeLessThan(15_000);
  }, 100_000);

  it('a worker whose broker goes away states it within the time set, and ends', async () => {
    const broker = startEmbeddedBroker();
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      TFJS_BACKEND: 'wasm',
      KAFKA_BROKERS: broker.bootstrap,
      NODE_ENV: 'production',
      KAFKA_LOST_AFTER_MS: '5000',
    };
    delete env.KAFKA_TRANSPORT;
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'apps/monitor.ts', 'pipeline', '--summary-every', '600'],
      {
        env,
        timeout: 120_000,
        killSignal: 'SIGKILL',
      },
    );
    let stderr = '';
    let closedAt = 0;
    let statedAt = 0;
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (closedAt === 0 && /ecg\.samples: consuming partitions/.test(stderr)) {
        closedAt = Date.now();
        broker.close();
      }
      if (statedAt === 0 && closedAt > 0 && /error: kafka: .*unreachable/.test(stderr)) statedAt = Date.now();
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(closedAt, stderr).toBeGreaterThan(0);
    expect(code, stderr).toBe(2);
    expect(statedAt - closedAt).toBeLessThan(5_000 + 5_000);
  }, 130_000);
});
