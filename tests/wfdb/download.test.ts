import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { copyFile, mkdtemp, readdir, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DataIntegrityError,
  downloadDatabase,
  mitdbDir,
  nstdbDir,
  parseChecksums,
  recordFiles,
  sharedDataDir,
  sha256,
  verifyDirectory,
  type Fetch,
} from '../../stream/wfdb/index.js';

const RECORD_FILES = ['100.atr', '100.dat', '100.hea', '101.atr', '101.dat', '101.hea'];

/**
 * A PhysioNet-like mirror of two records: its SHA256SUMS.txt lists them with their real hashes,
 * beside files a run does not need (the database's HTML, the superseded 102-0.atr).
 */
async function mirror(): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  for (const name of RECORD_FILES) files.set(name, await readFile(join(mitdbDir(), name)));
  files.set('mitdbdir/intro.htm', Buffer.from('<html></html>'));
  files.set('102-0.atr', Buffer.from('old'));
  const list = [...files].map(([name, bytes]) => `${sha256(bytes)}  ${name}\n`).join('');
  files.set('SHA256SUMS.txt', Buffer.from(list));
  return files;
}

/**
 * A fetch that serves the mirror, counts requests per file, and lets a test change what one
 * file's request gets: other bytes, an HTTP status, or a network failure.
 */
function fakeFetch(files: Map<string, Buffer>, answers: Record<string, (n: number) => Response | Error> = {}) {
  const requests = new Map<string, number>();
  const fetch: Fetch = (url) => {
    const name = url.replace('https://mirror.test/mitdb/', '');
    const n = (requests.get(name) ?? 0) + 1;
    requests.set(name, n);
    const answer = answers[name]?.(n);
    if (answer instanceof Error) return Promise.reject(answer);
    if (answer !== undefined) return Promise.resolve(answer);
    const bytes = files.get(name);
    return Promise.resolve(bytes === undefined ? new Response('', { status: 404 }) : new Response(bytes));
  };
  return { fetch, requests };
}

