import { MonitorError } from '../contracts/errors.js';
import type {
  ConsumerOptions,
  ConsumerRun,
  KafkaAdmin,
  KafkaClient,
  KafkaConsumer,
  KafkaProducer,
  OutgoingMessage,
  PartitionOffset,
} from './client.js';
import { DEFAULT_PARTITIONS } from '../contracts/topics.js';

/** A topic the in-process transport does not have, or a consumer used out of order. */
export class InProcessKafkaError extends MonitorError {}

/** A broker's refusal, typed as kafkajs types the protocol errors it throws (`error.type`). */
export class InProcessProtocolError extends InProcessKafkaError {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

/** Kafka's default `offset.metadata.max.bytes`: a broker refuses a commit whose metadata is longer. */
export const KAFKA_OFFSET_METADATA_MAX_BYTES = 4096;

interface Stored {
  readonly key: Buffer;
  readonly value: Buffer;
}

/** One partition's log: offsets grow from 0; the oldest messages go past the retention limit. */
class PartitionLog {
  low = 0;
  private readonly messages: Stored[] = [];
  private bytes = 0;

  constructor(private readonly retentionBytes: number) {}

  get high(): number {
    return this.low + this.messages.length;
  }

  append(message: Stored): void {
    this.messages.push(message);
    this.bytes += message.key.length + message.value.length;
    while (this.bytes > this.retentionBytes && this.messages.length > 1) {
      const dropped = this.messages.shift()!;
      this.bytes -= dropped.key.length + dropped.value.length;
      this.low++;
    }
  }

  read(from: number, max: number): { offset: string; key: Buffer; value: Buffer }[] {
    const start = Math.max(from, this.low) - this.low;
    return this.messages
      .slice(start, start + max)
      .map((m, i) => ({ offset: String(this.low + start + i), key: m.key, value: m.value }));
  }
}

/** FNV-1a: a stable key → partition map, so one bed stays on one partition and in order. */
function partitionOf(key: string, partitions: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193) >>> 0;
  return hash % partitions;
}

interface Committed {
  readonly offset: number;
  readonly metadata: string | null;
}

/** Members of a consumer group share the subscribed partitions; every join or leave reassigns them. */
class Group {
  readonly members: InProcessConsumer[] = [];
  readonly committed = new Map<string, Committed>();

  constructor(private readonly transport: InProcessKafka) {}

  join(member: InProcessConsumer): void {
    this.members.push(member);
    this.rebalance();
  }

  leave(member: InProcessConsumer): void {
    const i = this.members.indexOf(member);
    if (i < 0) return;
    this.members.splice(i, 1);
    this.rebalance();
  }

  private rebalance(): void {
    const topics = [...new Set(this.members.flatMap((m) => m.topics))].sort();
    const assignments = new Map<InProcessConsumer, { topic: string; partition: number }[]>(
      this.members.map((m) => [m, []]),
    );
    let next = 0;
    for (const topic of topics) {
      const subscribers = this.members.filter((m) => m.topics.includes(topic));
      for (let partition = 0; partition < this.transport.partitionCount(topic); partition++) {
        const member = subscribers[next++ % subscribers.length]!;
        assignments.get(member)!.push({ topic, partition });
      }
    }
    for (const [member, assigned] of assignments) member.assign(assigned);
  }
}

/**
 * Kafka's topics, partitions, consumer groups and committed offsets inside this process, for a
 * machine without librdkafka: the monitor runs unchanged on it (same client interface, same
 * commit and rebalance logic), but nothing outside the process can connect to it, so
 * `simulate` and `pipeline` as separate processes need a real cluster.
 */
export class InProcessKafka implements KafkaClient {
  private readonly logs = new Map<string, PartitionLog[]>();
  private readonly groups = new Map<string, Group>();
  private readonly waiters = new Set<() => void>();
  /** @internal the longest commit metadata accepted, as a broker's `offset.metadata.max.bytes`. */
  readonly offsetMetadataMaxBytes: number;

  constructor(
    options: {
      partitions?: Partial<Record<string, number>>;
      retentionBytes?: number;
      offsetMetadataMaxBytes?: number;
    } = {},
  ) {
    const retention = options.retentionBytes ?? 64 * 1024 * 1024;
    this.offsetMetadataMaxBytes = options.offsetMetadataMaxBytes ?? KAFKA_OFFSET_METADATA_MAX_BYTES;
    for (const [topic, count] of Object.entries({ ...DEFAULT_PARTITIONS, ...options.partitions })) {
      this.logs.set(
        topic,
        Array.from({ length: count ?? 1 }, () => new PartitionLog(retention)),
      );
    }
  }

  producer(): KafkaProducer {
    const send = async (topicMessages: { topic: string; messages: OutgoingMessage[] }[]): Promise<void> => {
      for (const { topic, messages } of topicMessages) {
        const log = this.topic(topic);
        for (const m of messages)
          log[partitionOf(m.key, log.length)]!.append({ key: Buffer.from(m.key), value: m.value });
      }
      for (const wake of [...this.waiters]) wake();
    };
    return {
      connect: async () => undefined,
      disconnect: async () => undefined,
      send: (record) => send([record]),
      sendBatch: (batch) => send(batch.topicMessages),
    };
  }

  consumer(options: ConsumerOptions): InProcessConsumer {
    let group = this.groups.get(options.groupId);
    if (group === undefined) {
      group = new Group(this);
      this.groups.set(options.groupId, group);
    }
    return new InProcessConsumer(this, group, options);
  }

