import { connectKafka } from '../stream/kafka/connection.js';
import { asKafkaFailure } from '../stream/kafka/kafkajs.js';
import { AckKeyRing } from '../stream/contracts/ackSignature.js';
import { bedOfAlarmId } from '../stream/contracts/alarms.js';
import { parseCommandLine, runMain } from './cli.js';
import { ConfigError } from '../stream/contracts/errors.js';
import { ackCodec } from '../stream/contracts/messages.js';
import type { ClusterWatch } from '../stream/kafka/watchdog.js';
import { TOPICS } from '../stream/contracts/topics.js';

const USAGE = `KAFKA_BROKERS=host:port ECG_ACK_KEYS=id:secret npm run ack -- --alert ID [--by NAME]
Acknowledges an alarm: publishes a signed acknowledgement to ${TOPICS.acks}, and the pipeline worker
monitoring the bed publishes the alarm again in ${TOPICS.alerts}, acknowledged. ID is the alert's id
(bed/type/onset).
  --alert ID    the alarm to acknowledge
  --by NAME     who acknowledges it, for the audit trail (default: $USER, else "cli")
KAFKA_BROKERS: the cluster, or the address npm start prints for its embedded broker.
ECG_ACK_KEYS (or ECG_ACK_KEYS_FILE): the acknowledgement keys the workers hold (npm start prints its own);
the first signs.`;

const log = (line: string): void => void process.stderr.write(`${line}\n`);

async function main(): Promise<void> {
  const { values } = parseCommandLine(
    'ack',
    process.argv.slice(2),
    { alert: { type: 'string' }, by: { type: 'string' } },
    USAGE,
  );
  const alertId = values.alert;
  if (alertId === undefined) throw new ConfigError(`ack: --alert ID is required\n${USAGE}`);
  const bedId = bedOfAlarmId(alertId);
  if (bedId === undefined)
    throw new ConfigError(`ack: "${alertId}" is not an alarm id (bed/type/onset, as in ${TOPICS.alerts})`);
  if ((process.env.KAFKA_BROKERS ?? '').trim() === '')
    throw new ConfigError(
      "ack: set KAFKA_BROKERS to the cluster the pipeline runs on (npm start prints its embedded broker's address)",
    );
  const by = values.by ?? process.env.USER ?? 'cli';
  if (by.trim() === '') throw new ConfigError('ack: --by must name who acknowledges the alarm');
  const keys = AckKeyRing.fromEnv();
  if (keys === undefined)
    throw new ConfigError(
      'ack: set ECG_ACK_KEYS (or ECG_ACK_KEYS_FILE) to the acknowledgement keys the pipeline workers hold: workers ignore unsigned acknowledgements',
    );
  const connection = connectKafka('ecg-ack', log);
  const producer = connection.kafka.producer();
  // a cluster that does not answer for 20 s ends the command then, whatever kafkajs's retries do
  let watch: ClusterWatch | undefined;
  const lost = new Promise<never>((_, reject) => (watch = connection.watch({ onLost: reject })));
  lost.catch(() => undefined); // raced below
  try {
    await Promise.race([
      (async () => {
        await producer.connect();
        await producer.send({
          topic: TOPICS.acks,
          messages: [{ key: bedId, value: ackCodec.encode(keys.sign({ bedId, alertId, by, atMs: Date.now() })) }],
        });
        await producer.disconnect();
      })(),
      lost,
    ]);
  } catch (error) {
    throw asKafkaFailure(error, connection.description);
  } finally {
    watch?.stop();
    connection.close();
  }
  log(`ack: the acknowledgement of ${alertId} by ${by} is in ${TOPICS.acks}`);
}

runMain(main);
