import { describe, expect, it } from 'vitest';
import { INVALID_SAMPLE } from '../../stream/contracts/frame.js';
import {
  decode16,
  decode212,
  decodeSignalFile,
  encode212,
  parseHeader,
  toPhysical,
  wfdbChecksum,
  WfdbSignalError,
} from '../../stream/wfdb/index.js';

describe('format 212', () => {
  it('decodes a hand-packed byte fixture', () => {
    // samples 0x123 and -2 (0xFFE): byte0 = 0x23, byte1 = (0xF << 4) | 0x1, byte2 = 0xFE
    expect(Array.from(decode212(Uint8Array.from([0x23, 0xf1, 0xfe]), 2))).toEqual([0x123, -2]);
    // odd count: the last sample uses two bytes of its group
    expect(Array.from(decode212(Uint8Array.from([0x23, 0xf1, 0xfe, 0x00, 0x08]), 3))).toEqual([0x123, -2, -2048]);
  });

  it('round-trips every 12-bit value through encode212', () => {
    const values = Int16Array.from({ length: 4096 }, (_, i) => i - 2048);
    expect(Array.from(decode212(encode212(values), values.length))).toEqual(Array.from(values));
    const odd = values.subarray(0, 7);
    expect(encode212(odd)).toHaveLength(11);
    expect(Array.from(decode212(encode212(odd), 7))).toEqual(Array.from(odd));
  });
});

describe('format 16', () => {
  it('decodes little-endian two’s complement', () => {
    expect(Array.from(decode16(Uint8Array.from([0x01, 0x00, 0xff, 0xff, 0x00, 0x80]), 3))).toEqual([1, -1, -32768]);
  });
});

describe('decodeSignalFile', () => {
  const samples = Int16Array.from([10, -10, 20, -20, 30, -30]);
  const header = (checksum0: number) =>
    parseHeader(`r 2 360 3\nr.dat 212 200 12 0 10 ${checksum0} 0 A\nr.dat 212 200 12 0 -10 -60 0 B\n`, 'r.hea');

  it('de-interleaves signals and checks first values and checksums', () => {
    const [a, b] = decodeSignalFile(header(60), [0, 1], encode212(samples), 'r.dat');
    expect(Array.from(a!.digital)).toEqual([10, 20, 30]);
    expect(Array.from(b!.digital)).toEqual([-10, -20, -30]);
    expect(wfdbChecksum(b!.digital)).toBe(-60);
  });

  it('rejects a checksum mismatch and a truncated file, naming the file', () => {
    expect(() => decodeSignalFile(header(61), [0, 1], encode212(samples), 'r.dat')).toThrow(
      /r\.dat: signal "A": checksum 60 differs from the header's 61/,
    );
    expect(() => decodeSignalFile(header(60), [0, 1], encode212(samples).subarray(0, 5), 'r.dat')).toThrow(
      WfdbSignalError,
    );
  });

  it("reads each format's invalid value as the invalid sample: missing, never a voltage", () => {
    const h = parseHeader('r 1 360 3\nr.dat 212 200 12 0 5 -2033 0 A\n', 'r.hea');
    const [a] = decodeSignalFile(h, [0], encode212(Int16Array.from([5, -2048, 10])), 'r.dat');
    expect(Array.from(a!.digital)).toEqual([5, INVALID_SAMPLE, 10]);
    expect(Array.from(toPhysical(a!))).toEqual([Math.fround(0.025), Number.NaN, Math.fround(0.05)]);
  });

  it('refuses formats it does not know', () => {
    const h = parseHeader('r 1 360 3\nr.dat 80\n', 'r.hea');
    expect(() => decodeSignalFile(h, [0], new Uint8Array(3), 'r.dat')).toThrow(
      'format 80 is not supported (supported: 16, 212)',
    );
  });
});
