export { followTopic } from '../../stream/kafka/follow.js';

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
