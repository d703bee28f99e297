import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/platform/logger.js';
import { PORT_BLOCK_SIZE } from '../../src/platform/service-context.js';
import { isPostgresAvailable, TEST_POSTGRES_URL } from '../../src/platform/test-support/databases.js';
import { freePortBlock } from '../../src/stups/free-ports.js';
import { type RunningPlatform, startPlatform } from '../../src/stups/runtime.js';
import { parseSettingsTree } from '../../src/stups/settings.js';

/*
 * The backup and restore of docs/production.md, as written there: data written through the
 * platform on PostgreSQL, `pg_dump --format=custom`, `pg_restore` into a fresh database, the
 * blobs copied, the platform started on the copy with the same installation secret — and
 * everything still verifies: the old token, the Kio application, the Pier One manifest and blob.
 */

const run = promisify(execFile);
const sha256 = (data: string | Buffer) => `sha256:${createHash('sha256').update(data).digest('hex')}`;

function databaseUrl(name: string): string {
  const url = new URL(TEST_POSTGRES_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

describe('backup and restore (pg_dump, pg_restore into a fresh database)', async () => {
  if (!(await isPostgresAvailable())) {
    it.skip(`PostgreSQL is not reachable at ${TEST_POSTGRES_URL}`, () => {});
    return;
  }
  const suffix = randomBytes(5).toString('hex');
  const original = `stups_backup_${suffix}`;
  const restored = `stups_restored_${suffix}`;
  const secret = randomBytes(24).toString('base64url');
  const dirs: string[] = [];
  let platform: RunningPlatform | undefined;

  let basePort: number;
  // The same ports both times: the token service's URL is the issuer of its tokens, and a
  // restored installation keeps its public URLs.
  async function start(database: string, dataDir: string): Promise<RunningPlatform> {
    return startPlatform(
      parseSettingsTree({
        platform: {
          dataDir,
          basePort,
          logLevel: 'silent',
          databaseUrl: databaseUrl(database),
          keyEncryptionSecret: secret,
        },
      }),
      { logger: silentLogger() },
    );
  }

  beforeAll(async () => {
    basePort = await freePortBlock(PORT_BLOCK_SIZE);
    await admin(`CREATE DATABASE ${original}`);
    await admin(`CREATE DATABASE ${restored}`);
  });
  afterAll(async () => {
    await platform?.stop();
    await admin(`DROP DATABASE IF EXISTS ${original} WITH (FORCE)`);
    await admin(`DROP DATABASE IF EXISTS ${restored} WITH (FORCE)`);
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it('keeps tokens, Kio applications and Pier One manifests and blobs', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'stups-backup-'));
    dirs.push(dataDir);
    platform = await start(original, dataDir);
    const before = platform;

    // Writes through the platform: a token, a Kio application, an image (config blob + manifest).
    const tokenAnswer = await fetch(`${before.urls['token-service']}/oauth2/access_token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'password',
        client_id: 'zign',
        username: 'jdoe',
        password: 'jdoe-demo',
        scope: 'uid',
      }),
    });
    expect(tokenAnswer.status).toBe(200);
    const token = ((await tokenAnswer.json()) as { access_token: string }).access_token;
    const bearer = { authorization: `Bearer ${token}` };

    const app = await fetch(`${before.urls.kio}/apps/backup-probe`, {
      method: 'PUT',
      headers: { ...bearer, 'content-type': 'application/json' },
      body: JSON.stringify({ team_id: 'demo', active: true, name: 'Backup probe' }),
    });
    expect(app.status).toBe(201);

    const basic = { authorization: `Basic ${Buffer.from(`oauth2:${token}`).toString('base64')}` };
    const config = JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      rootfs: { type: 'layers', diff_ids: [] },
    });
    const blob = await fetch(
      `${before.urls.pierone}/v2/demo/backup-probe/blobs/uploads/?digest=${sha256(config)}`,
      {
        method: 'POST',
        headers: { ...basic, 'content-type': 'application/octet-stream' },
        body: config,
      },
    );
    expect(blob.status).toBe(201);
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        digest: sha256(config),
        size: Buffer.byteLength(config),
      },
      layers: [],
    });
    const put = await fetch(`${before.urls.pierone}/v2/demo/backup-probe/manifests/1.0`, {
      method: 'PUT',
      headers: { ...basic, 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
      body: manifest,
    });
    expect(put.status).toBe(201);
    await before.stop();
    platform = undefined;

    // The backup and the restore, with the command line tools of docs/production.md.
    const dump = join(dataDir, '..', `stups-${suffix}.dump`);
    dirs.push(dump);
    await run('pg_dump', ['--format=custom', '--no-owner', '--file', dump, databaseUrl(original)]);
    await run('pg_restore', ['--no-owner', '--exit-on-error', '--dbname', databaseUrl(restored), dump]);
    // Blobs on disk here (in S3 in production: the bucket is shared, or restored from versions).
    const restoredDir = await mkdtemp(join(tmpdir(), 'stups-restored-'));
    dirs.push(restoredDir);
    await cp(dataDir, restoredDir, { recursive: true });
    // The original is gone: nothing below can be answered from it.
    await admin(`DROP DATABASE ${original} WITH (FORCE)`);

    platform = await start(restored, restoredDir);
    const after = platform;
    const info = await fetch(`${after.urls['token-service']}/oauth2/tokeninfo?access_token=${token}`);
    expect(info.status).toBe(200);
    expect(((await info.json()) as { uid: string }).uid).toBe('jdoe');
    const kio = await fetch(`${after.urls.kio}/apps/backup-probe`, { headers: bearer });
    expect(kio.status).toBe(200);
    expect(((await kio.json()) as { name: string; team_id: string }).team_id).toBe('demo');
    const got = await fetch(`${after.urls.pierone}/v2/demo/backup-probe/manifests/1.0`, {
      headers: { ...basic, accept: 'application/vnd.oci.image.manifest.v1+json' },
    });
    expect(got.status).toBe(200);
    expect(await got.text()).toBe(manifest);
    const gotBlob = await fetch(`${after.urls.pierone}/v2/demo/backup-probe/blobs/${sha256(config)}`, {
      headers: basic,
    });
    expect(gotBlob.status).toBe(200);
    expect(await gotBlob.text()).toBe(config);
    // And the restored installation still signs new tokens with the restored keys.
    const fresh = await fetch(`${after.urls['token-service']}/oauth2/access_token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'password',
        client_id: 'zign',
        username: 'jdoe',
        password: 'jdoe-demo',
        scope: 'uid',
      }),
    });
    expect(fresh.status).toBe(200);
  }, 180_000);
});
