import { build } from 'esbuild';
import { copyFile, mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const UI = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'ui');

/**
 * Builds the dashboard (Lit + uPlot, `ui/`) into `outDir`: one minified ES module and the page.
 * Takes a fraction of a second, so the gateway builds it at start and serves what it built.
 */
export async function buildDashboard(outDir: string): Promise<string> {
  await mkdir(outDir, { recursive: true });
  await build({
    entryPoints: [join(UI, 'main.ts')],
    outfile: join(outDir, 'app.js'),
    bundle: true,
    format: 'esm',
    target: 'es2022',
    minify: true,
    sourcemap: true,
    loader: { '.css': 'text' },
    logLevel: 'silent',
  });
  await copyFile(join(UI, 'index.html'), join(outDir, 'index.html'));
  return outDir;
}
