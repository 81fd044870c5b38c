import { connectKafka } from '../stream/kafka/connection.js';
import { asKafkaFailure } from '../stream/kafka/kafkajs.js';
import { bedOfAlarmId } from '../stream/contracts/alarms.js';
import { parseCommandLine, runMain } from './cli.js';
import { ConfigError } from '../stream/contracts/errors.js';
import { ackCodec } from '../stream/contracts/messages.js';
import { TOPICS } from '../stream/contracts/topics.js';

const USAGE = `KAFKA_BROKERS=host:port npm run ack -- --alert ID [--by NAME]
Acknowledges an alarm: publishes to ${TOPICS.acks}, and the pipeline worker monitoring the bed
publishes the alarm again in ${TOPICS.alerts}, acknowledged. ID is the alert's id (bed/type/onset).
  --alert ID    the alarm to acknowledge
  --by NAME     who acknowledges it, for the audit trail (default: $USER, else "cli")
KAFKA_BROKERS: the cluster, or the address npm start prints for its embedded broker.`;

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
  const connection = connectKafka('ecg-ack', log);
  const producer = connection.kafka.producer();
  try {
    await producer.connect();
    await producer.send({
      topic: TOPICS.acks,
      messages: [{ key: bedId, value: ackCodec.encode({ v: 1, bedId, alertId, by, atMs: Date.now() }) }],
    });
    await producer.disconnect();
  } catch (error) {
    throw asKafkaFailure(error, connection.description);
  } finally {
    connection.close();
  }
  log(`ack: the acknowledgement of ${alertId} by ${by} is in ${TOPICS.acks}`);
}

runMain(main);
