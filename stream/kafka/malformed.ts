import { MessageDecodeError } from '../contracts/messages.js';

/**
 * Counts messages a consumer could not use by topic and code and warns once per kind
 * (CONVENTIONS 12): a stream of broken frames must neither stop a bed nor flood the log.
 * `doing` says what happens to them in the warning (default: skipping a malformed message).
 */
export class MalformedMessages {
  private readonly counts = new Map<string, number>();

  constructor(
    private readonly warn: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
    private readonly doing = 'skipping a malformed message',
  ) {}

  /** One more of a kind; the first is warned about, saying what is done with it (`doing`). */
  record(topic: string, error: { code: string; message: string }, doing = this.doing): void {
    const key = `${topic}:${error.code}`;
    const count = (this.counts.get(key) ?? 0) + 1;
    this.counts.set(key, count);
    if (count === 1) this.warn(`warning [${key}]: ${doing} (${error.message}); further ones are only counted`);
  }

  snapshot(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }

  /** A message's decoded value, or undefined for an empty or malformed one (counted, and skipped). */
  decode<T>(topic: string, value: Buffer | null, decode: (bytes: Uint8Array) => T): T | undefined {
    if (value === null) return undefined;
    try {
      return decode(new Uint8Array(value));
    } catch (error) {
      if (!(error instanceof MessageDecodeError)) throw error;
      this.record(topic, error);
      return undefined;
    }
  }
}
