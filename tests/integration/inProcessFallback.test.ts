import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runMonitor, type CommandRun } from '../helpers/cli.js';

/** `npm start` (or another command) as a child process on a machine without librdkafka. */
const withoutLibrdkafka = (args: string[], env: NodeJS.ProcessEnv = {}): Promise<CommandRun> =>
  runMonitor(args, { LIBRDKAFKA_PATH: '/nonexistent/librdkafka.so.1', ...env });

describe('without librdkafka', () => {
  it('npm start falls back to the in-process transport, says so, and monitors the ward', async () => {
    const run = await withoutLibrdkafka(
      ['start', '--synth', '1', '--speed', '4', '--duration', '15', '--summary-every', '5'],
      // a cluster whose offset.metadata.max.bytes is too small for any bed: the worker goes on without
      { KAFKA_OFFSET_METADATA_MAX_BYTES: '30' },
    );
    expect(run.stderr).toMatch(/kafka: in-process transport .*cannot load librdkafka/);
    expect(run.stderr).toMatch(/the commit metadata holds the watermarks of 0 of 1 beds \(30 bytes/);
    expect(run.code).toBe(0);
    const lastSummary = run.stdout.split('ward @').at(-1)!;
    const beats = Number(/synth-01\s+HR\s+\d+\s+beats\s+(\d+)/.exec(lastSummary)?.[1] ?? 0);
    expect(beats).toBeGreaterThan(40); // about 50 s of ECG at 4x in the 15 s run, minus start-up
  }, 60_000);

  it('npm run pipeline alone refuses, with what to do', async () => {
    const run = await withoutLibrdkafka(['pipeline']);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/set KAFKA_BROKERS, or install librdkafka1/);
  }, 30_000);
});

describe('npm start with a model it cannot load', () => {
  it('stops before the replay with one line naming the file, exit 2', async () => {
    const model = await mkdtemp(join(tmpdir(), 'bad-model-'));
    try {
      await writeFile(join(model, 'model.json'), '{"modelTopology": {"class_name": "Model"}');
      const run = await withoutLibrdkafka(['start', '--synth', '1', '--model', model, '--duration', '20']);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain(`error: ${join(model, 'model.json')}: cannot read a model`);
      // nothing started: no broker, no beds, no stack trace
      expect(run.stderr).not.toMatch(/kafka:|start: |\n\s+at /);
      expect(run.stdout).toBe('');
    } finally {
      await rm(model, { recursive: true, force: true });
    }
  }, 30_000);
});
