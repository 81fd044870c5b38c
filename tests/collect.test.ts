import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// wfdb-python once had detector tests that never ran: guard against a test file the runner skips
describe('test collection', () => {
  it('every file under tests/ that declares tests is named *.test.ts', () => {
    const walk = (dir: string): string[] =>
      readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? walk(join(dir, n)) : [join(dir, n)]));
    const declaring = walk('tests').filter((f) =>
      /\b(describe|it|test)(\.each\([^)]*\))?\(/.test(readFileSync(f, 'utf8')),
    );
    expect(declaring.filter((f) => !f.endsWith('.test.ts'))).toEqual([]);
    expect(declaring.length).toBeGreaterThanOrEqual(10);
  });
});
