import { describe, expect, it } from 'vitest';
import { codeForSymbol, encodeAnnotations, parseAnnotations, WfdbAnnotationError } from '../../stream/wfdb/index.js';

describe('MIT annotation format', () => {
  it('decodes a hand-built byte fixture with SKIP, AUX, SUB, NUM and CHN', () => {
    const words = (...w: number[]) => w.flatMap((x) => [x & 0xff, x >> 8]);
    const bytes = Uint8Array.from([
      ...words((1 << 10) | 18), // N at 18
      ...words(59 << 10, 0x0001, 0x0000), // SKIP 65536
      ...words((28 << 10) | 2), // + at 18 + 65536 + 2
      ...words((63 << 10) | 5),
      ...[0x28, 0x41, 0x46, 0x49, 0x42, 0x00], // "(AFIB" padded to even
      ...words((60 << 10) | 3, (62 << 10) | 1), // NUM 3, CHN 1 for what follows
      ...words((5 << 10) | 100, (61 << 10) | 2), // V at +100 with SUB 2
      ...words(0),
    ]);
    const anns = parseAnnotations(bytes, 'x.atr');
    expect(anns.map((a) => [a.sample, a.symbol, a.aux, a.num, a.channel, a.subtype])).toEqual([
      [18, 'N', '', 0, 0, 0],
      [65556, '+', '(AFIB', 0, 0, 0],
      [65656, 'V', '', 3, 1, 2],
    ]);
  });

  it('round-trips through the writer, long gaps and sticky fields included', () => {
    const input = [
      { sample: 5, code: codeForSymbol('N') },
      { sample: 2000, code: codeForSymbol('+'), aux: '(VT' },
      { sample: 200_000, code: codeForSymbol('V'), num: 2, channel: 1, subtype: -1 },
      { sample: 200_001, code: codeForSymbol('['), num: 2, channel: 1 },
      { sample: 200_400, code: codeForSymbol('A') },
    ];
    const decoded = parseAnnotations(encodeAnnotations(input), 'rt.qrs');
    expect(
      decoded.map((a) => ({
        sample: a.sample,
        code: a.code,
        aux: a.aux,
        num: a.num,
        channel: a.channel,
        subtype: a.subtype,
      })),
    ).toEqual(input.map((a) => ({ aux: '', num: 0, channel: 0, subtype: 0, ...a })));
  });

  it('rejects odd-length and unterminated files with the file name and offset', () => {
    const good = encodeAnnotations([{ sample: 1, code: 1 }]);
    expect(() => parseAnnotations(good.subarray(0, 3), 'odd.atr')).toThrow(
      'odd.atr: byte 2: odd length (3 bytes): the file is truncated',
    );
    expect(() => parseAnnotations(good.subarray(0, 2), 'cut.atr')).toThrow(/cut\.atr: .*no end-of-file marker/);
    expect(() => parseAnnotations(Uint8Array.from([0x00, 0xfc]), 'aux.atr')).toThrow(WfdbAnnotationError);
  });

  it("hides WFDB's preamble (a time-resolution note, a SKIP back, a code-0 word) as WFDB's reader does", () => {
    // the first 36 bytes of PhysioNet's svdb/822.atr, then two N beats and the end
    const preamble = Buffer.from('005817fc23232074696d65207265736f6c7574696f6e3a203132380000ecffffffff0100', 'hex');
    const beats = encodeAnnotations([
      { sample: 47, code: 1 },
      { sample: 152, code: 1 },
    ]);
    const file = new Uint8Array([...preamble, ...beats]);
    expect(parseAnnotations(file, '822.atr').map((a) => [a.sample, a.symbol])).toEqual([
      [47, 'N'],
      [152, 'N'],
    ]);
  });

  it('refuses annotations before sample 0 or going back in time, naming the byte', () => {
    const skip = (interval: number) => [
      0x00,
      0xec,
      (interval >> 16) & 0xff,
      (interval >> 24) & 0xff,
      interval & 0xff,
      (interval >> 8) & 0xff,
    ];
    const n = (delta: number) => [delta & 0xff, (1 << 2) | (delta >> 8)];
    const end = [0, 0];
    const back = new Uint8Array([...n(100), ...skip(-50), ...n(10), ...end]);
    expect(() => parseAnnotations(back, 'back.atr')).toThrow(
      'back.atr: byte 8: annotation at sample 60 after one at 100: positions must not go back',
    );
    const negative = new Uint8Array([...skip(-50), ...n(10), ...end]);
    expect(() => parseAnnotations(negative, 'neg.atr')).toThrow(WfdbAnnotationError);
  });
});
