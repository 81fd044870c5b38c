import { describe, expect, it } from 'vitest';
import { AckKeyRing, MIN_ACK_KEY_BYTES } from '../../stream/contracts/ackSignature.js';
import { ConfigError } from '../../stream/contracts/errors.js';
import { ackCodec } from '../../stream/contracts/messages.js';

const secret = (fill: number) => Buffer.alloc(MIN_ACK_KEY_BYTES, fill).toString('base64');
const ack = { bedId: 'bed-01', alertId: 'bed-01/couplet/1380', by: 'nurse 7', atMs: 1_795_399_264_369 };

describe('signed acknowledgements', () => {
  it('verify with the key that signed them, through the wire format, and not once a field changes', () => {
    const ring = AckKeyRing.parse(`k2:${secret(2)},k1:${secret(1)}`, 'test');
    const signed = ackCodec.decode(ackCodec.encode(ring.sign(ack)));
    expect(signed).toMatchObject({ v: 2, ...ack, keyId: 'k2' });
    expect(ring.verify(signed)).toBe('valid');
    for (const changed of [{ by: 'mallory' }, { atMs: ack.atMs + 1 }, { alertId: 'bed-01/couplet/1381' }])
      expect(ring.verify({ ...signed, ...changed })).toBe('bad-signature');
    expect(ring.verify({ v: 1, ...ack })).toBe('unsigned');
    expect(AckKeyRing.generated('other').verify(signed)).toBe('unknown-key');
  });

  it('rotate: the first key signs, every key verifies', () => {
    const old = AckKeyRing.parse(`k1:${secret(1)}`, 'test');
    const rotating = AckKeyRing.parse(`k2:${secret(2)}\nk1:${secret(1)}`, 'test');
    expect(rotating.verify(old.sign(ack))).toBe('valid');
    expect(rotating.sign(ack).keyId).toBe('k2');
    expect(old.verify(rotating.sign(ack))).toBe('unknown-key');
  });

  it('each carry a nonce of their own, so a replayed message can be told apart', () => {
    const ring = AckKeyRing.generated();
    expect(ring.sign(ack).nonce).not.toBe(ring.sign(ack).nonce);
  });

  it('refuse short, unnamed or doubled keys with one line', () => {
    expect(() => AckKeyRing.parse(`k:${Buffer.alloc(16).toString('base64')}`, 'ECG_ACK_KEYS')).toThrow(
      'acknowledgement key "k" has 16 bytes; it needs at least 32 (base64)',
    );
    expect(() => AckKeyRing.parse(secret(1), 'ECG_ACK_KEYS')).toThrow(
      'ECG_ACK_KEYS: write each key as id:base64secret',
    );
    expect(() => AckKeyRing.parse(`a:${secret(1)},a:${secret(2)}`, 'x')).toThrow('given twice');
    expect(() => AckKeyRing.parse('', 'x')).toThrow(ConfigError);
    expect(AckKeyRing.fromEnv({})).toBeUndefined();
    expect(() => AckKeyRing.fromEnv({ ECG_ACK_KEYS_FILE: '/nonexistent' })).toThrow(
      'ECG_ACK_KEYS_FILE: cannot read /nonexistent',
    );
  });
});
