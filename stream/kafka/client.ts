/**
 * The part of a Kafka client the monitor uses. Two implementations: kafkajs against a cluster
 * (KAFKA_BROKERS, or the embedded librdkafka mock cluster), and the in-process transport for
 * machines without librdkafka. Offsets are only ever committed explicitly.
 */
export interface KafkaClient {
  producer(): KafkaProducer;
  consumer(config: ConsumerOptions): KafkaConsumer;
  admin(): KafkaAdmin;
}

export interface ConsumerOptions {
  readonly groupId: string;
  /** Longest a fetch waits for new messages, ms. */
  readonly maxWaitTimeInMs?: number;
  readonly sessionTimeout?: number;
  readonly heartbeatInterval?: number;
}

export interface OutgoingMessage {
  readonly key: string;
  readonly value: Buffer;
}

export interface KafkaProducer {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  send(record: { topic: string; messages: OutgoingMessage[] }): Promise<unknown>;
  sendBatch(batch: { topicMessages: { topic: string; messages: OutgoingMessage[] }[] }): Promise<unknown>;
}

export interface FetchedMessage {
  readonly offset: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
}

/** One partition's messages, with kafkajs's eachBatch controls. */
export interface FetchedBatch {
  readonly topic: string;
  readonly partition: number;
  readonly messages: FetchedMessage[];
  /** Marks a message processed: the next fetch of this partition starts after it. */
  resolveOffset(offset: string): void;
  heartbeat(): Promise<void>;
  isRunning(): boolean;
  /** The partition was sought or reassigned since this batch was fetched. */
  isStale(): boolean;
}

export interface ConsumerRun {
  /** Whether a batch counts as processed once `eachBatch` returns (default true). */
  readonly autoResolve?: boolean;
  readonly partitionsConsumedConcurrently?: number;
  readonly eachBatch: (batch: FetchedBatch) => Promise<void>;
}

export interface PartitionOffset {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly metadata?: string | null;
}

export interface KafkaConsumer {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  subscribe(subscription: { topic: string; fromBeginning?: boolean }): Promise<void>;
  run(run: ConsumerRun): Promise<void>;
  commitOffsets(offsets: PartitionOffset[]): Promise<void>;
  seek(position: { topic: string; partition: number; offset: string }): void;
  /**
   * Called after every group join, before the first batch of the new assignment, with the
   * partitions assigned (of every subscribed topic); returns its remover.
   */
  onGroupJoin(listener: (partitions: number[]) => void): () => void;
}

export interface KafkaAdmin {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  fetchOffsets(query: {
    groupId: string;
    topics: string[];
  }): Promise<{ topic: string; partitions: { partition: number; offset: string; metadata: string | null }[] }[]>;
  fetchTopicOffsets(topic: string): Promise<{ partition: number; low: string; high: string }[]>;
}

/**
 * Longest a fetch waits for new messages, ms: kafkajs's default 5 s long poll would be added to
 * every beat's latency by brokers that answer at the deadline (librdkafka's mock cluster does).
 */
export const FETCH_WAIT_MS = 50;
