import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { CHROMIUM, launchBenchBrowser } from '../../bench/browser.js';

/**
 * Headless Chromium as the project runs it: software rendering, nothing fetched from outside, and
 * (Playwright's doing) a fresh profile in a temporary folder each launch.
 */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: scripts/setup.sh installs Debian's chromium`);
  return launchBenchBrowser();
}

/** `npm start` as a child process, and the dashboard address it prints. */
export async function startMonitor(
  args: readonly string[],
  timeoutMs = 120_000,
): Promise<{ child: ChildProcess; url: string; stderr: () => string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, TFJS_BACKEND: 'wasm' };
  delete env.KAFKA_BROKERS;
  delete env.KAFKA_TRANSPORT;
  const child = spawn(process.execPath, ['--import', 'tsx', 'apps/monitor.ts', 'start', '--port', '0', ...args], {
    env,
    timeout: timeoutMs,
    killSignal: 'SIGKILL',
  });
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      stdout += d.toString();
      const match = /dashboard: (\S+)/.exec(stdout);
      if (match !== null) resolve(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`npm start ended (${code}) before its dashboard:\n${stderr}`)));
  });
  return { child, url, stderr: () => stderr };
}
