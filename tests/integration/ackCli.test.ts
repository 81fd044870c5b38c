import { randomBytes } from 'node:crypto';
import { AckKeyRing } from '../../stream/contracts/ackSignature.js';
import { kafkajsClient } from '../../stream/kafka/kafkajs.js';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { startEmbeddedBroker } from '../../stream/kafka/embedded.js';
import { ackCodec } from '../../stream/contracts/messages.js';
import { TOPICS } from '../../stream/contracts/topics.js';
import { runScript } from '../helpers/cli.js';
import { followTopic, waitFor } from '../helpers/kafkaTopics.js';

const ack = (args: readonly string[], env: NodeJS.ProcessEnv = {}) => runScript('apps/ack.ts', args, env);
const KEY = `nurses-2026:${randomBytes(32).toString('base64')}`;

describe('npm run ack', () => {
  it('refuses what is not an acknowledgement with one line and exit code 2, before it connects', async () => {
    const cases: [string[], string][] = [
      [[], 'error: ack: --alert ID is required'],
      [
        ['--alert', 'bed-01/hiccup/3'],
        'error: ack: "bed-01/hiccup/3" is not an alarm id (bed/type/onset, as in ecg.alerts)',
      ],
      [['--alert', 'bed-01/couplet/3', '--by', ' '], 'error: ack: --by must name who acknowledges the alarm'],
      [
        ['--alert', 'bed-01/couplet/3'],
        "error: ack: set KAFKA_BROKERS to the cluster the pipeline runs on (npm start prints its embedded broker's address)",
      ],
      [
        ['--alert', 'bed-01/couplet/3', '--by', 'nurse'],
        'error: ack: set ECG_ACK_KEYS (or ECG_ACK_KEYS_FILE) to the acknowledgement keys the pipeline workers hold: workers ignore unsigned acknowledgements',
      ],
    ];
    for (const [args, line] of cases) {
      const run = await ack(args, args.includes('--by') ? { KAFKA_BROKERS: '127.0.0.1:1', ECG_ACK_KEYS: '' } : {});
      expect(run.code).toBe(2);
      expect(run.stderr.split('\n')[0]).toBe(line);
    }
  });

  describe('against the embedded broker', () => {
    const broker = startEmbeddedBroker();
    afterAll(() => broker.close());

    it("publishes the acknowledgement to ecg.acks, for the alarm's bed, signed with the first key", async () => {
      const run = await ack(['--alert', 'ward/2/couplet/1380', '--by', 'nurse 7'], {
        KAFKA_BROKERS: broker.bootstrap,
        ECG_ACK_KEYS: KEY,
      });
      expect(run.stderr).toMatch(/ack: the acknowledgement of ward\/2\/couplet\/1380 by nurse 7 is in ecg\.acks\n$/);
      expect(run.code).toBe(0);
      const kafka = kafkajsClient(
        new Kafka({ clientId: 'test', brokers: broker.bootstrap.split(','), logLevel: logLevel.NOTHING }),
      );
      const acks = await followTopic(kafka, TOPICS.acks, (b) => ackCodec.decode(b));
      try {
        await waitFor(
          () => acks.items.length > 0,
          30_000,
          () => 'no acknowledgement in ecg.acks',
        );
      } finally {
        await acks.stop();
      }
      expect(acks.items).toEqual([
        {
          v: 2,
          bedId: 'ward/2',
          alertId: 'ward/2/couplet/1380',
          by: 'nurse 7',
          atMs: expect.any(Number),
          nonce: expect.any(String),
          keyId: 'nurses-2026',
          sig: expect.any(String),
        },
      ]);
      expect(AckKeyRing.parse(KEY, 'test').verify(acks.items[0]!)).toBe('valid');
    });
  });
});
