import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const repo = resolve(import.meta.dirname, '..');
const depcruise = join(repo, 'node_modules', '.bin', 'depcruise');

/** The import-boundary check of `npm run lint:layers` over `dirs` of `cwd`, as CI runs it. */
async function checkLayers(cwd: string, dirs: string[]): Promise<{ ok: boolean; output: string }> {
  const config = join(repo, '.dependency-cruiser.cjs');
  try {
    const { stdout } = await run(depcruise, ['--config', config, ...dirs], { cwd, encoding: 'utf8' });
    return { ok: true, output: stdout };
  } catch (error) {
    return { ok: false, output: String((error as { stdout?: string }).stdout) };
  }
}

describe('the import-boundary check', () => {
  let tree: string;
  const write = async (path: string, text: string) => {
    await mkdir(dirname(join(tree, path)), { recursive: true });
    await writeFile(join(tree, path), text);
  };

  beforeAll(async () => {
    tree = await mkdtemp(join(tmpdir(), 'layers-'));
    await write('tsconfig.json', '{"compilerOptions":{"module":"NodeNext","moduleResolution":"NodeNext"}}');
    await write('stream/contracts/topics.ts', "export const TOPIC = 'ecg.samples';\n");
    await write('stream/dsp/filter.ts', "import { TOPIC } from '../contracts/topics.js';\nexport const F = TOPIC;\n");
    await write('stream/kafka/source.ts', "import { F } from '../dsp/filter.js';\nexport const S = F;\n");
  });
  afterAll(() => rm(tree, { recursive: true, force: true }));

  it('passes the repository as it stands', async () => {
    const { ok, output } = await checkLayers(repo, ['apps', 'stream', 'simulators', 'bench', 'gateway', 'ui']);
    expect(output).toMatch(/no dependency violations found/);
    expect(ok).toBe(true);
  });

  it('fails on an import that runs back up a layer, naming the rule and the files', async () => {
    expect((await checkLayers(tree, ['stream'])).ok).toBe(false); // kafka -> dsp is not allowed either
    await write('stream/kafka/source.ts', "import { TOPIC } from '../contracts/topics.js';\nexport const S = TOPIC;\n");
    expect(await checkLayers(tree, ['stream'])).toMatchObject({ ok: true });
    await write('stream/dsp/upward.ts', "import { S } from '../kafka/source.js';\nexport const U = S;\n");
    const { ok, output } = await checkLayers(tree, ['stream']);
    expect(ok).toBe(false);
    expect(output).toMatch(/layer-stream-dsp: stream\/dsp\/upward\.ts → stream\/kafka\/source\.ts/);
    await rm(join(tree, 'stream/dsp/upward.ts'));
  });

  it('fails on a deliberately added cycle, even inside one layer', async () => {
    await write('stream/dsp/a.ts', "import { B } from './b.js';\nexport const A = () => B;\n");
    await write('stream/dsp/b.ts', "import { A } from './a.js';\nexport const B = () => A;\n");
    const { ok, output } = await checkLayers(tree, ['stream']);
    expect(ok).toBe(false);
    expect(output).toMatch(/no-circular: stream\/dsp\/(a|b)\.ts/);
  });
});
