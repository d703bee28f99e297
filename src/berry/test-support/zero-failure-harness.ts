import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';

/*
 * The zero-failure harness (issue 16, "Tests"): N consumer processes, each running berry
 * (interval 1 s) and getting a fresh service token every 200 ms from its CREDENTIALS_DIR, while
 * rotations happen. It counts; it does not judge. The rotations come from a callback, so the same
 * harness runs against today's token-service store (no overlap: the old password dies at once) and
 * against mint's worker once it exists (`POST /apps/{app}/renewal`, overlap by design). Only a run
 * whose callback goes through mint's overlapping rotation may be read as the zero-failure result.
 */

const CONSUMER_ENTRY = join(import.meta.dirname, 'consumer-entry.ts');

export type RotationKind = 'password' | 'client';

export interface ZeroFailureOptions {
  consumers: number;
  /** Token endpoint with realm, e.g. `http://127.0.0.1:PORT/oauth2/access_token?realm=/services`. */
  tokenUrl: string;
  /** berry's source options for every consumer, e.g. `['-a', app, '-m', bucket, '--buckets-dir', dir]`. */
  berryArgs: readonly string[];
  /** Extra environment for the consumers (AWS variables for S3 buckets). */
  env?: NodeJS.ProcessEnv;
  /** Each consumer gets `<workDir>/consumer-<n>` as its CREDENTIALS_DIR. */
  workDir: string;
  rotations: Record<RotationKind, number>;
  /** Carries out one rotation end to end (new generation written to the bucket) and resolves after it. */
  rotate: (kind: RotationKind, index: number) => Promise<void>;
  /** Time after each rotation before the next; at least a berry interval, so every generation is served. */
  pauseMs?: number;
  refreshMs?: number;
  berryIntervalSeconds?: number;
  scopes?: readonly string[];
}

const ConsumerCountsSchema = z.object({
  requests: z.number(),
  failed_requests: z.number(),
  refreshes: z.number(),
  failed_refreshes: z.number(),
  berry_errors: z.number(),
  errors: z.array(z.string()),
});
export type ConsumerCounts = z.output<typeof ConsumerCountsSchema>;

export interface ZeroFailureResult {
  consumers: ConsumerCounts[];
  totals: Omit<ConsumerCounts, 'errors'>;
  rotations: Record<RotationKind, number>;
}

/** Password and client rotations spread evenly over one sequence (20 + 5 → a client one every 5th). */
export function rotationSchedule(rotations: Record<RotationKind, number>): RotationKind[] {
  const total = rotations.password + rotations.client;
  const schedule: RotationKind[] = [];
  let clients = 0;
  for (let i = 0; i < total; i++) {
    const due = Math.floor(((i + 1) * rotations.client) / total);
    if (due > clients) {
      schedule.push('client');
      clients++;
    } else schedule.push('password');
  }
  return schedule;
}

interface Consumer {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

function startConsumer(n: number, options: ZeroFailureOptions, credentialsDir: string): Consumer {
  const child = spawn(process.execPath, ['--import', 'tsx', CONSUMER_ENTRY], {
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      ...options.env,
      CREDENTIALS_DIR: credentialsDir,
      OAUTH2_ACCESS_TOKEN_URL: options.tokenUrl,
      CONSUMER_BERRY_ARGS: JSON.stringify(options.berryArgs),
      CONSUMER_REFRESH_MS: String(options.refreshMs ?? 200),
      CONSUMER_BERRY_INTERVAL: String(options.berryIntervalSeconds ?? 1),
      CONSUMER_SCOPES: (options.scopes ?? ['uid']).join(' '),
      CONSUMER_NUMBER: String(n),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, stdout: () => out, stderr: () => err, exited };
}

async function waitFor(check: () => boolean, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`zero-failure harness: timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** Runs the harness; the consumers are stopped (SIGTERM) and their counts collected in every case. */
export async function runZeroFailureHarness(options: ZeroFailureOptions): Promise<ZeroFailureResult> {
  const consumers: Consumer[] = [];
  for (let n = 0; n < options.consumers; n++) {
    const dir = join(options.workDir, `consumer-${n}`);
    await mkdir(dir, { recursive: true });
    consumers.push(startConsumer(n, options, dir));
  }
  const done = { password: 0, client: 0 };
  try {
    for (const [n, consumer] of consumers.entries()) {
      await waitFor(
        () => consumer.stdout().includes('ready') || consumer.child.exitCode !== null,
        `consumer ${n} to start`,
        60_000,
      );
      if (consumer.child.exitCode !== null) {
        throw new Error(`consumer ${n} exited with ${consumer.child.exitCode}: ${consumer.stderr()}`);
      }
    }
    for (const kind of rotationSchedule(options.rotations)) {
      await options.rotate(kind, done[kind]);
      done[kind]++;
      await sleep(options.pauseMs ?? 2_500);
    }
  } finally {
    for (const consumer of consumers) consumer.child.kill('SIGTERM');
    await Promise.all(consumers.map((c) => c.exited));
  }
  const counts = consumers.map((consumer, n) => {
    const line = consumer.stdout().trim().split('\n').at(-1) ?? '';
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      throw new Error(`consumer ${n} printed no counts: ${consumer.stdout()} ${consumer.stderr()}`);
    }
    return ConsumerCountsSchema.parse(json);
  });
  const sum = (key: keyof Omit<ConsumerCounts, 'errors'>) => counts.reduce((total, c) => total + c[key], 0);
  return {
    consumers: counts,
    totals: {
      requests: sum('requests'),
      failed_requests: sum('failed_requests'),
      refreshes: sum('refreshes'),
      failed_refreshes: sum('failed_refreshes'),
      berry_errors: sum('berry_errors'),
    },
    rotations: done,
  };
}

/** The counts as the issue asks them printed. */
export function formatCounts(result: ZeroFailureResult): string {
  const t = result.totals;
  return [
    `zero-failure harness: ${result.consumers.length} consumers, ${result.rotations.password} password and ${result.rotations.client} client-secret rotations`,
    `  token requests ${t.requests}, failed ${t.failed_requests}; refreshes ${t.refreshes}, failed after retry ${t.failed_refreshes}; berry errors ${t.berry_errors}`,
    ...result.consumers.flatMap((c, n) => c.errors.map((e) => `  consumer ${n}: ${e}`)),
  ].join('\n');
}
