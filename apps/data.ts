import { parseCommandLine, runMain } from './cli.js';
import { ConfigError } from '../stream/contracts/errors.js';
import { mitdbDir, nstdbDir } from '../stream/wfdb/database.js';
import {
  CHECKSUM_FILE,
  DataIntegrityError,
  downloadDatabase,
  PHYSIONET_DATABASES,
  verifyDirectory,
  type DatabaseName,
} from '../stream/wfdb/download.js';

const USAGE = `npm run data -- fetch [--db mitdb|nstdb|all] [--dir DIR] [--from URL]
npm run data -- verify [--db mitdb|nstdb|all] [--dir DIR]

fetch downloads the records the monitor reads from PhysioNet: the MIT-BIH Arrhythmia Database
(mitdb, 48 records) into $MITDB_DIR and the noise records of the Noise Stress Test Database
(nstdb: bw, em, ma) into $NSTDB_DIR (defaults: ../shared/data/mitdb and ../shared/data/nstdb
beside the checkout). Every file is checked against the SHA-256 PhysioNet publishes for it
(SHA256SUMS.txt) before it is written; files already there with that checksum are kept, so a run
after a failure fetches only what is missing. It writes the directory's ${CHECKSUM_FILE}.
verify checks a directory's files against its ${CHECKSUM_FILE}, without a network.
  --db     which database (default: all)
  --dir    the directory (one database only; default as above)
  --from   where the database's files are served (one database only; default
           ${PHYSIONET_DATABASES.mitdb.url} and ${PHYSIONET_DATABASES.nstdb.url})`;

const VERBS = ['fetch', 'verify'] as const;
const DEFAULT_DIRS: Record<DatabaseName, () => string> = { mitdb: mitdbDir, nstdb: nstdbDir };

async function main(): Promise<void> {
  const [verb, ...argv] = process.argv.slice(2);
  const { values } = parseCommandLine(
    'data',
    verb === '--help' ? [verb] : argv,
    { db: { type: 'string' }, dir: { type: 'string' }, from: { type: 'string' } },
    USAGE,
  );
  if (!VERBS.includes(verb as (typeof VERBS)[number]))
    throw new ConfigError(`data: choose ${VERBS.join(' or ')}, got "${verb ?? ''}"\n${USAGE}`);
  const names = Object.keys(PHYSIONET_DATABASES) as DatabaseName[];
  const db = values.db ?? 'all';
  if (db !== 'all' && !names.includes(db as DatabaseName))
    throw new ConfigError(`data: --db must be ${[...names, 'all'].join(', ')}, got "${db}"`);
  const databases = db === 'all' ? names : [db as DatabaseName];
  if (databases.length > 1 && (values.dir !== undefined || values.from !== undefined))
    throw new ConfigError('data: --dir and --from name one database: give --db too');
  const failures: string[] = [];
  for (const database of databases) {
    const dir = values.dir ?? DEFAULT_DIRS[database]();
    try {
      failures.push(
        ...(verb === 'fetch' ? await fetchInto(database, dir, values.from) : await verifyIn(database, dir)),
      );
    } catch (error) {
      // one database's unreachable server or unreadable list leaves the other's run as it is
      if (!(error instanceof DataIntegrityError)) throw error;
      failures.push(`${database}: ${error.message}`);
    }
  }
  if (failures.length > 0) throw new DataIntegrityError(`data ${verb}: ${failures.join('\n')}`);
}

/** Fetches a database into `dir`; what could not be fetched, as lines for the closing error. */
async function fetchInto(database: DatabaseName, dir: string, from: string | undefined): Promise<string[]> {
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const { fetched, present, failed } = await downloadDatabase({ database, dir, baseUrl: from, log });
  const source = from ?? PHYSIONET_DATABASES[database].url;
  process.stdout.write(
    `data: ${database}: ${fetched.length + present.length} files in ${dir} match ${source}/SHA256SUMS.txt ` +
      `(${fetched.length} fetched, ${present.length} already there)\n`,
  );
  if (failed.length === 0) return [];
  return [
    `${database}: ${failed.length} file(s) not fetched (run the command again to fetch only those): ` +
      failed.map((f) => `${f.file} (${f.reason})`).join('; '),
  ];
}

/** Checks `dir` against its checksum list; the files that differ, as lines for the closing error. */
async function verifyIn(database: DatabaseName, dir: string): Promise<string[]> {
  const { verified, mismatched } = await verifyDirectory(dir);
  process.stdout.write(`data: ${database}: ${verified.length} files in ${dir} match its ${CHECKSUM_FILE}\n`);
  if (mismatched.length === 0) return [];
  return [
    `${database}: ${mismatched.length} file(s) in ${dir} do not match its ${CHECKSUM_FILE}: ` +
      mismatched
        .map((m) => (m.actual === undefined ? `${m.file} (missing)` : `${m.file} (SHA-256 ${m.actual})`))
        .join(', '),
  ];
}

runMain(main);
