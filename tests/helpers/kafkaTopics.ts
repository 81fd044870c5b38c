import { publishReplay } from '../../simulators/publish.js';
import { loadBed, type ReplayBed } from '../../simulators/replay.js';
import type { KafkaClient } from '../../stream/kafka/client.js';
import { mitdbDir } from '../../stream/wfdb/index.js';

export { followTopic } from '../../stream/kafka/follow.js';

/** Replays beds into `ecg.samples` with a producer of its own, `frames` 250 ms frames each; resolves once all is sent. */
export async function replayBeds(
  kafka: KafkaClient,
  beds: readonly ReplayBed[],
  options: { speed: number; frames: number; throttle?: (framesSent: number) => Promise<void> },
): Promise<void> {
  const producer = kafka.producer();
  await producer.connect();
  try {
    await publishReplay(producer, await Promise.all(beds.map((bed) => loadBed(mitdbDir(), bed))), {
      frameMs: 250,
      loop: false,
      speed: options.speed,
      maxFrames: options.frames,
      throttle: options.throttle,
    });
  } finally {
    await producer.disconnect();
  }
}

/** Waits until `count` messages have arrived, then 3 s more: anything published later would be a repeat. */
export async function allArrived(items: readonly unknown[], count: number): Promise<void> {
  await waitFor(
    () => items.length >= count,
    120_000,
    () => `${items.length} of ${count} messages`,
  );
  await new Promise((resolve) => setTimeout(resolve, 3000));
}

/** Resolves when `done()` holds, polling; rejects with `what()` after `timeoutMs`. */
export async function waitFor(done: () => boolean, timeoutMs: number, what: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Messages that repeat one key in `items` (the same beat published twice). */
export function repeats<T>(items: readonly T[], key: (item: T) => string): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const item of items) {
    const k = key(item);
    if (seen.has(k)) out.push(k);
    seen.add(k);
  }
  return out;
}
