import { mkdir, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError, MonitorError } from '../stream/contracts/errors.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/** `--help` was given: the usage has been printed and the command ends successfully. */
class HelpShown extends Error {}

/**
 * Parses a command line strictly: an unknown or malformed flag is a ConfigError that lists
 * the flags the command accepts. `--help` prints `usage` and ends the command.
 */
export function parseCommandLine<T extends Options>(command: string, argv: readonly string[], options: T, usage = '') {
  if (argv.includes('--help')) {
    process.stdout.write(`${usage || command}\n`);
    throw new HelpShown();
  }
  try {
    return parseArgs({ args: [...argv], options, strict: true, allowPositionals: false });
  } catch (error) {
    const valid = Object.entries(options)
      .map(([name, o]) => `--${name}${o.type === 'string' ? ' <value>' : ''}`)
      .join(', ');
    throw new ConfigError(`${command}: ${(error as Error).message}. Valid flags: ${valid}`, { cause: error });
  }
}

/**
 * A flag's value as a positive finite number (a whole one where `whole`). "abc", 0 or -1 is a
 * ConfigError that names the flag and what was given, so that a typo never starts a run, a
 * replay or a benchmark on NaN.
 */
export function positiveNumber(command: string, flag: string, value: string, whole = false): number {
  const n = Number(value);
  if (!(n > 0 && Number.isFinite(n)) || (whole && !Number.isInteger(n)))
    throw new ConfigError(`${command}: --${flag} must be a positive ${whole ? 'integer' : 'number'}, got "${value}"`);
  return n;
}

/** `--speed`: a positive factor of real time, or "max" (as fast as the pipeline consumes). */
export function speedOption(command: string, value: string): number {
  if (value === 'max') return Infinity;
  const speed = Number(value);
  if (!(speed > 0 && Number.isFinite(speed)))
    throw new ConfigError(`${command}: --speed must be a positive number or "max", got "${value}"`);
  return speed;
}

/**
 * Makes an output's folder (a file's parent, or the folder itself) before the work that fills
 * it, so that a path that cannot be written fails at once with one clear line, not with a stack
 * trace after a whole replay or the first epoch of a training run.
 */
export async function prepareOutput(
  command: string,
  flag: string,
  path: string,
  kind: 'file' | 'folder' = 'file',
): Promise<string> {
  try {
    // a path on a file system that never answers (a stale mount, /proc on some kernels) fails too
    await withinMs(mkdir(kind === 'file' ? dirname(path) : path, { recursive: true }), OUTPUT_CHECK_MS);
    if (kind === 'file' && (await stat(path).catch(() => undefined))?.isDirectory() === true)
      throw new Error('it is a folder');
  } catch (error) {
    throw new ConfigError(`${command}: cannot write ${flag} ${path}: ${(error as Error).message}`, { cause: error });
  }
  return path;
}

/** How long making an output's folder may take before the path counts as unwritable, ms. */
const OUTPUT_CHECK_MS = 5_000;

/** `work`, or a rejection saying it did not answer within `ms`. */
function withinMs<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms / 1000} s`)), ms);
    timer.unref();
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

/** Runs a CLI entry point: known errors print one clear line and exit 2, others exit 1 with a stack. */
export function runMain(main: () => Promise<void>): void {
  main().catch((error: unknown) => {
    if (error instanceof HelpShown) return;
    if (error instanceof MonitorError) {
      process.stderr.write(`error: ${error.message}\n`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exitCode = 1;
    }
    // the command has failed and said why; a client still retrying in the background (kafkajs
    // keeps trying a lost cluster for about a minute after the command gave up) must not keep
    // the process, and its caller, waiting
    setTimeout(() => process.exit(), FAILED_EXIT_GRACE_MS).unref();
  });
}

/** How long a failed command may take to wind down before it exits anyway, ms. */
const FAILED_EXIT_GRACE_MS = 3_000;
