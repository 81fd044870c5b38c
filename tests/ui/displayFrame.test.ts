import { describe, expect, it } from 'vitest';
import { encodeDisplayFrame, MISSING } from '../../gateway/display.js';
import { decodeDisplayFrame } from '../../ui/displayFrame.js';

// written by hand from the layout in stream/contracts/display.ts; the gateway's encoder and the
// browser's decoder are both held to it
const FIXTURE = [
  '45 43 47 44', // "ECGD"
  '01', // version
  '00', // flags
  '01 00', // one bed
  '02 62 31', // "b1"
  '07 00 00 00', // seq 7
  '00 00 00 00 00 40 5f 40', // first sample 125
  '02', // two leads
  '02 00', // two samples per lead
  '02 49 49', // "II"
  '01 56', // "V"
  'e8 03 00 80', // II: 1000 µV, missing
  '18 fc 00 00', // V: -1000 µV, 0
].join(' ');
const bytes = Uint8Array.from(FIXTURE.split(' '), (h) => parseInt(h, 16));

describe('display frame v1', () => {
  it('the gateway encodes a fixture the browser decodes', () => {
    const chunk = {
      bedId: 'b1',
      seq: 7,
      firstSample: 125,
      leads: ['II', 'V'],
      samples: Int16Array.from([1000, MISSING, -1000, 0]),
    };
    expect(encodeDisplayFrame([chunk])).toEqual(bytes);
    expect(decodeDisplayFrame(bytes.buffer as ArrayBuffer)).toEqual({
      snapshot: false,
      chunks: [
        {
          bedId: 'b1',
          seq: 7,
          firstSample: 125,
          leads: ['II', 'V'],
          samples: [Int16Array.from([1000, MISSING]), Int16Array.from([-1000, 0])],
        },
      ],
    });
    const two = encodeDisplayFrame([chunk, { ...chunk, bedId: 'b2' }], true);
    expect(decodeDisplayFrame(two.buffer as ArrayBuffer).snapshot).toBe(true);
  });

  it('refuses what is no display frame', () => {
    expect(() => decodeDisplayFrame(new Uint8Array([1, 2, 3]).buffer as ArrayBuffer)).toThrow('not a display frame');
    const v2 = Uint8Array.from(bytes);
    v2[4] = 2;
    expect(() => decodeDisplayFrame(v2.buffer as ArrayBuffer)).toThrow('version 2');
  });
});
