import { describe, expect, it } from 'vitest';
import type { FetchedBatch } from '../../stream/kafka/client.js';
import { InProcessKafka, InProcessKafkaError, KAFKA_OFFSET_METADATA_MAX_BYTES } from '../../stream/kafka/inProcess.js';
import { waitFor } from '../helpers/kafkaTopics.js';

const TOPIC = 'ecg.samples';

async function produce(kafka: InProcessKafka, keys: string[]): Promise<void> {
  const producer = kafka.producer();
  await producer.send({ topic: TOPIC, messages: keys.map((key, i) => ({ key, value: Buffer.from(`${key}:${i}`) })) });
}

/** A group member that records what it is given, partition by partition. */
async function member(kafka: InProcessKafka, groupId: string, autoResolve = true) {
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 10 });
  const seen: { partition: number; offset: string; value: string }[] = [];
  let joins = 0;
  consumer.onGroupJoin(() => joins++);
  await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
  await consumer.run({
    autoResolve,
    eachBatch: async (batch: FetchedBatch) => {
      for (const m of batch.messages) {
        seen.push({ partition: batch.partition, offset: m.offset, value: m.value?.toString() ?? '' });
        if (!autoResolve) batch.resolveOffset(m.offset);
      }
    },
  });
  return { consumer, seen, joins: () => joins };
}

describe('InProcessKafka', () => {
  it('keeps one key on one partition, in order', async () => {
    const kafka = new InProcessKafka({ partitions: { [TOPIC]: 4 } });
    await produce(kafka, ['bed-1', 'bed-2', 'bed-1', 'bed-3', 'bed-1']);
    const m = await member(kafka, 'g');
    await waitFor(
      () => m.seen.length === 5,
      2000,
      () => `${m.seen.length} of 5`,
    );
    const bed1 = m.seen.filter((s) => s.value.startsWith('bed-1'));
    expect(new Set(bed1.map((s) => s.partition)).size).toBe(1);
    expect(bed1.map((s) => s.value)).toEqual(['bed-1:0', 'bed-1:2', 'bed-1:4']);
    await m.consumer.disconnect();
  });

  it('shares partitions between group members and hands them back when one leaves', async () => {
    const kafka = new InProcessKafka({ partitions: { [TOPIC]: 4 } });
    const a = await member(kafka, 'g');
    const b = await member(kafka, 'g');
    expect(a.joins()).toBe(2); // its own join, then b's
    expect(b.joins()).toBe(1);
    await produce(
      kafka,
      Array.from({ length: 40 }, (_, i) => `bed-${i}`),
    );
    await waitFor(
      () => a.seen.length + b.seen.length === 40,
      2000,
      () => 'not all read',
    );
    const partitionsOf = (seen: { partition: number }[]) => new Set(seen.map((s) => s.partition));
    expect(partitionsOf(a.seen).size).toBe(2);
    expect(partitionsOf(b.seen).size).toBe(2);
    expect([...partitionsOf(a.seen)].some((p) => partitionsOf(b.seen).has(p))).toBe(false);

    // nothing was committed, so after a leaves, b reads all four partitions from the start
    await a.consumer.disconnect();
    await waitFor(
      () => b.seen.length === 40 + a.seen.length,
      2000,
      () => `${b.seen.length} read by b`,
    );
    await b.consumer.disconnect();
  });

  it('restarts a partition at its committed offset and keeps the commit metadata', async () => {
    const kafka = new InProcessKafka({ partitions: { [TOPIC]: 1 } });
    await produce(kafka, ['a', 'a', 'a', 'a']);
    const first = await member(kafka, 'g', false);
    await waitFor(
      () => first.seen.length === 4,
      2000,
      () => 'first read',
    );
    await first.consumer.commitOffsets([{ topic: TOPIC, partition: 0, offset: '2', metadata: '{"v":1}' }]);
    await first.consumer.disconnect();
    const admin = kafka.admin();
    expect(await admin.fetchOffsets({ groupId: 'g', topics: [TOPIC] })).toEqual([
      { topic: TOPIC, partitions: [{ partition: 0, offset: '2', metadata: '{"v":1}' }] },
    ]);
    const second = await member(kafka, 'g', false);
    await waitFor(
      () => second.seen.length === 2,
      2000,
      () => 'second read',
    );
    expect(second.seen.map((s) => s.offset)).toEqual(['2', '3']);
    await second.consumer.disconnect();
  });

  it('seeks, reports low and high offsets, and drops the oldest messages past its retention', async () => {
    const kafka = new InProcessKafka({ partitions: { [TOPIC]: 1 }, retentionBytes: 100 });
    await kafka.producer().send({
      topic: TOPIC,
      messages: Array.from({ length: 20 }, () => ({ key: 'k', value: Buffer.alloc(8) })), // 9 bytes a message
    });
    const [p] = await kafka.admin().fetchTopicOffsets(TOPIC);
    expect(p).toEqual({ partition: 0, low: '9', high: '20' });
    const m = await member(kafka, 'g');
    await waitFor(
      () => m.seen.length === 11,
      2000,
      () => 'tail read',
    );
    m.consumer.seek({ topic: TOPIC, partition: 0, offset: '18' });
    await waitFor(
      () => m.seen.length === 13,
      2000,
      () => 'read after seek',
    );
    expect(m.seen.slice(-2).map((s) => s.offset)).toEqual(['18', '19']);
    await m.consumer.disconnect();
  });

  it('refuses a topic it does not have, with its name', async () => {
    const kafka = new InProcessKafka();
    await expect(kafka.producer().send({ topic: 'nope', messages: [] })).rejects.toThrow(InProcessKafkaError);
    await expect(kafka.consumer({ groupId: 'g' }).subscribe({ topic: 'nope' })).rejects.toThrow(/unknown topic nope/);
  });

  it("refuses a commit whose metadata is longer than Kafka's default limit, as a broker does, and keeps the last commit", async () => {
    const kafka = new InProcessKafka({ partitions: { [TOPIC]: 1 } });
    const consumer = kafka.consumer({ groupId: 'g' });
    const commit = (metadata: string) =>
      consumer.commitOffsets([{ topic: TOPIC, partition: 0, offset: '5', metadata }]);
    await commit('x'.repeat(KAFKA_OFFSET_METADATA_MAX_BYTES));
    await expect(commit('x'.repeat(KAFKA_OFFSET_METADATA_MAX_BYTES + 1))).rejects.toMatchObject({
      type: 'OFFSET_METADATA_TOO_LARGE',
    });
    const [offsets] = await kafka.admin().fetchOffsets({ groupId: 'g', topics: [TOPIC] });
    expect(offsets!.partitions[0]!.metadata).toHaveLength(KAFKA_OFFSET_METADATA_MAX_BYTES);
  });
});
