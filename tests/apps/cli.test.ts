import { describe, expect, it } from 'vitest';
import { positiveNumber, speedOption } from '../../apps/cli.js';
import { ConfigError } from '../../stream/contracts/errors.js';
import { runMonitor, runScript } from '../helpers/cli.js';

describe('numeric flags', () => {
  it('take positive numbers, whole ones where asked, and name the flag and the value otherwise', () => {
    expect(positiveNumber('train', 'lr', '0.0001')).toBe(0.0001);
    expect(positiveNumber('train', 'epochs', '6', true)).toBe(6);
    for (const [value, whole] of [
      ['abc', false],
      ['0', false],
      ['-3', false],
      ['', false],
      ['Infinity', false],
      ['2.5', true],
    ] as const) {
      expect(() => positiveNumber('train', 'epochs', value, whole)).toThrow(ConfigError);
    }
    expect(() => positiveNumber('train', 'epochs', '2.5', true)).toThrow(
      'train: --epochs must be a positive integer, got "2.5"',
    );
    expect(speedOption('validate', 'max')).toBe(Infinity);
    expect(speedOption('validate', '20')).toBe(20);
    expect(() => speedOption('start', 'fast')).toThrow('start: --speed must be a positive number or "max", got "fast"');
  });

  it('a wrong value ends the monitor and a benchmark with one line and exit code 2, before any work', async () => {
    const start = await runMonitor(['start', '--duration', '0']);
    expect(start.code).toBe(2);
    expect(start.stderr).toBe('error: start: --duration must be a positive number, got "0"\n');
    const metadata = await runMonitor(['start'], { KAFKA_OFFSET_METADATA_MAX_BYTES: '4k' });
    expect(metadata.code).toBe(2);
    expect(metadata.stderr).toBe(
      `error: KAFKA_OFFSET_METADATA_MAX_BYTES must be a whole number of bytes (the cluster's offset.metadata.max.bytes), got "4k"\n`,
    );
    const bench = await runScript('bench/pipeline.ts', ['latency', '--beds', 'many']);
    expect(bench.code).toBe(2);
    expect(bench.stderr).toBe('error: bench:pipeline: --beds must be a positive integer, got "many"\n');
    // a memory trend needs measurements after the first 10 minutes of ECG
    const memory = await runScript('bench/pipeline.ts', ['memory', '--hours', '0.2']);
    expect(memory.code).toBe(2);
    expect(memory.stderr).toBe('error: bench:pipeline: --hours must be at least 0.5 for a trend, got "0.2"\n');
    // 2 s of ECG hold no beat: the capacity run printed "0 beats, NaN % explained"
    const capacity = await runScript('bench/pipeline.ts', ['capacity', '--seconds', '2']);
    expect(capacity.code).toBe(2);
    expect(capacity.stderr).toBe('error: bench:pipeline: --seconds must be at least 5 for any beat, got "2"\n');
    // a bed is released only after its stream-stalled alarm (5 s)
    const admissions = await runScript('bench/pipeline.ts', ['admissions', '--release-seconds', '5']);
    expect(admissions.code).toBe(2);
    expect(admissions.stderr).toBe(
      'error: bench:pipeline: --release-seconds must be longer than the 5 s stall time, got "5"\n',
    );
  });
});
