import { describe, expect, it } from 'vitest';
import {
  isQrsCode,
  listRecords,
  mitdbDir,
  monitoringLeadIndex,
  readAnnotations,
  readHeader,
  readRecord,
  wfdbChecksum,
} from '../../stream/wfdb/index.js';

const dir = mitdbDir();
const records = await listRecords(dir);

describe('MIT-BIH Arrhythmia Database through stream/wfdb', () => {
  it('has all 48 records', () => {
    expect(records).toHaveLength(48);
  });

  it.each(records)(
    'record %s: 650000 samples per signal, first values and checksums equal the header',
    async (name) => {
      // readRecord verifies these itself; recomputing here keeps the test independent of that check
      const record = await readRecord(dir, name);
      expect(record.header.sampleCount).toBe(650000);
      for (const signal of record.signals) {
        expect(signal.digital.length).toBe(650000);
        expect(signal.digital[0]).toBe(signal.spec.initialValue);
        expect(wfdbChecksum(signal.digital)).toBe(signal.spec.checksum);
      }
    },
  );

  it('beat counts equal the database’s published table', async () => {
    const bySymbol: Record<string, number> = {};
    let total = 0;
    for (const name of records) {
      for (const a of await readAnnotations(dir, name)) {
        if (!isQrsCode(a.code)) continue;
        bySymbol[a.symbol] = (bySymbol[a.symbol] ?? 0) + 1;
        total++;
      }
    }
    expect(total).toBe(109494);
    expect(bySymbol).toEqual({
      N: 75052,
      L: 8075,
      R: 7259,
      V: 7130,
      '/': 7028,
      A: 2546,
      f: 982,
      F: 803,
      j: 229,
      a: 150,
      E: 106,
      J: 83,
      Q: 33,
      e: 16,
      S: 2,
    });
  });

  it('record 100 has 2273 beats: 2239 N, 33 A, 1 V; rhythm changes carry their AUX text', async () => {
    const anns = await readAnnotations(dir, '100');
    const beats = anns.filter((a) => isQrsCode(a.code));
    expect(beats).toHaveLength(2273);
    expect(beats.filter((a) => a.symbol === 'N')).toHaveLength(2239);
    expect(beats.filter((a) => a.symbol === 'A')).toHaveLength(33);
    expect(beats.filter((a) => a.symbol === 'V')).toHaveLength(1);
    expect(anns.find((a) => a.symbol === '+')?.aux).toBe('(N');
  });

  it('the monitoring lead is MLII, which record 114 stores second', async () => {
    expect(monitoringLeadIndex(await readHeader(dir, '114'))).toBe(1);
    expect(monitoringLeadIndex(await readHeader(dir, '100'))).toBe(0);
  });
});