const dirs: string[] = [];
const tempDir = async () => {
  const dir = await mkdtemp(join(tmpdir(), 'data-download-'));
  dirs.push(dir);
  return dir;
};
afterAll(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

const download = (dir: string, fetch: Fetch, log?: (line: string) => void) =>
  downloadDatabase({
    database: 'mitdb',
    dir,
    baseUrl: 'https://mirror.test/mitdb/',
    fetch,
    retryDelayMs: 1,
    log,
  });

describe('downloading a PhysioNet database', () => {
  let files: Map<string, Buffer>;
  beforeAll(async () => {
    files = await mirror();
  });

  it('fetches the record files the published list names, each checked, and writes SHA256SUMS', async () => {
    const dir = await tempDir();
    const lines: string[] = [];
    const { fetch, requests } = fakeFetch(files);
    const result = await download(dir, fetch, (l) => lines.push(l));
    expect(result).toEqual({ fetched: expect.arrayContaining(RECORD_FILES) as string[], present: [], failed: [] });
    expect(result.fetched).toHaveLength(6);
    for (const name of RECORD_FILES)
      expect((await readFile(join(dir, name))).equals(await readFile(join(mitdbDir(), name)))).toBe(true);
    // the HTML and the superseded annotation file are not record files of the database
    expect([...requests.keys()].sort()).toEqual([...RECORD_FILES, 'SHA256SUMS.txt']);
    expect((await readdir(dir)).sort()).toEqual([...RECORD_FILES, 'SHA256SUMS'].sort());
    expect(await verifyDirectory(dir)).toEqual({
      listPath: join(dir, 'SHA256SUMS'),
      verified: RECORD_FILES,
      mismatched: [],
      unlisted: [],
    });
    expect(lines).toContain(
      'data: https://mirror.test/mitdb/SHA256SUMS.txt lists 6 of the 144 record files expected of mitdb',
    );

    // run again: only the list is fetched
    const again = fakeFetch(files);
    expect(await download(dir, again.fetch)).toMatchObject({ fetched: [], failed: [] });
    expect([...again.requests.keys()]).toEqual(['SHA256SUMS.txt']);
  });

  it('never writes a file whose bytes differ from the published checksum, and fetches only it on the next run', async () => {
    const dir = await tempDir();
    const flipped = Buffer.from(files.get('101.dat')!);
    flipped[1000] = flipped[1000]! ^ 0x01;
    const corrupt = fakeFetch(files, { '101.dat': () => new Response(flipped) });
    const result = await download(dir, corrupt.fetch);
    expect(result.fetched).toHaveLength(5);
    expect(result.failed).toEqual([
      {
        file: '101.dat',
        reason: `SHA-256 ${sha256(flipped)} differs from the published ${sha256(files.get('101.dat')!)}`,
      },
    ]);
    expect(corrupt.requests.get('101.dat')).toBe(1); // wrong bytes are not a network failure: no retry
    const left = await readdir(dir);
    expect(left).not.toContain('101.dat');
    expect(left.filter((n) => n.endsWith('.tmp'))).toEqual([]);
    expect((await verifyDirectory(dir)).mismatched).toEqual([
      { file: '101.dat', expected: sha256(files.get('101.dat')!), actual: undefined },
    ]);

    const sound = fakeFetch(files);
    expect(await download(dir, sound.fetch)).toMatchObject({ fetched: ['101.dat'], failed: [] });
    expect([...sound.requests.keys()].sort()).toEqual(['101.dat', 'SHA256SUMS.txt']);
  });

  it('replaces a local file whose checksum differs', async () => {
    const dir = await tempDir();
    await copyFile(join(mitdbDir(), '100.hea'), join(dir, '100.hea'));
    await writeFile(join(dir, '100.atr'), 'damaged');
    const lines: string[] = [];
    const result = await download(dir, fakeFetch(files).fetch, (l) => lines.push(l));
    expect(result.present).toEqual(['100.hea']);
    expect(result.fetched).toContain('100.atr');
    expect(lines).toContain('data: 100.atr replaced (its SHA-256 differed)');
    expect((await verifyDirectory(dir)).mismatched).toEqual([]);
  });

  it('tries a failing server again, but not a missing file', async () => {
    const dir = await tempDir();
    const lines: string[] = [];
    const { fetch, requests } = fakeFetch(files, {
      '100.dat': (n) =>
        n < 3
          ? new Response('', { status: 503, statusText: 'Service Unavailable' })
          : new Response(files.get('100.dat')),
      '100.atr': () => new Response('', { status: 404, statusText: 'Not Found' }),
    });
    const result = await download(dir, fetch, (l) => lines.push(l));
    expect(result.fetched).toContain('100.dat');
    expect(requests.get('100.dat')).toBe(3);
    expect(lines).toContain(
      'data: https://mirror.test/mitdb/100.dat: HTTP 503 Service Unavailable; trying again in 1 ms',
    );
    expect(result.failed).toEqual([
      { file: '100.atr', reason: 'https://mirror.test/mitdb/100.atr: HTTP 404 Not Found' },
    ]);
    expect(requests.get('100.atr')).toBe(1);
  });

  it('an unreachable server is one clear, retriable error after the tries', async () => {
    const dir = await tempDir();
    const refused = new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED 127.0.0.1:9') });
    const { fetch, requests } = fakeFetch(files, { 'SHA256SUMS.txt': () => refused });
    const error = await download(dir, fetch).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DataIntegrityError);
    expect((error as DataIntegrityError).message).toBe(
      'https://mirror.test/mitdb/SHA256SUMS.txt: cannot fetch (fetch failed: connect ECONNREFUSED 127.0.0.1:9), after 3 tries',
    );
    expect((error as DataIntegrityError).retriable).toBe(true);
    expect(requests.get('SHA256SUMS.txt')).toBe(3);
  });

  it('a checksum list that is not one is named with its line', () => {
    expect(() => parseChecksums('abc  100.dat\n', 'SUMS')).toThrow(
      'SUMS: line 1 is not "<sha256>  <file>": abc  100.dat',
    );
    expect(() => parseChecksums('\n', 'SUMS')).toThrow('SUMS: no checksums in it');
    const hash = 'A'.repeat(64);
    expect(parseChecksums(`${hash} *100.dat\r\n`, 'SUMS')).toEqual(new Map([['100.dat', 'a'.repeat(64)]]));
    // PhysioNet's SHA256SUMS.txt: one space between the hash and the file
    expect(parseChecksums(`${hash} 802.atr\n`, 'SHA256SUMS.txt')).toEqual(new Map([['802.atr', 'a'.repeat(64)]]));
  });

  it('checks a folder copied from PhysioNet against its SHA256SUMS.txt', async () => {
    const svdb = await verifyDirectory(sharedDataDir('svdb'));
    expect(svdb.listPath).toMatch(/SHA256SUMS\.txt$/);
    expect(svdb.mismatched).toEqual([]);
    expect(svdb.verified.length).toBeGreaterThanOrEqual(39 * 3);
  });
});

