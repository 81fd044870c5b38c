import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigError } from './errors.js';
import type { AckMessage, SignedAck } from './messages.js';

/** Shortest acknowledgement key: HMAC-SHA256 keys below the hash's own size weaken it. */
export const MIN_ACK_KEY_BYTES = 32;

/** One acknowledgement key: an id (written into each signed acknowledgement) and its secret. */
export interface AckKey {
  readonly id: string;
  readonly secret: Buffer;
}

/**
 * The keys a process signs and checks acknowledgements with. The first key signs; every key
 * verifies, so keys rotate without a gap: add the new key behind the current one everywhere,
 * then put it first on the signers, then remove the old one once its acknowledgements are old.
 */
export class AckKeyRing {
  readonly keys: readonly AckKey[];

  constructor(keys: readonly AckKey[]) {
    if (keys.length === 0) throw new ConfigError('an acknowledgement key ring needs at least one key');
    const ids = new Set<string>();
    for (const key of keys) {
      if (!/^[A-Za-z0-9._-]{1,64}$/.test(key.id))
        throw new ConfigError(`acknowledgement key id "${key.id}" is not 1 to 64 letters, digits or . _ -`);
      if (ids.has(key.id)) throw new ConfigError(`acknowledgement key id "${key.id}" given twice`);
      if (key.secret.length < MIN_ACK_KEY_BYTES)
        throw new ConfigError(
          `acknowledgement key "${key.id}" has ${key.secret.length} bytes; it needs at least ${MIN_ACK_KEY_BYTES} (base64)`,
        );
      ids.add(key.id);
    }
    this.keys = keys;
  }

  /** A ring of one random key, for a process that both signs and checks (npm start). */
  static generated(id = 'local'): AckKeyRing {
    return new AckKeyRing([{ id, secret: randomBytes(MIN_ACK_KEY_BYTES) }]);
  }

  /**
   * `id:base64secret[,id:base64secret...]`, the signing key first (ECG_ACK_KEYS, or the lines
   * of the file ECG_ACK_KEYS_FILE names).
   */
  static parse(text: string, source: string): AckKeyRing {
    const items = text
      .split(/[,\n]/)
      .map((t) => t.trim())
      .filter((t) => t !== '' && !t.startsWith('#'));
    return new AckKeyRing(
      items.map((item) => {
        const colon = item.indexOf(':');
        if (colon <= 0)
          throw new ConfigError(`${source}: write each key as id:base64secret, got "${item.slice(0, 12)}…"`);
        const secret = Buffer.from(item.slice(colon + 1), 'base64');
        return { id: item.slice(0, colon), secret };
      }),
    );
  }

  /** The ring ECG_ACK_KEYS or ECG_ACK_KEYS_FILE configures, or undefined where neither is set. */
  static fromEnv(env: NodeJS.ProcessEnv = process.env): AckKeyRing | undefined {
    const file = env.ECG_ACK_KEYS_FILE;
    if (file !== undefined && file !== '') {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (error) {
        throw new ConfigError(`ECG_ACK_KEYS_FILE: cannot read ${file} (${(error as Error).message})`, { cause: error });
      }
      return AckKeyRing.parse(text, `ECG_ACK_KEYS_FILE ${file}`);
    }
    const inline = env.ECG_ACK_KEYS;
    return inline === undefined || inline === '' ? undefined : AckKeyRing.parse(inline, 'ECG_ACK_KEYS');
  }

  /** A signed acknowledgement of `alertId` by `by` at `atMs`, with the signing key. */
  sign(ack: { bedId: string; alertId: string; by: string; atMs: number }): SignedAck {
    const key = this.keys[0]!;
    const unsigned = { v: 2 as const, ...ack, nonce: randomBytes(16).toString('base64url'), keyId: key.id };
    return { ...unsigned, sig: hmac(key.secret, canonicalAck(unsigned)) };
  }

  /** Whether an acknowledgement carries a valid signature of one of the ring's keys, and if not, why. */
  verify(ack: AckMessage): AckVerdict {
    if (ack.v !== 2) return 'unsigned';
    const key = this.keys.find((k) => k.id === ack.keyId);
    if (key === undefined) return 'unknown-key';
    const expected = Buffer.from(hmac(key.secret, canonicalAck(ack)), 'base64url');
    const given = Buffer.from(ack.sig, 'base64url');
    return given.length === expected.length && timingSafeEqual(given, expected) ? 'valid' : 'bad-signature';
  }
}

export type AckVerdict = 'valid' | 'unsigned' | 'unknown-key' | 'bad-signature';

/**
 * The text an acknowledgement's signature covers: every field but the signature, in a fixed order,
 * as a JSON array (no field's content can pass for another's).
 */
export function canonicalAck(ack: Omit<SignedAck, 'sig'>): string {
  return JSON.stringify(['ecg.acks/2', ack.bedId, ack.alertId, ack.by, ack.atMs, ack.nonce, ack.keyId]);
}

function hmac(secret: Buffer, text: string): string {
  return createHmac('sha256', secret).update(text, 'utf8').digest('base64url');
}
