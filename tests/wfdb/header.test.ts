import { describe, expect, it } from 'vitest';
import { parseHeader, WfdbHeaderError } from '../../stream/wfdb/index.js';

// record 100's header as PhysioNet publishes it (CRLF line endings)
const HEADER_100 =
  '100 2 360 650000\r\n100.dat 212 200 11 1024 995 -22131 0 MLII\r\n100.dat 212 200 11 1024 1011 20052 0 V5\r\n# 69 M 1085 1629 x1\r\n# Aldomet, Inderal\r\n';

describe('parseHeader', () => {
  it('reads the record line, every signal field and the comments', () => {
    const h = parseHeader(HEADER_100, '100.hea');
    expect(h).toMatchObject({ recordName: '100', samplingFrequency: 360, sampleCount: 650000 });
    expect(h.signals).toHaveLength(2);
    expect(h.signals[0]).toEqual({
      fileName: '100.dat',
      format: 212,
      byteOffset: 0,
      gain: 200,
      baseline: 1024,
      units: 'mV',
      adcResolution: 11,
      adcZero: 1024,
      initialValue: 995,
      checksum: -22131,
      blockSize: 0,
      description: 'MLII',
    });
    expect(h.comments).toEqual(['69 M 1085 1629 x1', 'Aldomet, Inderal']);
  });

  it('applies WFDB defaults: gain 0 means 200, baseline from "(b)", units after "/"', () => {
    const h = parseHeader('x 2 250\nx.dat 16+24 0 16 0\nx.dat 16+24 100(-3)/uV\n', 'x.hea');
    expect(h.sampleCount).toBeUndefined();
    expect(h.signals[0]).toMatchObject({ gain: 200, byteOffset: 24, adcResolution: 16, baseline: 0 });
    expect(h.signals[1]).toMatchObject({ gain: 100, baseline: -3, units: 'uV', adcResolution: 16 });
  });

  it('names file, line and field in errors', () => {
    const bad = (text: string): WfdbHeaderError => {
      try {
        parseHeader(text, 'bad.hea');
      } catch (error) {
        if (error instanceof WfdbHeaderError) return error;
        throw error;
      }
      throw new Error('no error thrown');
    };
    expect(bad('').message).toBe('bad.hea: line 1, record line: header is empty');
    expect(bad('r two 360').message).toContain('number of signals: expected an integer, found "two"');
    expect(bad('r 2 360 100\nr.dat 212\n').message).toContain('announces 2 signals but 1 signal lines follow');
    expect(bad('r 1 360\nr.dat abc\n').message).toMatch(/line 2, format: cannot read "abc"/);
    expect(bad('r 1 fast\n').message).toContain('sampling frequency');
    expect(bad('r/3 1 360\n').message).toContain('multi-segment');
    expect(bad('r 1 360\nr.dat 212 2x0\n').field).toBe('ADC gain');
  });

  it('refuses what no device records, with the file, line and field: no rate, signal or gain the monitor cannot use', () => {
    const message = (text: string): string => {
      try {
        parseHeader(text, 'odd.hea');
      } catch (error) {
        if (error instanceof WfdbHeaderError) return error.message;
        throw error;
      }
      return 'no error thrown';
    };
    expect(message('r 1 1e999\nr.dat 16 200\n')).toBe(
      'odd.hea: line 1, sampling frequency: Infinity Hz: the monitor reads 100 to 2000 Hz',
    );
    expect(message('r 1 80\nr.dat 16 200\n')).toContain('sampling frequency: 80 Hz');
    expect(message('r 0 360\n')).toBe(
      'odd.hea: line 1, number of signals: 0: a record the monitor reads has 1 to 16 signals',
    );
    expect(message('r 1 360\nr.dat 16 -200\n')).toBe(
      'odd.hea: line 2, ADC gain: -200: outside 0.01 to 1000000 ADC units per physical unit',
    );
    expect(message('r 1 360\nr.dat 16 200(2147483647)\n')).toContain('line 2, baseline: 2147483647');
    expect(
      message(
        'r 2 250 82500\nr.mat 16+24 7247/mV 16 0 -171 -27403 0 II\nr.mat 16+24 1.253e+04/NU 16 0 6042 -17391 0 PLETH\n',
      ),
    ).toBe('no error thrown');
  });
});
