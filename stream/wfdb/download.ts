import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MonitorError } from '../contracts/errors.js';

/**
 * The PhysioNet databases the monitor reads, where PhysioNet publishes them, and which of their
 * files a run needs (the records, not the databases' HTML and tools): their published
 * `SHA256SUMS.txt` lists every file with its SHA-256.
 */
export const PHYSIONET_DATABASES = {
  /** MIT-BIH Arrhythmia Database: 48 records, each a header, a signal file and reference annotations. */
  mitdb: { url: 'https://physionet.org/files/mitdb/1.0.0', files: /^\d{3}\.(hea|dat|atr)$/, count: 144 },
  /** MIT-BIH Noise Stress Test Database: the three noise records (baseline wander, electrode motion, muscle). */
  nstdb: { url: 'https://physionet.org/files/nstdb/1.0.0', files: /^(bw|em|ma)\.(hea|dat)$/, count: 6 },
} as const satisfies Record<string, { url: string; files: RegExp; count: number }>;
export type DatabaseName = keyof typeof PHYSIONET_DATABASES;

/** The checksum list a downloaded database directory keeps (`sha256sum -c SHA256SUMS` reads it too). */
export const CHECKSUM_FILE = 'SHA256SUMS';
/** The checksum list as PhysioNet publishes it beside a database's files. */
export const PUBLISHED_CHECKSUM_FILE = 'SHA256SUMS.txt';

/**
 * Downloaded or local data that is not what its checksum list says (or a list that cannot be
 * read). Retriable only when the network failed, never for bytes that arrived wrong.
 */
export class DataIntegrityError extends MonitorError {}

/** What the downloader needs of `fetch`: passed in, so that tests serve files without a network. */
export type Fetch = (url: string, init: { signal: AbortSignal }) => Promise<Response>;

/** A checksum list in `sha256sum` format (`<64 hex>  <name>`, or `*<name>` in binary mode): name -> hash. */
export function parseChecksums(text: string, source: string): Map<string, string> {
  const sums = new Map<string, string>();
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '') return;
    // sha256sum writes two characters after the hash (space, then space or *), PhysioNet one space
    const match = /^([0-9a-fA-F]{64})(?: [ *]| )(.+)$/.exec(line);
    if (match === null) throw new DataIntegrityError(`${source}: line ${i + 1} is not "<sha256>  <file>": ${line}`);
    sums.set(match[2]!, match[1]!.toLowerCase());
  });
  if (sums.size === 0) throw new DataIntegrityError(`${source}: no checksums in it`);
  return sums;
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** A file's SHA-256, or undefined where there is no file to read. */
function fileSha256(path: string): Promise<string | undefined> {
  return readFile(path).then(sha256, () => undefined);
}

/** A file of a checksum list whose bytes are not the listed ones (`actual` undefined: missing). */
export interface ChecksumMismatch {
  readonly file: string;
  readonly expected: string;
  readonly actual: string | undefined;
}

/** What `verifyDirectory` found: files whose bytes are the listed ones, files that differ, files asked for that the list lacks. */
export interface DirectoryCheck {
  readonly listPath: string;
  readonly verified: string[];
  readonly mismatched: ChecksumMismatch[];
  readonly unlisted: string[];
}

/**
 * Checks the files a directory's `SHA256SUMS` lists against their bytes: every listed file, or
 * only those named in `only` (a replay's records), which the list must then hold.
 */
export async function verifyDirectory(dir: string, only?: ReadonlySet<string>): Promise<DirectoryCheck> {
  // a folder as `npm run data` writes it holds SHA256SUMS; one copied from PhysioNet, SHA256SUMS.txt
  let listPath = join(dir, CHECKSUM_FILE);
  let text: string;
  try {
    text = await readFile(listPath, 'utf8').catch(async (error: unknown) => {
      const published = join(dir, PUBLISHED_CHECKSUM_FILE);
      const found = await readFile(published, 'utf8').catch(() => undefined);
      if (found === undefined) throw error;
      listPath = published;
      return found;
    });
  } catch (error) {
    throw new DataIntegrityError(`${listPath}: cannot read the checksum list (${(error as Error).message})`, {
      cause: error,
    });
  }
  const listed = parseChecksums(text, listPath);
  const verified: string[] = [];
  const mismatched: ChecksumMismatch[] = [];
  for (const [file, expected] of listed) {
    if (only !== undefined && !only.has(file)) continue;
    const actual = await fileSha256(join(dir, file));
    if (actual === expected) verified.push(file);
    else mismatched.push({ file, expected, actual });
  }
  const unlisted = only === undefined ? [] : [...only].filter((file) => !listed.has(file)).sort();
  return { listPath, verified, mismatched, unlisted };
}

/** The files of WFDB records as `verifyDirectory` takes them: header, signals and reference annotations. */
export function recordFiles(records: readonly string[]): Set<string> {
  return new Set(records.flatMap((r) => ['hea', 'dat', 'atr'].map((extension) => `${r}.${extension}`)));
}

export interface DownloadOptions {
  readonly database: DatabaseName;
  readonly dir: string;
  /** Where the database's files and `SHA256SUMS.txt` are served (default: PhysioNet). */
  readonly baseUrl?: string;
  readonly fetch?: Fetch;
  /** Per request; a request that takes longer is tried again. */
  readonly timeoutMs?: number;
  /** Tries per file when the network or the server fails (not when the bytes are wrong). */
  readonly attempts?: number;
  /** Before another try (ms), doubled each time. */
  readonly retryDelayMs?: number;
  readonly concurrency?: number;
  readonly log?: (line: string) => void;
}

