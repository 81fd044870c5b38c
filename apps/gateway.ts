import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { UserDirectory } from '../gateway/users.js';
import { gatewayUsers, serveDashboard } from './dashboard.js';
import { AckKeyRing } from '../stream/contracts/ackSignature.js';
import type { Role } from '../stream/contracts/display.js';
import { ConfigError } from '../stream/contracts/errors.js';
import { connectKafka } from '../stream/kafka/connection.js';
import { parseCommandLine, positiveNumber, runMain } from './cli.js';

const USAGE = `KAFKA_BROKERS=host:port npm run gateway -- [options]     the central station's server, alone
npm run gateway -- --users FILE --add-user NAME --role viewer|nurse|admin   add a user (prints its token once)
  --port N          port to listen on (default 8080; 0: any free one)
  --host ADDR       address to listen on (default 127.0.0.1: this machine only)
  --cert FILE --key FILE   serve HTTPS and WSS with this certificate
  --users FILE      the users and their hashed tokens (default: one development user, token printed)
  --db FILE         alarm history and audit log (default out/gateway/gateway.db)
  --origin URL      a browser origin besides the gateway's own that may use it (repeatable)
  --instance NAME   this gateway's name, its consumer group ecg-gateway.NAME (default: its store's)
Environment: KAFKA_BROKERS (and KAFKA_SSL*, KAFKA_SASL_*), ECG_ACK_KEYS or ECG_ACK_KEYS_FILE (to sign
acknowledgements; without them nurses cannot acknowledge).`;

const log = (line: string): void => void process.stderr.write(`${line}\n`);

async function main(): Promise<void> {
  const { values } = parseCommandLine(
    'gateway',
    process.argv.slice(2),
    {
      port: { type: 'string' },
      host: { type: 'string' },
      cert: { type: 'string' },
      key: { type: 'string' },
      users: { type: 'string' },
      db: { type: 'string' },
      origin: { type: 'string', multiple: true },
      instance: { type: 'string' },
      'add-user': { type: 'string' },
      role: { type: 'string' },
    },
    USAGE,
  );
  if (values['add-user'] !== undefined) {
    if (values.users === undefined) throw new ConfigError('gateway: --add-user needs --users FILE');
    const role = values.role as Role | undefined;
    if (role !== 'viewer' && role !== 'nurse' && role !== 'admin')
      throw new ConfigError(`gateway: --role must be viewer, nurse or admin, got "${values.role ?? ''}"`);
    const token = UserDirectory.addUser(values.users, { name: values['add-user'], role });
    process.stdout.write(`${values['add-user']} (${role}) added to ${values.users}; token (shown once): ${token}\n`);
    return;
  }
  if ((process.env.KAFKA_BROKERS ?? '').trim() === '')
    throw new ConfigError(
      'gateway: set KAFKA_BROKERS to the cluster the pipeline runs on (npm start runs a gateway of its own)',
    );
  if ((values.cert === undefined) !== (values.key === undefined))
    throw new ConfigError('gateway: --cert and --key go together');
  const port =
    values.port === undefined ? 8080 : values.port === '0' ? 0 : positiveNumber('gateway', 'port', values.port, true);
  const read = (flag: string, path: string): Buffer => {
    try {
      return readFileSync(path);
    } catch (error) {
      throw new ConfigError(`gateway: cannot read --${flag} ${path} (${(error as Error).message})`, { cause: error });
    }
  };
  const tls =
    values.cert === undefined ? undefined : { cert: read('cert', values.cert), key: read('key', values.key!) };
  const { users, devToken } = gatewayUsers(values.users);
  const ackKeys = AckKeyRing.fromEnv();
  if (ackKeys === undefined) log('gateway: no ECG_ACK_KEYS (or ECG_ACK_KEYS_FILE): acknowledging is refused (503)');
  const connection = connectKafka('ecg-gateway', log);
  const gateway = await serveDashboard({
    connection,
    ackKeys,
    users,
    devToken,
    dbPath: values.db ?? resolve('out', 'gateway', 'gateway.db'),
    port,
    host: values.host ?? '127.0.0.1',
    ...(tls === undefined ? {} : { tls }),
    ...(values.origin === undefined ? {} : { origins: values.origin }),
    ...(values.instance === undefined ? {} : { instance: values.instance }),
  });
  await new Promise<void>((done) => {
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
  await gateway.close();
  connection.close();
}

runMain(main);
