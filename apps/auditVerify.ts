import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { GatewayStore } from '../gateway/store.js';
import { ConfigError } from '../stream/contracts/errors.js';
import { parseCommandLine, runMain } from './cli.js';

const USAGE = `npm run audit:verify -- [--db FILE] [--json]
Checks the gateway's acknowledgement audit log: each row must carry the hash of its own fields and
of the row before it. Exit 0 if the chain is intact, 1 (naming the first broken row) if not.
  --db FILE   the gateway's store (default out/gateway/gateway.db)`;

async function main(): Promise<void> {
  const { values } = parseCommandLine(
    'audit:verify',
    process.argv.slice(2),
    { db: { type: 'string' }, json: { type: 'boolean' } },
    USAGE,
  );
  const path = values.db ?? resolve('out', 'gateway', 'gateway.db');
  if (!existsSync(path)) throw new ConfigError(`audit:verify: no store at ${path} (--db FILE)`);
  const store = new GatewayStore(path);
  try {
    const result = store.verifyAudit();
    if (values.json === true) process.stdout.write(`${JSON.stringify({ db: path, ...result })}\n`);
    else if (result.intact) process.stdout.write(`audit log of ${path}: ${result.rows} rows, chain intact\n`);
    else
      process.stdout.write(
        `audit log of ${path}: BROKEN at row ${result.firstBroken!.seq} of ${result.rows}: ${result.firstBroken!.why}\n`,
      );
    if (!result.intact) process.exitCode = 1;
  } finally {
    store.close();
  }
}

runMain(main);
