import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';

/** The facts every benchmark prints with its figures, so numbers can be compared honestly. */
export function machineLine(): string {
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8' }).trim();
    if (dirty.length > 0) commit += '+dirty';
  } catch (error) {
    commit = `unknown (${(error as Error).message.split('\n')[0]})`;
  }
  const cpu = cpus()[0]?.model.trim() ?? 'unknown cpu';
  return `commit ${commit} | node ${process.version} | ${cpu} x${cpus().length} | ${new Date().toISOString()}`;
}