  admin(): KafkaAdmin {
    return {
      connect: async () => undefined,
      disconnect: async () => undefined,
      fetchOffsets: async ({ groupId, topics }) =>
        topics.map((topic) => ({
          topic,
          partitions: this.topic(topic).map((_, partition) => {
            const c = this.groups.get(groupId)?.committed.get(`${topic}/${partition}`);
            return { partition, offset: String(c?.offset ?? -1), metadata: c?.metadata ?? null };
          }),
        })),
      fetchTopicOffsets: async (topic) =>
        this.topic(topic).map((log, partition) => ({ partition, low: String(log.low), high: String(log.high) })),
    };
  }

  partitionCount(topic: string): number {
    return this.topic(topic).length;
  }

  /** @internal the log of a partition. */
  partition(topic: string, partition: number): PartitionLog {
    return this.topic(topic)[partition]!;
  }

  /** Resolves when something is produced, or after `ms`. */
  async nextMessage(ms: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.waiters.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.waiters.add(wake);
    });
  }

  private topic(name: string): PartitionLog[] {
    const log = this.logs.get(name);
    if (log === undefined) throw new InProcessKafkaError(`in-process transport: unknown topic ${name}`);
    return log;
  }
}

/** Messages handed to one eachBatch call at most. */
const MAX_BATCH = 1000;

export class InProcessConsumer implements KafkaConsumer {
  readonly topics: string[] = [];
  private fromBeginning = false;
  private assignment: { topic: string; partition: number }[] = [];
  /** Next offset to read per "topic/partition". */
  private readonly positions = new Map<string, number>();
  /** Bumped by every assignment and seek: a batch fetched before is stale. */
  private epoch = 0;
  private running = false;
  private loop: Promise<void> | undefined;
  private readonly joinListeners = new Set<(partitions: number[]) => void>();

  constructor(
    private readonly transport: InProcessKafka,
    private readonly group: Group,
    private readonly options: ConsumerOptions,
  ) {}

  async connect(): Promise<void> {}

  async subscribe(subscription: { topic: string; fromBeginning?: boolean }): Promise<void> {
    this.transport.partitionCount(subscription.topic); // unknown topics fail here, as on a cluster
    this.topics.push(subscription.topic);
    this.fromBeginning = subscription.fromBeginning ?? false;
  }

  async run(run: ConsumerRun): Promise<void> {
    if (this.running) throw new InProcessKafkaError('in-process consumer: run() called twice');
    this.running = true;
    this.group.join(this);
    this.loop = this.consume(run);
    this.loop.catch(() => undefined); // a failing eachBatch stops this consumer, as kafkajs's would crash it
  }

  async disconnect(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.group.leave(this);
    await this.loop?.catch(() => undefined);
  }

  async commitOffsets(offsets: PartitionOffset[]): Promise<void> {
    // the broker refuses the whole request, as Kafka does (the error kafkajs throws for code 12)
    const max = this.transport.offsetMetadataMaxBytes;
    const tooLong = offsets.find((o) => Buffer.byteLength(o.metadata ?? '') > max);
    if (tooLong !== undefined)
      throw new InProcessProtocolError(
        'OFFSET_METADATA_TOO_LARGE',
        `${tooLong.topic}/${tooLong.partition}: the metadata field of the offset request was too large (${Buffer.byteLength(tooLong.metadata ?? '')} bytes, at most ${max})`,
      );
    for (const o of offsets) {
      this.group.committed.set(`${o.topic}/${o.partition}`, { offset: Number(o.offset), metadata: o.metadata ?? null });
    }
  }

  seek(position: { topic: string; partition: number; offset: string }): void {
    this.positions.set(`${position.topic}/${position.partition}`, Number(position.offset));
    this.epoch++;
  }

  onGroupJoin(listener: (partitions: number[]) => void): () => void {
    this.joinListeners.add(listener);
    return () => this.joinListeners.delete(listener);
  }

  /** @internal the group gave this member these partitions: each restarts at its commit. */
  assign(assigned: { topic: string; partition: number }[]): void {
    this.assignment = assigned;
    this.positions.clear();
    for (const { topic, partition } of assigned) {
      const key = `${topic}/${partition}`;
      const log = this.transport.partition(topic, partition);
      const committed = this.group.committed.get(key)?.offset ?? -1;
      this.positions.set(key, committed >= 0 ? committed : this.fromBeginning ? log.low : log.high);
    }
    this.epoch++;
    const partitions = assigned.map((a) => a.partition).sort((a, b) => a - b);
    for (const listener of [...this.joinListeners]) listener(partitions);
  }

  private async consume(run: ConsumerRun): Promise<void> {
    const maxWait = this.options.maxWaitTimeInMs ?? 100;
    while (this.running) {
      let fetched = false;
      for (const { topic, partition } of this.assignment) {
        if (!this.running) return;
        const key = `${topic}/${partition}`;
        const from = this.positions.get(key);
        if (from === undefined) continue;
        const messages = this.transport.partition(topic, partition).read(from, MAX_BATCH);
        if (messages.length === 0) continue;
        fetched = true;
        const epoch = this.epoch;
        let resolved: number | undefined;
        await run.eachBatch({
          topic,
          partition,
          messages,
          resolveOffset: (offset) => void (resolved = Number(offset) + 1),
          heartbeat: async () => undefined,
          isRunning: () => this.running,
          isStale: () => this.epoch !== epoch,
        });
        if (this.epoch !== epoch) break; // reassigned or sought meanwhile: positions are new
        const next = run.autoResolve === false ? resolved : Number(messages.at(-1)!.offset) + 1;
        if (next !== undefined) this.positions.set(key, next);
      }
      if (!fetched) await this.transport.nextMessage(maxWait);
    }
  }
}
