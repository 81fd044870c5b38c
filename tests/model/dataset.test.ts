import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildBeatSet, labelledBeats, recordBeats, splitBeats, UNLABELLED } from '../../stream/model/dataset.js';
import { DS1, DS2 } from '../../stream/model/aami.js';
import { mitdbDir } from '../../stream/wfdb/index.js';

const cacheDirs: string[] = [];
afterAll(async () => Promise.all(cacheDirs.map((d) => rm(d, { recursive: true, force: true }))));

describe('beat datasets', () => {
  it('labels record 100 through the live front end and the EC57 matcher', async () => {
    const beats = await recordBeats(mitdbDir(), '100');
    const counts = [0, 0, 0, 0, 0];
    for (const l of beats.labels) if (l !== UNLABELLED) counts[l]!++;
    // 2273 reference beats (2239 N, 33 A, 1 V); the first beat has no full window before it
    expect(counts[1]).toBe(33);
    expect(counts[2]).toBe(1);
    expect(counts[0]).toBeGreaterThanOrEqual(2236);
    // every detection is kept, in order; those without a reference label are marked so
    expect(beats.labels.length).toBe(beats.stats.detections);
    const unlabelled = beats.labels.filter((l) => l === UNLABELLED).length;
    expect(unlabelled).toBe(beats.stats.unmatched + beats.stats.unlabelled);
    beats.labels.forEach((l, i) => expect(Number.isNaN(beats.referenceSample[i]!)).toBe(l === UNLABELLED));
    for (let i = 1; i < beats.sourceSample.length; i++)
      expect(beats.sourceSample[i]!).toBeGreaterThan(beats.sourceSample[i - 1]!);
    for (const w of beats.windows) expect(w.length).toBe(187);
  });

  it('keeps the detections the reference does not label out of training and scoring', async () => {
    // 105: heavy noise, so the detector finds beats the reference does not have
    const set = await buildBeatSet(mitdbDir(), ['105', '201']);
    const labelled = labelledBeats(set);
    expect(labelled.length).toBeLessThan(set.count);
    const split = splitBeats(set, 'inter', 42);
    for (const part of [split.train, split.validation, split.test])
      for (const i of part) expect(set.labels[i]).not.toBe(UNLABELLED);
    expect(split.train.length + split.validation.length + split.test.length).toBe(labelled.length);
  });

  it('reads back from its cache exactly what it built', async () => {
    const cacheDir = await mkdtemp(join(tmpdir(), 'beats-'));
    cacheDirs.push(cacheDir);
    const records = ['100', '119'];
    const built = await buildBeatSet(mitdbDir(), records, { cacheDir });
    const cached = await buildBeatSet(mitdbDir(), records, { cacheDir, log: (l) => expect(l).toContain('from cache') });
    expect(cached.count).toBe(built.count);
    expect(Buffer.from(cached.windows.buffer).equals(Buffer.from(built.windows.buffer))).toBe(true);
    expect(Array.from(cached.labels)).toEqual(Array.from(built.labels));
    expect(Array.from(cached.rr)).toEqual(Array.from(built.rr));
    expect(Array.from(cached.rrBaseline)).toEqual(Array.from(built.rrBaseline));
    expect(Array.from(cached.rrIrregularity)).toEqual(Array.from(built.rrIrregularity));
    expect(Array.from(cached.referenceSample)).toEqual(Array.from(built.referenceSample));
  });

  it('lets builds of one beat set run at once (two trainings started together) without either failing', async () => {
    const cacheDir = await mkdtemp(join(tmpdir(), 'beats-'));
    cacheDirs.push(cacheDir);
    const [a, b] = await Promise.all([
      buildBeatSet(mitdbDir(), ['100'], { cacheDir }),
      buildBeatSet(mitdbDir(), ['100'], { cacheDir }),
    ]);
    expect(Array.from(b.labels)).toEqual(Array.from(a.labels));
    expect(await readdir(cacheDir)).toHaveLength(1); // the cache, and no temporary file left
    const logs: string[] = [];
    await buildBeatSet(mitdbDir(), ['100'], { cacheDir, log: (l) => logs.push(l) });
    expect(logs.some((l) => l.includes('from cache'))).toBe(true);
  });

  it("removes caches of an older layout and killed builds' temporary files when it writes one, and nothing else", async () => {
    const cacheDir = await mkdtemp(join(tmpdir(), 'beats-'));
    cacheDirs.push(cacheDir);
    const kept = ['notes.txt', `beats-v8-0123456789abcdef.bin.${process.pid}-0badcafe.tmp`]; // a build still running
    const stale = [
      'beats-0123456789abcdef.bin', // before version 8 the name carried none
      'beats-v7-0123456789abcdef.bin',
      'beats-v8-0123456789abcdef.bin.4194305-deadbeef.tmp', // above Linux's largest process id: no such process
    ];
    for (const name of [...kept, ...stale]) await writeFile(join(cacheDir, name), 'x');
    const logs: string[] = [];
    await buildBeatSet(mitdbDir(), ['100'], { cacheDir, log: (l) => logs.push(l) });
    const left = await readdir(cacheDir);
    expect(left.filter((name) => !kept.includes(name))).toEqual([
      expect.stringMatching(/^beats-v\d+-[0-9a-f]{16}\.bin$/),
    ]);
    expect(left).toEqual(expect.arrayContaining(kept));
    expect(logs.at(-1)).toMatch(/^beat set: removed 3 stale file\(s\) from /);
  });

  it('rebuilds, rather than misreads, a cache file of another length or a damaged one, and says so', async () => {
    const cacheDir = await mkdtemp(join(tmpdir(), 'beats-'));
    cacheDirs.push(cacheDir);
    const built = await buildBeatSet(mitdbDir(), ['100'], { cacheDir });
    const [file] = await readdir(cacheDir);
    const path = join(cacheDir, file!);
    const bytes = await readFile(path);
    // as long as an older layout with one Float32 per beat fewer, and cut mid-beat: its arrays no longer align
    await writeFile(path, bytes.subarray(0, bytes.length - (4 * built.count + 5)));
    const logs: string[] = [];
    const rebuilt = await buildBeatSet(mitdbDir(), ['100'], { cacheDir, log: (l) => logs.push(l) });
    expect(logs.some((l) => l.includes('from cache'))).toBe(false);
    expect(logs[0]).toMatch(/^beat set: cache .* holds \d+ bytes, not \d+; rebuilding it$/);
    expect(Array.from(rebuilt.rrBaseline)).toEqual(Array.from(built.rrBaseline));
    // a header that cannot be read (a file cut to 2 bytes, then one with another header) is rebuilt too
    for (const damaged of [bytes.subarray(0, 2), Buffer.concat([Buffer.from([3, 0, 0, 0]), Buffer.from('{x}')])]) {
      await writeFile(path, damaged);
      logs.length = 0;
      const again = await buildBeatSet(mitdbDir(), ['100'], { cacheDir, log: (l) => logs.push(l) });
      expect(logs[0]).toMatch(/^beat set: cache .* is damaged \(.+\); rebuilding it$/);
      expect(Array.from(again.labels)).toEqual(Array.from(built.labels));
    }
  });

  it('splits reproducibly: intra stratified 80/20, inter by DS1/DS2 records', async () => {
    const records = ['100', '101', '119', '200', '201', '208'];
    const set = await buildBeatSet(mitdbDir(), records);
    const a = splitBeats(set, 'intra', 42);
    expect(splitBeats(set, 'intra', 42)).toEqual(a);
    expect(splitBeats(set, 'intra', 43).test).not.toEqual(a.test);
    expect(a.train.length + a.validation.length + a.test.length).toBe(labelledBeats(set).length);
    const vIn = (ix: Int32Array) => Array.from(ix).filter((i) => set.labels[i] === 2).length;
    const vTotal = vIn(a.train) + vIn(a.validation) + vIn(a.test);
    expect(vIn(a.test) / vTotal).toBeCloseTo(0.2, 2);
    const inter = splitBeats(set, 'inter', 42);
    const recordsOf = (ix: Int32Array) => new Set(Array.from(ix, (i) => set.recordNames[set.recordIndex[i]!]));
    for (const r of recordsOf(inter.test)) expect(DS2).toContain(r);
    for (const r of recordsOf(inter.train)) expect(DS1).toContain(r);
    // patients held out for validation: none of their beats in training
    const held = splitBeats(set, 'inter', 42, ['201']);
    expect([...recordsOf(held.validation)]).toEqual(['201']);
    expect(recordsOf(held.train).has('201')).toBe(false);
    expect(held.test).toEqual(inter.test);
    expect(held.train.length + held.validation.length).toBe(inter.train.length + inter.validation.length);
    expect(() => splitBeats(set, 'inter', 42, ['200'])).toThrow(/200 are not training \(DS1\) records/);
    expect(() => splitBeats(set, 'intra', 42, ['201'])).toThrow(/only the inter split/);
  });
});
