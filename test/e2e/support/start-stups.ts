import { type ChildProcess, spawn } from 'node:child_process';
import { join, resolve } from 'node:path';

/** The repository root; the e2e tests run the built programs in `bin/`. */
export const ROOT = resolve(import.meta.dirname, '../../..');
export const STUPS = join(ROOT, 'bin/stups.js');

export interface RunningStups {
  child: ChildProcess;
  /** Everything it printed so far, stdout and stderr. */
  output: () => string;
  exited: Promise<number | null>;
}

/**
 * Starts `stups <args>` (up or serve) as a child process and resolves once it printed that it
 * is ready; rejects with its output if it exits first.
 */
export function startStups(args: string[], env: NodeJS.ProcessEnv = {}): Promise<RunningStups> {
  const child = spawn(process.execPath, [STUPS, ...args, '--log-level', 'warn'], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', r));
  return new Promise((resolveStart, reject) => {
    const timer = setInterval(() => {
      if (out.includes('Stop with Ctrl-C.')) {
        clearInterval(timer);
        resolveStart({ child, output: () => out, exited });
      }
    }, 50);
    void exited.then((code) => {
      clearInterval(timer);
      reject(new Error(`stups ${args[0]} exited with ${code} before it was ready:\n${out}`));
    });
  });
}