export interface DownloadResult {
  /** Files fetched and verified in this run. */
  readonly fetched: string[];
  /** Files already in the directory with the published checksum (not fetched again). */
  readonly present: string[];
  /** Files that could not be fetched with the published checksum, and why; none of them is left in the directory. */
  readonly failed: { file: string; reason: string }[];
}

/**
 * Downloads a database's record files into `dir`, each checked against the SHA-256 that
 * PhysioNet publishes for it before it takes its name there: a file whose bytes differ is never
 * written (a run killed while writing one leaves a `.tmp` file, which nothing reads). Files already
 * there with the published checksum are kept, so a run after a failure fetches only what is
 * missing. Only names the database's pattern accepts are fetched, so a list cannot write outside
 * `dir`. Writes `dir`'s `SHA256SUMS` for the files it needs, which `verifyDirectory` checks later
 * without a network.
 */
export async function downloadDatabase(options: DownloadOptions): Promise<DownloadResult> {
  const database = PHYSIONET_DATABASES[options.database];
  const baseUrl = (options.baseUrl ?? database.url).replace(/\/+$/, '');
  const get = (name: string) => fetchBytes(`${baseUrl}/${name}`, options);
  const listUrl = `${baseUrl}/${PUBLISHED_CHECKSUM_FILE}`;
  const published = parseChecksums(new TextDecoder().decode(await get(PUBLISHED_CHECKSUM_FILE)), listUrl);
  const wanted = [...published].filter(([file]) => database.files.test(file)).sort(([a], [b]) => a.localeCompare(b));
  if (wanted.length !== database.count)
    options.log?.(
      `data: ${listUrl} lists ${wanted.length} of the ${database.count} record files expected of ${options.database}`,
    );
  if (wanted.length === 0) throw new DataIntegrityError(`${listUrl}: lists none of ${options.database}'s record files`);
  await mkdir(options.dir, { recursive: true });
  const result: DownloadResult = { fetched: [], present: [], failed: [] };
  const queue = [...wanted];
  const worker = async (): Promise<void> => {
    for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
      const [file, expected] = next;
      const path = join(options.dir, file);
      const local = await fileSha256(path);
      if (local === expected) {
        result.present.push(file);
        continue;
      }
      try {
        const bytes = await get(file);
        const actual = sha256(bytes);
        if (actual !== expected)
          throw new DataIntegrityError(`SHA-256 ${actual} differs from the published ${expected}`);
        const tmp = `${path}.${process.pid}.tmp`;
        await writeFile(tmp, bytes);
        await rename(tmp, path);
        result.fetched.push(file);
        options.log?.(`data: ${file} ${local === undefined ? 'fetched' : 'replaced (its SHA-256 differed)'}`);
      } catch (error) {
        if (!(error instanceof MonitorError)) throw error;
        result.failed.push({ file, reason: error.message });
        options.log?.(`data: ${file} not fetched: ${error.message}`);
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 4 }, worker));
  for (const files of [result.fetched, result.present]) files.sort();
  result.failed.sort((a, b) => a.file.localeCompare(b.file));
  await writeFile(join(options.dir, CHECKSUM_FILE), wanted.map(([file, hash]) => `${hash}  ${file}\n`).join(''));
  return result;
}

/** One file's bytes, tried again when the network or the server fails; a 404 or 403 is final. */
async function fetchBytes(url: string, options: DownloadOptions): Promise<Uint8Array> {
  const fetch = options.fetch ?? globalThis.fetch;
  const attempts = options.attempts ?? 3;
  let delay = options.retryDelayMs ?? 1000;
  for (let attempt = 1; ; attempt++) {
    let failure: DataIntegrityError;
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(options.timeoutMs ?? 60_000) });
      if (response.ok) return new Uint8Array(await response.arrayBuffer());
      const retriable = response.status >= 500 || response.status === 429;
      failure = new DataIntegrityError(`${url}: HTTP ${response.status} ${response.statusText}`.trimEnd(), {
        retriable,
      });
    } catch (error) {
      // fetch rejects on DNS, connection, TLS and timeout failures; the server's answers arrive above
      failure = new DataIntegrityError(`${url}: cannot fetch (${describeFetchError(error)})`, {
        retriable: true,
        cause: error,
      });
    }
    if (!failure.retriable || attempt >= attempts)
      throw attempt > 1
        ? new DataIntegrityError(`${failure.message}, after ${attempt} tries`, {
            retriable: failure.retriable,
            cause: failure,
          })
        : failure;
    options.log?.(`data: ${failure.message}; trying again in ${delay} ms`);
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay *= 2;
  }
}

/** undici hides the reason (ECONNREFUSED, ENOTFOUND, a timeout) in `cause`. */
function describeFetchError(error: unknown): string {
  const cause = (error as { cause?: unknown }).cause;
  const reason = cause instanceof Error ? cause.message : undefined;
  const message = error instanceof Error ? error.message : String(error);
  return reason === undefined || reason === message ? message : `${message}: ${reason}`;
}
