import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const VITE = fileURLToPath(new URL('../../../node_modules/vite/bin/vite.js', import.meta.url));
const CONFIG = fileURLToPath(new URL('../web/vite.config.mts', import.meta.url));

/**
 * Builds the SPA as `npm run build:console` does, into `outDir` (default: where the server looks).
 * `manifest` adds Vite's `.vite/manifest.json` (which chunk imports which), for measuring the first load;
 * the product build leaves it out, so the server does not publish it.
 */
export function buildWeb(outDir?: string, options: { manifest?: boolean } = {}): Promise<void> {
  const args = [VITE, 'build', '--config', CONFIG, '--logLevel', 'warn'];
  if (outDir) args.push('--outDir', outDir, '--emptyOutDir');
  if (options.manifest) args.push('--manifest');
  return new Promise((resolve, reject) => {
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
}
