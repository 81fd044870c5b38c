import { describe, expect, it } from 'vitest';
import { fuzz, type FuzzTally } from '../../apps/fuzz.js';

describe('npm run fuzz, bounded for CI', () => {
  it('reads or refuses with a typed error every mutated frame, header, annotation file and message; no bed stage ends the ward', async () => {
    const report = await fuzz({ inputs: 1500, seed: 1 });
    for (const [kind, tally] of Object.entries(report) as [string, FuzzTally][]) {
      expect(tally.failures, kind).toEqual([]);
      expect(tally.inputs, kind).toBe(1500);
      // the inputs reach past the decoders (some accepted) and hit their checks (some refused)
      expect(tally.accepted, kind).toBeGreaterThan(0);
      expect(
        Object.values(tally.refused).reduce((a, b) => a + b, 0),
        kind,
      ).toBeGreaterThan(0);
    }
    expect(report.frames.slowestMs).toBeLessThan(1000);
    expect(report.frames.wardEvents).toBeGreaterThan(0);
    expect(Object.keys(report.frames.refused)).toEqual(
      expect.arrayContaining(['sample-rate', 'gain', 'baseline', 'sample-count', 'truncated']),
    );
  }, 60_000);
});
