import { type AamiClass } from '../../stream/contracts/aami.js';
import { describe, expect, it } from 'vitest';
import { HR_AVERAGE_BEATS, WardSummary, type SummaryEvent } from '../../apps/wardSummary.js';

const beat = (bedId: string, label: AamiClass, rrS: number | null): SummaryEvent => ({
  kind: 'beat',
  beat: { bedId, label, rrS },
});
const alarm = (bedId: string, id: string, state: 'active' | 'ended', acknowledged = false): SummaryEvent => ({
  kind: 'alarm',
  alarm: { bedId, id, type: 'bigeminy', priority: 'low', state, acknowledged },
});

describe('WardSummary', () => {
  it('shows the mean rate of the latest beats, which holds still in bigeminy', () => {
    const ward = new WardSummary();
    ward.add([beat('bed-01', 'N', null)]);
    expect(ward.heartRate('bed-01')).toBeUndefined();
    // bigeminy: a premature V (0.6 s) then a compensatory pause (1.2 s), over and over
    const bigeminy = Array.from({ length: 20 }, (_, k) =>
      beat('bed-01', k % 2 === 0 ? 'V' : 'N', k % 2 === 0 ? 0.6 : 1.2),
    );
    const rates: number[] = [];
    for (const e of bigeminy) {
      ward.add([e]);
      rates.push(ward.heartRate('bed-01')!);
    }
    // once HR_AVERAGE_BEATS intervals are in, the rate is 60 / 0.9 s whichever beat came last
    for (const rate of rates.slice(HR_AVERAGE_BEATS - 1)) expect(rate).toBeCloseTo(60 / 0.9, 6);
    expect(ward.lines()).toEqual(['  bed-01     HR  67  beats     21 (N 11, V 10)  no active alarm']);
  });

  it('lists active alarms until they end, acknowledged or not, beds in order', () => {
    const ward = new WardSummary();
    expect(ward.lines()).toEqual(['  no bed heard from yet']);
    ward.add([beat('bed-02', 'N', 0.8), alarm('bed-01', 'a1', 'active'), beat('bed-01', 'V', 0.5)]);
    expect(ward.lines()).toEqual([
      '  bed-01     HR 120  beats      1 (V 1)  bigeminy (low)',
      '  bed-02     HR  75  beats      1 (N 1)  no active alarm',
    ]);
    ward.add([alarm('bed-01', 'a1', 'active', true)]);
    expect(ward.lines()[0]).toBe('  bed-01     HR 120  beats      1 (V 1)  bigeminy (low, acknowledged)');
    ward.add([alarm('bed-01', 'a1', 'ended', true), { kind: 'gap', bedId: 'bed-03' }]);
    expect(ward.lines()[0]).toMatch(/no active alarm$/);
    expect(ward.lines()[2]).toBe('  bed-03     HR   -  beats      0 ()  no active alarm');
  });

  it("says so when a bed's frames are dropped because their producer started its numbering over", () => {
    const ward = new WardSummary();
    ward.add([
      beat('bed-01', 'N', 0.8),
      { kind: 'duplicate', bedId: 'bed-01', renumbered: false },
      { kind: 'duplicate', bedId: 'bed-01', renumbered: true },
      { kind: 'duplicate', bedId: 'bed-01', renumbered: true },
    ]);
    expect(ward.lines()).toEqual([
      "  bed-01     HR  75  beats      1 (N 1)  no active alarm  2 frames dropped: numbered below the bed's stream (its producer started its numbering over)",
    ]);
  });
});
