import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const VITE = fileURLToPath(new URL('../../../node_modules/vite/bin/vite.js', import.meta.url));
const CONFIG = fileURLToPath(new URL('../web/vite.config.mts', import.meta.url));

/** Builds the SPA as `npm run build:console` does, into `outDir` (default: where the server looks). */
export function buildWeb(outDir?: string): Promise<void> {
  const args = [VITE, 'build', '--config', CONFIG, '--logLevel', 'warn'];
  if (outDir) args.push('--outDir', outDir, '--emptyOutDir');
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
