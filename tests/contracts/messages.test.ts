import { MalformedMessages } from '../../stream/kafka/malformed.js';
import { describe, expect, it } from 'vitest';
import {
  ackCodec,
  alertCodec,
  beatCodec,
  MessageDecodeError,
  referenceCodec,
  type BeatMessage,
} from '../../stream/contracts/messages.js';

const beat: BeatMessage = {
  v: 1,
  bedId: 'bed-3',
  source: 'mitdb/208',
  rPeakSample: 3600,
  timeS: 10,
  rrS: 0.8,
  label: 'V',
  probabilities: { N: 0.05, S: 0, V: 0.9, F: 0.05, Q: 0 },
  decision: { reason: 'network', votedV: 0.9 },
  modelId: 'rr-branch-resnet-inter',
  quality: 1,
  latency: { windowCompleteMs: 1000, publishedMs: 1012 },
};

const decodeError = (f: () => unknown): MessageDecodeError => {
  try {
    f();
  } catch (e) {
    if (e instanceof MessageDecodeError) return e;
    throw e;
  }
  throw new Error('decoded');
};

describe('JSON message codecs', () => {
  it('round-trip valid messages', () => {
    expect(beatCodec.decode(beatCodec.encode(beat))).toEqual(beat);
    const ref = { v: 1 as const, bedId: 'b', source: 'mitdb/100', sample: 18, timeS: 0.05, symbol: '+', aux: '(N' };
    expect(referenceCodec.decode(referenceCodec.encode(ref))).toEqual(ref);
    const alert = {
      v: 1 as const,
      id: 'b/couplet/10',
      bedId: 'b',
      type: 'couplet' as const,
      priority: 'medium' as const,
      state: 'ended' as const,
      acknowledged: false,
      onsetS: 1,
      raisedS: 1.5,
      endS: 2,
      evidence: [10, 20],
      explanation: [],
      publishedMs: 5,
    };
    expect(alertCodec.decode(alertCodec.encode(alert))).toEqual(alert);
    const ack = { v: 1 as const, bedId: 'ward/3', alertId: 'ward/3/couplet/10', by: 'nurse 7', atMs: 5 };
    expect(ackCodec.decode(ackCodec.encode(ack))).toEqual(ack);
  });

  it("refuses an acknowledgement of another bed's alarm, or of no alarm", () => {
    const ack = { v: 1, bedId: 'b', alertId: 'b/couplet/10', by: 'nurse', atMs: 5 };
    for (const alertId of [
      'c/couplet/10',
      'b/couplet',
      'b/hiccup/10',
      'b/constructor/10',
      'b/couplet/ten',
      '/couplet/10',
    ]) {
      const bad = decodeError(() => ackCodec.decode(Buffer.from(JSON.stringify({ ...ack, alertId }))));
      expect(bad.code).toBe('invalid');
      expect(bad.message).toMatch(/^ecg\.acks: alertId: not an alarm id of the bed/);
    }
    expect(decodeError(() => ackCodec.decode(Buffer.from(JSON.stringify({ ...ack, by: '' })))).message).toMatch(
      /^ecg\.acks: by: /,
    );
  });

  it('refuses malformed messages with a code and the offending field', () => {
    expect(decodeError(() => beatCodec.decode(Buffer.from('{oops'))).code).toBe('not-json');
    expect(decodeError(() => beatCodec.decode(Buffer.from(JSON.stringify({ ...beat, v: 2 })))).code).toBe(
      'unsupported-version',
    );
    const bad = decodeError(() => beatCodec.decode(Buffer.from(JSON.stringify({ ...beat, label: 'X' }))));
    expect(bad.code).toBe('invalid');
    expect(bad.message).toMatch(/^ecg\.beats: label: /);
    const why = decodeError(() =>
      beatCodec.decode(Buffer.from(JSON.stringify({ ...beat, decision: { reason: 'hunch', votedV: 0.9 } }))),
    );
    expect(why.message).toMatch(/^ecg\.beats: decision\.reason: /);
    expect(() => beatCodec.encode({ ...beat, rPeakSample: -1 })).toThrow();
  });

  it('counts malformed messages by kind and warns once per kind', () => {
    const warnings: string[] = [];
    const counter = new MalformedMessages((l) => warnings.push(l));
    for (let i = 0; i < 5; i++) counter.record('ecg.samples', { code: 'truncated', message: 'ends early' });
    counter.record('ecg.samples', { code: 'bad-magic', message: 'no magic' });
    expect(counter.snapshot()).toEqual({ 'ecg.samples:truncated': 5, 'ecg.samples:bad-magic': 1 });
    expect(warnings).toHaveLength(2);
  });
});
