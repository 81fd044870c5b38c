import { resolve } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { buildDashboard } from '../gateway/bundle.js';
import { startGateway, type RunningGateway } from '../gateway/gateway.js';
import { newToken, UserDirectory } from '../gateway/users.js';
import type { KafkaConnection } from '../stream/kafka/connection.js';

/** Headless Chromium with software rendering, nothing fetched from outside: as the tests run it too. */
export const CHROMIUM_ARGS: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Debian's chromium (scripts/setup.sh installs it). */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export function launchBenchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS] });
}

/** A central station on `connection` for one viewer, silent, its dashboard built into out/ui; and the viewer's token. */
export async function benchGateway(connection: KafkaConnection): Promise<{ gateway: RunningGateway; token: string }> {
  const token = newToken();
  const gateway = await startGateway({
    connection,
    users: UserDirectory.single({ name: 'bench', role: 'viewer' }, token),
    ackKeys: undefined,
    dbPath: ':memory:',
    uiDir: await buildDashboard(resolve('out', 'ui')),
    log: () => undefined,
  });
  return { gateway, token };
}
