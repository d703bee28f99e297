import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { silentLogger } from '../platform/logger.js';
import { PORT_BLOCK_SIZE } from '../platform/service-context.js';
import { freePortBlock } from '../stups/free-ports.js';
import { type RunningPlatform, startPlatform } from '../stups/runtime.js';
import { parseSettingsTree } from '../stups/settings.js';
import {
  formatCounts,
  type RotationKind,
  runZeroFailureHarness,
} from './test-support/zero-failure-harness.js';

const APP = 'hello-world';
const BUCKET = 'demo-mint';
const ORG = `
admins: [admin]
teams:
  - { id: demo, name: Demo, members: [jdoe] }
users:
  - { uid: admin, name: Admin, email: admin@example.org, password: admin-password-1 }
applications:
  - { id: ${APP}, team_id: demo, name: Hello World }
`;
/*
 * berry polls every second; the previous generation stays valid 2 s after the new one was proven:
 * twice berry's interval, the rule (the consumers fetch a new token every 200 ms, so the
 * token lifetime adds nothing here). The harness asks for the next rotation 0.25 s after the last
 * one finished, well within that grace: mint must queue it, not cut the held generation off.
 */
const GRACE_SECONDS = 2;
const ROTATIONS = { password: 20, client: 5 };

const RotateEventSchema = z.object({
  details: z.object({
    distributed_at: z.string().optional(),
    previous_valid_until: z.string().nullish(),
  }),
});

/**
 * The zero-failure test: one stups server (token service, Kio, mint with its worker job,
 * on PGlite), five consumer processes each running berry and getting a token every 200 ms from
 * CREDENTIALS_DIR, and 20 password and 5 client-secret rotations forced through
 * `POST /apps/{app}/renewal?credentials=…`. Every token request of every consumer must succeed.
 */
describe('zero failures across mint rotations', () => {
  let platform: RunningPlatform;
  let root: string;
  let adminToken: string;

  const mint = async (path: string, init: RequestInit = {}) => {
    const response = await fetch(`${platform.urls.mint}${path}`, {
      ...init,
      headers: {
        authorization: `Bearer ${adminToken}`,
        ...(init.body ? { 'content-type': 'application/json' } : {}),
      },
    });
    const body: unknown = await response.json();
    if (response.status >= 300) throw new Error(`mint ${path}: ${response.status} ${JSON.stringify(body)}`);
    return body as Record<string, unknown>;
  };

  async function until<T>(check: () => Promise<T | undefined>, what: string, timeoutMs = 30_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await check();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await sleep(50);
    }
  }

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'zero-failure-'));
    const orgFile = join(root, 'org.yaml');
    await writeFile(orgFile, ORG);
    platform = await startPlatform(
      parseSettingsTree({
        platform: {
          dataDir: join(root, 'data'),
          basePort: await freePortBlock(PORT_BLOCK_SIZE),
          orgFile,
          logLevel: 'silent',
        },
        // The worker looks every 0.25 s, so a queued rotation starts soon after the grace ended.
        mint: { rotationIntervalSeconds: 0.25, retirementGraceSeconds: GRACE_SECONDS },
      }),
      { logger: silentLogger() },
    );
    const response = await fetch(`${platform.urls['token-service']}/oauth2/access_token`, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'password',
        client_id: 'zign',
        username: 'admin',
        password: 'admin-password-1',
        scope: 'uid',
      }),
    });
    expect(response.status).toBe(200);
    adminToken = ((await response.json()) as { access_token: string }).access_token;
    await mint(`/apps/${APP}`, {
      method: 'PUT',
      body: JSON.stringify({ s3_buckets: [BUCKET], is_client_confidential: true, scopes: [] }),
    });
    // The worker's first run creates the service user and the client and writes both files.
    await until(async () => {
      const app = await mint(`/apps/${APP}`);
      if (app.has_problems) throw new Error(`mint: ${String(app.message)}`);
      return app.last_synced ? app : undefined;
    }, 'the first rotation');
  }, 90_000);
  afterAll(async () => {
    await platform?.stop();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('20 password and 5 client-secret rotations: not one failed token request', async () => {
    const field: Record<RotationKind, string> = {
      password: 'last_password_rotation',
      client: 'last_client_rotation',
    };
    const started = Date.now();
    const result = await runZeroFailureHarness({
      consumers: 5,
      tokenUrl: `${platform.urls['token-service']}/oauth2/access_token?realm=/services`,
      berryArgs: ['-a', APP, '-m', BUCKET, '--buckets-dir', join(root, 'data', 'buckets')],
      workDir: join(root, 'consumers'),
      rotations: ROTATIONS,
      berryIntervalSeconds: 1,
      refreshMs: 200,
      pauseMs: 250,
      rotate: async (kind) => {
        const before = (await mint(`/apps/${APP}`))[field[kind]];
        await mint(`/apps/${APP}/renewal?credentials=${kind}`, { method: 'POST' });
        await until(async () => {
          const app = await mint(`/apps/${APP}`);
          if (app.has_problems) throw new Error(`mint: ${String(app.message)}`);
          return app[field[kind]] !== before ? app : undefined;
        }, `the ${kind} rotation`);
      },
    });
    const seconds = (Date.now() - started) / 1000;

    // What mint granted each rotation: the previous generation's validity after the new one was out.
    const audit = await fetch(
      `${platform.urls.teams}/audit-events?service=mint&action=mint.app.rotate&target_id=${APP}&limit=100`,
      { headers: { authorization: `Bearer ${adminToken}` } },
    );
    expect(audit.status).toBe(200);
    const events = ((await audit.json()) as unknown[]).map((e) => RotateEventSchema.parse(e));
    const overlaps = events.flatMap(({ details }) =>
      details.distributed_at && details.previous_valid_until
        ? [Date.parse(details.previous_valid_until) - Date.parse(details.distributed_at)]
        : [],
    );
    const t = result.totals;
    console.log(
      [
        formatCounts(result),
        `  requests ${t.requests}, failures ${t.failed_requests}, rotations ${result.rotations.password} password + ${result.rotations.client} client in ${seconds.toFixed(1)} s`,
        `  overlap of the previous generation after distribution: min ${Math.min(...overlaps)} ms, max ${Math.max(...overlaps)} ms (${overlaps.length} rotations)`,
      ].join('\n'),
    );

    expect(result.rotations).toEqual(ROTATIONS);
    // Every forced rotation overlapped (the first run, which created the credentials, did not).
    expect(overlaps).toHaveLength(ROTATIONS.password + ROTATIONS.client);
    for (const consumer of result.consumers) {
      expect(consumer.refreshes).toBeGreaterThan(20);
      expect(consumer.requests).toBeGreaterThanOrEqual(consumer.refreshes);
    }
    expect(t.failed_requests).toBe(0);
    expect(t.failed_refreshes).toBe(0);
    expect(t.berry_errors).toBe(0);
  }, 240_000);
});
