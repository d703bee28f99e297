import { execFile } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const VITE = fileURLToPath(new URL('../../../node_modules/vite/bin/vite.js', import.meta.url));
const CONFIG = fileURLToPath(new URL('../web/vite.config.mts', import.meta.url));

/**
 * Builds the SPA as `npm run build:console` does, into `outDir` (default: a new temporary folder) and
 * answers the folder; a test serves it through the console's `staticDir` setting. Never the product's
 * `dist/console/web`: other test files start platforms that read that folder at the same time, and a
 * rebuild there (Vite empties it first) made them fail on a chunk that had just been deleted.
 * `manifest` adds Vite's `.vite/manifest.json` (which chunk imports which), for measuring the first load;
 * the product build leaves it out, so the server does not publish it.
 */
export async function buildWeb(outDir?: string, options: { manifest?: boolean } = {}): Promise<string> {
  const dir = outDir ?? (await mkdtemp(join(tmpdir(), 'console-web-')));
  const args = [VITE, 'build', '--config', CONFIG, '--logLevel', 'warn', '--outDir', dir, '--emptyOutDir'];
  if (options.manifest) args.push('--manifest');
  await new Promise<void>((resolve, reject) => {
    // vitest sets NODE_ENV=test, which would bundle React's development build.
    const env = { ...process.env, NODE_ENV: 'production' };
    execFile(
      process.execPath,
      args,
      { cwd: ROOT, env, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`vite build failed: ${stderr || stdout || error.message}`));
        else resolve();
      },
    );
  });
  return dir;
}
