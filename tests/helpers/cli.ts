import { spawn } from 'node:child_process';

export interface CommandRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** How long the process went on after its last stderr output, ms. */
  readonly afterLastErrorMs: number;
}

/**
 * A command of the monitor (`apps/monitor.ts start|simulate|pipeline`) as a child process on the
 * wasm backend, with no Kafka settings from the caller's shell but those in `env`; killed
 * (SIGKILL) after `timeoutMs`, so a command that never ends fails its test instead of hanging it.
 */
export function runMonitor(
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
  timeoutMs = 60_000,
): Promise<CommandRun> {
  return runScript('apps/monitor.ts', args, env, timeoutMs);
}

/** Any of the project's command scripts (`apps/validate.ts`, ...) run as `runMonitor` runs the monitor. */
export function runScript(
  script: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
  timeoutMs = 60_000,
): Promise<CommandRun> {
  const base: NodeJS.ProcessEnv = { ...process.env, TFJS_BACKEND: 'wasm' };
  delete base.KAFKA_BROKERS;
  delete base.KAFKA_TRANSPORT;
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    env: { ...base, ...env },
    timeout: timeoutMs,
    killSignal: 'SIGKILL',
  });
  let stdout = '';
  let stderr = '';
  let lastErrorAt = Date.now();
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    lastErrorAt = Date.now();
  });
  return new Promise((resolve) =>
    child.on('exit', (code) => resolve({ code, stdout, stderr, afterLastErrorMs: Date.now() - lastErrorAt })),
  );
}
