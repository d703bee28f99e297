import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';

export const ENTRY = join(import.meta.dirname, 'berry-entry.ts');

/** What mint writes (compact JSON, its key order). */
export function userJson(username: string, password: string): string {
  return JSON.stringify({ application_username: username, application_password: password });
}
export function clientJson(clientId: string, secret: string | null): string {
  return JSON.stringify({ client_id: clientId, client_secret: secret });
}

/** Writes `<bucketsDir>/<bucket>/<app>/<name>.json` as mint's folder writer does. */
export async function putBucketFile(
  bucketsDir: string,
  bucket: string,
  app: string,
  name: 'user' | 'client',
  content: string,
): Promise<void> {
  const dir = join(bucketsDir, bucket, app);
  await mkdir(dir, { recursive: true });
  // Atomic like the real writer, so a berry reading concurrently never sees half a file.
  const temp = join(dir, `.${name}.json.${process.pid}.tmp`);
  await writeFile(temp, content);
  await rename(temp, join(dir, `${name}.json`));
}

export interface BerryProcess {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** berry as a separate process (under tsx), as an instance runs it. */
export function startBerryProcess(args: readonly string[], env: NodeJS.ProcessEnv = {}): BerryProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', ENTRY, ...args], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

/** Waits for a condition that another process brings about, checking every 25 ms up to `timeoutMs`. */
export async function eventually<T>(
  check: () => Promise<T | undefined>,
  what: string,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** A loopback port nothing listens on: free a moment ago (fetch refuses well-known ports like 1). */
export function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}
