/*
 * One consumer of the zero-failure harness, as its own process: berry keeps CREDENTIALS_DIR current
 * (interval CONSUMER_BERRY_INTERVAL seconds) while a loop gets a fresh service token every
 * CONSUMER_REFRESH_MS through the kernel's library. On SIGTERM it prints its counts as one JSON line.
 *
 * Two counts: `failed_requests` are token-endpoint answers other than 200 (what the issue's
 * zero-failure criterion counts), `failed_refreshes` are refreshes the library could not complete
 * even after its one retry (what an application would notice).
 */
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { type CliIo, runCli } from '../../platform/cli/run-cli.js';
import { ServiceTokens } from '../../platform/service-tokens/service-tokens.js';
import { z } from 'zod';
import { berryProgram } from '../cli/main.js';

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`consumer: ${name} is not set`);
  return value;
}

const credentialsDir = required('CREDENTIALS_DIR');
const tokenUrl = required('OAUTH2_ACCESS_TOKEN_URL');
const berryArgs = z.array(z.string()).parse(JSON.parse(required('CONSUMER_BERRY_ARGS')));
const refreshMs = Number(process.env.CONSUMER_REFRESH_MS ?? 200);
const scopes = (process.env.CONSUMER_SCOPES ?? 'uid').split(' ');

const counts = { requests: 0, failed_requests: 0, refreshes: 0, failed_refreshes: 0, errors: [] as string[] };
const controller = new AbortController();
process.once('SIGTERM', () => controller.abort());

// berry runs in this process; its log is kept to count its errors, not printed.
const berryLog = new PassThrough();
let berryErrors = 0;
berryLog.on('data', (chunk: Buffer) => {
  berryErrors += (chunk.toString().match(/^ERROR:/gm) ?? []).length;
});
const io: CliIo = {
  stdout: berryLog,
  stderr: berryLog,
  stdin: process.stdin,
  env: process.env,
  cwd: process.cwd(),
};

const berry = runCli(
  berryProgram({ io, signal: controller.signal }),
  ['-s', '-i', process.env.CONSUMER_BERRY_INTERVAL ?? '1', ...berryArgs, credentialsDir],
  io,
);

const tokens = new ServiceTokens({
  credentialsDir,
  tokenUrl,
  fetch: async (input, init) => {
    counts.requests++;
    const response = await fetch(input, init);
    if (response.status !== 200) {
      counts.failed_requests++;
      const text = await response.clone().text();
      if (counts.errors.length < 5) counts.errors.push(`HTTP ${response.status}: ${text.slice(0, 200)}`);
    }
    return response;
  },
}).manage('harness', scopes);

// The first pass of berry brings the files; refreshing starts once they are there.
for (;;) {
  if (controller.signal.aborted) break;
  const ready = await access(join(credentialsDir, 'client.json')).then(
    () => true,
    () => false,
  );
  if (ready) break;
  await new Promise((resolve) => setTimeout(resolve, 50));
}
process.stdout.write('ready\n');

while (!controller.signal.aborted) {
  const started = Date.now();
  counts.refreshes++;
  try {
    await tokens.refresh('harness');
  } catch (error) {
    counts.failed_refreshes++;
    if (counts.errors.length < 5) counts.errors.push(error instanceof Error ? error.message : String(error));
  }
  const wait = Math.max(0, refreshMs - (Date.now() - started));
  await new Promise((resolve) => setTimeout(resolve, wait));
}
await berry;
process.stdout.write(`${JSON.stringify({ ...counts, berry_errors: berryErrors })}\n`);
