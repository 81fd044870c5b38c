import { resolve } from 'node:path';
import { buildDashboard } from '../gateway/bundle.js';
import { startGateway, type RunningGateway } from '../gateway/gateway.js';
import { newToken, UserDirectory, type User } from '../gateway/users.js';
import type { AckKeyRing } from '../stream/contracts/ackSignature.js';
import type { KafkaConnection } from '../stream/kafka/connection.js';

const log = (line: string): void => void process.stderr.write(`${line}\n`);

/** The dashboard's port unless told otherwise. */
export const DEFAULT_PORT = 8080;

/** The users of `--users FILE`, or one development user whose token is printed (never stored). */
export function gatewayUsers(file: string | undefined): { users: UserDirectory; devToken: string | undefined } {
  if (file !== undefined) return { users: UserDirectory.fromFile(file), devToken: undefined };
  const devToken = newToken();
  const developer: User = { name: 'developer', role: 'admin' };
  return { users: UserDirectory.single(developer, devToken), devToken };
}

/** Starts the gateway on a connection and prints where the dashboard is. */
export async function serveDashboard(options: {
  connection: KafkaConnection;
  ackKeys: AckKeyRing | undefined;
  users: UserDirectory;
  devToken: string | undefined;
  dbPath: string;
  /** The port asked for; undefined: 8080, or any free one if 8080 is taken (said in the log). */
  port: number | undefined;
  host: string;
  tls?: { cert: Buffer; key: Buffer };
  origins?: string[];
  instance?: string;
}): Promise<RunningGateway> {
  const uiDir = await buildDashboard(resolve('out', 'ui'));
  let gateway: RunningGateway;
  try {
    gateway = await startGateway({ ...options, port: options.port ?? DEFAULT_PORT, uiDir, log });
  } catch (error) {
    if (options.port !== undefined || (error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    gateway = await startGateway({ ...options, port: 0, uiDir, log });
    log(`gateway: port ${DEFAULT_PORT} is in use; the dashboard is on port ${gateway.port}`);
  }
  if (options.devToken !== undefined)
    log(`gateway: no --users: a development user (admin) whose token is in the address below`);
  process.stdout.write(
    `dashboard: ${gateway.url}/${options.devToken === undefined ? '' : `?token=${options.devToken}`}\n`,
  );
  return gateway;
}
