import koffi from 'koffi';
import { MonitorError } from '../contracts/errors.js';
import { DEFAULT_PARTITIONS, type TopicName } from '../contracts/topics.js';

/** librdkafka (Debian package librdkafka1) is missing or lacks the mock cluster. */
export class EmbeddedBrokerError extends MonitorError {}

export interface EmbeddedBroker {
  /** Comma-separated host:port list for kafkajs's `brokers`. */
  readonly bootstrap: string;
  readonly librdkafkaVersion: string;
  /** Creates a topic (the mock cluster does not implement CreateTopics requests). */
  createTopic(name: string, partitions: number): void;
  /**
   * Takes every broker of the cluster down (its connections closed, new ones refused) or up again:
   * an outage drill, for seeing what clients and operators see when a cluster goes away and comes back.
   */
  setDown(down: boolean): void;
  close(): void;
}

interface Librdkafka {
  version: () => string;
  confNew: () => unknown;
  confSet: (conf: unknown, name: string, value: string, errstr: Buffer, size: number) => number;
  kafkaNew: (type: number, conf: unknown, errstr: Buffer, size: number) => unknown;
  kafkaDestroy: (rk: unknown) => void;
  mockNew: (rk: unknown, brokers: number) => unknown;
  mockDestroy: (mc: unknown) => void;
  mockBootstraps: (mc: unknown) => string;
  mockTopicCreate: (mc: unknown, topic: string, partitions: number, replication: number) => number;
  mockBrokerDown: (mc: unknown, brokerId: number) => number;
  mockBrokerUp: (mc: unknown, brokerId: number) => number;
}

let library: Librdkafka | undefined;

function loadLibrdkafka(): Librdkafka {
  if (library !== undefined) return library;
  let lib: ReturnType<typeof koffi.load>;
  try {
    lib = koffi.load(process.env.LIBRDKAFKA_PATH ?? 'librdkafka.so.1');
  } catch (error) {
    throw new EmbeddedBrokerError(
      `cannot load librdkafka for the embedded broker (${(error as Error).message}); install Debian's librdkafka1 ` +
        'or set KAFKA_BROKERS to a real cluster',
      { cause: error },
    );
  }
  library = {
    version: lib.func('const char *rd_kafka_version_str()'),
    confNew: lib.func('void *rd_kafka_conf_new()'),
    confSet: lib.func(
      'int rd_kafka_conf_set(void *conf, const char *name, const char *value, char *errstr, size_t size)',
    ),
    kafkaNew: lib.func('void *rd_kafka_new(int type, void *conf, char *errstr, size_t size)'),
    kafkaDestroy: lib.func('void rd_kafka_destroy(void *rk)'),
    mockNew: lib.func('void *rd_kafka_mock_cluster_new(void *rk, int broker_cnt)'),
    mockDestroy: lib.func('void rd_kafka_mock_cluster_destroy(void *mcluster)'),
    mockBootstraps: lib.func('const char *rd_kafka_mock_cluster_bootstraps(void *mcluster)'),
    mockTopicCreate: lib.func(
      'int rd_kafka_mock_topic_create(void *mcluster, const char *topic, int partition_cnt, int replication_factor)',
    ),
    mockBrokerDown: lib.func('int rd_kafka_mock_broker_set_down(void *mcluster, int32_t broker_id)'),
    mockBrokerUp: lib.func('int rd_kafka_mock_broker_set_up(void *mcluster, int32_t broker_id)'),
  } as Librdkafka;
  return library;
}

/**
 * Starts librdkafka's built-in mock Kafka cluster in this process: it speaks the Kafka protocol
 * on loopback, so kafkajs producers and consumer groups use it exactly like a real cluster.
 * For development, tests and single-machine demos; production sets KAFKA_BROKERS.
 */
export function startEmbeddedBroker(
  options: { brokers?: number; partitions?: Partial<Record<TopicName, number>> } = {},
): EmbeddedBroker {
  const rd = loadLibrdkafka();
  const errstr = Buffer.alloc(512);
  const conf = rd.confNew();
  // the handle only hosts the mock cluster; it never connects anywhere itself
  rd.confSet(conf, 'log_level', '3', errstr, errstr.length);
  const handle = rd.kafkaNew(0, conf, errstr, errstr.length);
  if (handle === null)
    throw new EmbeddedBrokerError(`rd_kafka_new failed: ${errstr.toString('utf8').replace(/\0.*$/s, '')}`);
  const brokers = options.brokers ?? 1;
  const cluster = rd.mockNew(handle, brokers);
  if (cluster === null) {
    rd.kafkaDestroy(handle);
    throw new EmbeddedBrokerError('rd_kafka_mock_cluster_new failed (librdkafka built without the mock cluster?)');
  }
  let closed = false;
  const broker: EmbeddedBroker = {
    bootstrap: rd.mockBootstraps(cluster),
    librdkafkaVersion: rd.version(),
    createTopic(name, partitions) {
      if (closed) throw new EmbeddedBrokerError('embedded broker is closed');
      const code = rd.mockTopicCreate(cluster, name, partitions, 1);
      if (code !== 0) throw new EmbeddedBrokerError(`cannot create topic ${name} (librdkafka error ${code})`);
    },
    setDown(down) {
      if (closed) throw new EmbeddedBrokerError('embedded broker is closed');
      // the mock cluster numbers its brokers from 1
      for (let id = 1; id <= brokers; id++) (down ? rd.mockBrokerDown : rd.mockBrokerUp)(cluster, id);
    },
    close() {
      if (closed) return;
      closed = true;
      rd.mockDestroy(cluster);
      rd.kafkaDestroy(handle);
    },
  };
  for (const [topic, partitions] of Object.entries({ ...DEFAULT_PARTITIONS, ...options.partitions })) {
    broker.createTopic(topic, partitions);
  }
  return broker;
}
