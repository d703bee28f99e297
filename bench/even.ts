/**
 * even end to end: an access request over HTTP → team check → the forced command over SSH on a
 * real loopback sshd bastion (odd installed by its own install.sh) → GRANTED. Printed beside a
 * bare `ssh -i key user@127.0.0.1 true` against the same sshd, measured in the same run.
 * Needs root (useradd, sshd); bounded counts; removes every user, group and process it made.
 *
 *   npx tsx bench/even.ts
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEvenService, evenMigrations, generateEvenKeyPair } from '../src/even/index.js';
import {
  bastionUnavailableReason,
  type LoopbackBastion,
  startLoopbackBastion,
} from '../src/odd/test-support/loopback-bastion.js';
import { openDatabase } from '../src/platform/db/database.js';
import { migrateToLatest } from '../src/platform/db/migrate.js';
import { createTestContext, KERNEL_MIGRATIONS } from '../src/platform/test-support/service-context.js';
import { sshKeygen } from '../src/platform/test-support/ssh-keygen.js';
import { createTestIssuer } from '../src/platform/test-support/test-issuer.js';
import { freePorts } from '../src/stups/free-ports.js';
import { teamMigrations } from '../src/teams/migrations.js';
import { TeamStore } from '../src/teams/store.js';
import { userMigrations } from '../src/users/migrations.js';
import { UserStore } from '../src/users/store.js';
import { percentile } from './stats.js';

const USERS = 8;
const LATENCY_SAMPLES = 40;
const THROUGHPUT_TOTAL = 80;
const CONCURRENCY = 8;

async function latencies(count: number, task: (i: number) => Promise<void>): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    await task(i);
    samples.push(performance.now() - started);
  }
  return samples.sort((a, b) => a - b);
}

async function rate(total: number, concurrency: number, task: (i: number) => Promise<void>): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) await task(next++);
    }),
  );
  return total / ((performance.now() - started) / 1000);
}

function sshTrue(bastion: LoopbackBastion, user: string, keyFile: string): Promise<void> {
  const args = [
    ...['-F', '/dev/null', '-i', keyFile, '-p', String(bastion.port), '-o', 'BatchMode=yes'],
    ...['-o', 'IdentitiesOnly=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null'],
    ...['-o', 'LogLevel=ERROR', `${user}@127.0.0.1`, 'true'],
  ];
  return new Promise((resolve, reject) => {
    const child = spawn('ssh', args, { stdio: 'ignore' });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`ssh exited with ${code}`))));
  });
}

async function main(): Promise<void> {
  const unavailable = bastionUnavailableReason();
  if (unavailable) {
    console.log(`even benchmark skipped: ${unavailable}`);
    return;
  }
  const scratch = await mkdtemp(join(tmpdir(), 'even-bench-'));
  const [evenPort] = await freePorts(1);
  const evenUrl = `http://127.0.0.1:${evenPort}`;
  const evenKeys = generateEvenKeyPair();
  const bastion = await startLoopbackBastion({ evenUrl, evenPublicKey: evenKeys.publicKey });
  const database = await openDatabase({ kind: 'pglite' });
  const cleanups: (() => Promise<unknown>)[] = [
    () => bastion.stop(),
    () => database.destroy(),
    () => rm(scratch, { recursive: true, force: true }),
  ];
  try {
    await migrateToLatest(database, [
      ...KERNEL_MIGRATIONS,
      { component: 'teams', migrations: teamMigrations },
      { component: 'users', migrations: userMigrations },
      { component: 'even', migrations: evenMigrations },
    ]);
    const teams = new TeamStore(database);
    const users = new UserStore(database);
    const issuer = await createTestIssuer();
    const uids = Array.from({ length: USERS }, (_, i) => `${bastion.tag}-u${i}`);
    await teams.putTeam(bastion.tag, { name: 'bench', members: uids });
    const tokens: string[] = [];
    const keyFiles: string[] = [];
    for (const [i, uid] of uids.entries()) {
      await users.putUser(uid, { name: uid, email: `${uid}@example.org` });
      const key = await sshKeygen('ed25519', { comment: uid });
      await users.addSshKey(uid, key.publicKey);
      keyFiles.push(join(scratch, `key-${i}`));
      await writeFile(keyFiles[i]!, key.privateKey, { mode: 0o600 });
      tokens.push(await issuer.token({ uid }));
    }
    const service = createEvenService(createTestContext(database, issuer.verifier), {
      teams,
      users,
      config: {
        allowedHosts: [
          { hostname: 'localhost', teams: [bastion.tag], address: '127.0.0.1', port: bastion.port },
        ],
        ssh: {
          user: bastion.grantingUser,
          privateKey: evenKeys.privateKey,
          knownHostKeys: [bastion.hostKey],
        },
      },
    });
    const app = await service.createApp();
    await app.listen({ host: '127.0.0.1', port: evenPort! });
    cleanups.unshift(
      () => service.stop(),
      () => app.close(),
    );

    const grant = async (i: number) => {
      const u = i % USERS;
      const response = await fetch(`${evenUrl}/access-requests`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tokens[u]}`, 'content-type': 'application/json' },
        body: JSON.stringify({ hostname: 'localhost', reason: 'benchmark', lifetime_minutes: 5 }),
      });
      const text = await response.text();
      if (response.status !== 200) throw new Error(`grant failed: ${response.status} ${text}`);
    };

    // First grants create the accounts (useradd): measured apart, then every user exists.
    const firstGrants = await latencies(USERS, grant);
    const grantLatency = await latencies(LATENCY_SAMPLES, grant);
    const sshLatency = await latencies(LATENCY_SAMPLES, (i) =>
      sshTrue(bastion, uids[i % USERS]!, keyFiles[i % USERS]!),
    );
    const grantRate = await rate(THROUGHPUT_TOTAL, CONCURRENCY, grant);
    const sshRate = await rate(THROUGHPUT_TOTAL, CONCURRENCY, (i) =>
      sshTrue(bastion, uids[i % USERS]!, keyFiles[i % USERS]!),
    );
    const granted = await service.granting.list({ status: 'GRANTED', limit: 1000, offset: 0 });

    const ms = (v: number) => `${v.toFixed(1).padStart(7)} ms`;
    console.log(`even end to end against a loopback sshd (OpenSSH, ed25519), ${USERS} users, 1 bastion`);
    console.log(`  first grant per user (creates the account): p50 ${ms(percentile(firstGrants, 50))}`);
    console.log(
      `  grant latency   p50 ${ms(percentile(grantLatency, 50))}  p99 ${ms(percentile(grantLatency, 99))}` +
        `   reference ssh true p50 ${ms(percentile(sshLatency, 50))}  p99 ${ms(percentile(sshLatency, 99))}` +
        `   ratio p50 ${(percentile(grantLatency, 50) / percentile(sshLatency, 50)).toFixed(3)}` +
        `  p99 ${(percentile(grantLatency, 99) / percentile(sshLatency, 99)).toFixed(3)}`,
    );
    console.log(
      `  throughput (${CONCURRENCY} in flight, ${THROUGHPUT_TOTAL} each)  grants ${grantRate.toFixed(1).padStart(6)}/s` +
        `   reference ssh true ${sshRate.toFixed(1).padStart(6)}/s   ratio ${(grantRate / sshRate).toFixed(3)}`,
    );
    console.log(
      `  requests stored as GRANTED: ${granted.length} of ${USERS + LATENCY_SAMPLES + THROUGHPUT_TOTAL}`,
    );
  } finally {
    for (const cleanup of cleanups) await cleanup().catch((error: unknown) => console.error(error));
  }
}

await main();