describe('verifying a database directory', () => {
  it('the records every test and run reads are the bytes their SHA256SUMS lists', async () => {
    const mitdb = await verifyDirectory(mitdbDir());
    expect(mitdb.mismatched).toEqual([]);
    expect(mitdb.verified).toHaveLength(144);
    expect((await verifyDirectory(nstdbDir())).mismatched).toEqual([]);
  });

  it('names a changed and a missing file', async () => {
    const dir = await tempDir();
    const files = await mirror();
    for (const name of RECORD_FILES) await writeFile(join(dir, name), files.get(name)!);
    await writeFile(join(dir, 'SHA256SUMS'), RECORD_FILES.map((n) => `${sha256(files.get(n)!)}  ${n}\n`).join(''));
    const changed = Buffer.from(files.get('100.dat')!);
    changed[7] = changed[7]! ^ 0x80;
    await writeFile(join(dir, '100.dat'), changed);
    await unlink(join(dir, '101.atr'));
    const { verified, mismatched } = await verifyDirectory(dir);
    expect(verified).toEqual(['100.atr', '100.hea', '101.dat', '101.hea']);
    expect(mismatched).toEqual([
      { file: '100.dat', expected: sha256(files.get('100.dat')!), actual: sha256(changed) },
      { file: '101.atr', expected: sha256(files.get('101.atr')!), actual: undefined },
    ]);
    // a replay's records only: a record the list lacks is named, not passed over
    const some = await verifyDirectory(dir, recordFiles(['101', '102']));
    expect(some).toMatchObject({
      verified: ['101.dat', '101.hea'],
      mismatched: [{ file: '101.atr' }],
      unlisted: ['102.atr', '102.dat', '102.hea'],
    });
  });
});

describe('npm run data', () => {
  const cli = (...args: string[]) =>
    promisify(execFile)(process.execPath, ['--import', 'tsx', 'apps/data.ts', ...args], {
      encoding: 'utf8',
    });
  let server: Server;
  let base: string;
  beforeAll(async () => {
    const files = await mirror();
    server = createServer((request, response) => {
      const bytes = files.get((request.url ?? '').replace(/^\/mitdb\//, ''));
      response.writeHead(bytes === undefined ? 404 : 200).end(bytes);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/mitdb`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  it('fetch over HTTP, then verify', async () => {
    const dir = await tempDir();
    const fetched = await cli('fetch', '--db', 'mitdb', '--dir', dir, '--from', base);
    expect(fetched.stdout).toBe(
      `data: mitdb: 6 files in ${dir} match ${base}/SHA256SUMS.txt (6 fetched, 0 already there)\n`,
    );
    const verified = await cli('verify', '--db', 'mitdb', '--dir', dir);
    expect(verified.stdout).toBe(`data: mitdb: 6 files in ${dir} match its SHA256SUMS\n`);
    await writeFile(join(dir, '101.hea'), 'changed');
    const failed = await cli('verify', '--db', 'mitdb', '--dir', dir).catch((e: { code: number; stderr: string }) => e);
    expect(failed).toMatchObject({ code: 2 });
    expect((failed as { stderr: string }).stderr).toBe(
      `error: data verify: mitdb: 1 file(s) in ${dir} do not match its SHA256SUMS: 101.hea (SHA-256 ${sha256(Buffer.from('changed'))})\n`,
    );
  });

  it('a wrong verb or flag exits 2 with one clear line', async () => {
    const verb = await cli('download').catch((e: { code: number; stderr: string }) => e);
    expect(verb).toMatchObject({ code: 2 });
    expect((verb as { stderr: string }).stderr).toMatch(/^error: data: choose fetch or verify, got "download"/);
    const both = await cli('fetch', '--dir', '/tmp/x').catch((e: { code: number; stderr: string }) => e);
    expect((both as { stderr: string }).stderr).toBe(
      'error: data: --dir and --from name one database: give --db too\n',
    );
  });
});
