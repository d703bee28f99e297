import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVICE_NAMES } from '../../src/platform/service-context.js';
import { isPostgresAvailable, TEST_POSTGRES_URL } from '../../src/platform/test-support/databases.js';
import { freePortBlock, freePorts } from '../../src/stups/free-ports.js';
import { ROOT, type RunningStups, startStups } from './support/start-stups.js';

/*
 * The scale-out path: the platform on PostgreSQL behind HTTPS, and one service running alone
 * (`stups serve`) on the same database, accepting the same tokens.
 */

const ZIGN = join(ROOT, 'bin/zign.js');

/** GET/PUT over HTTPS trusting only the platform's own certificate. */
function httpsJson(
  url: string,
  ca: string,
  token: string,
  method = 'GET',
  body?: unknown,
): Promise<{ status: number; body: unknown }> {
  return new Promise((resolveRequest, reject) => {
    const req = request(
      url,
      {
        method,
        ca,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body ? { 'content-type': 'application/json' } : {}),
        },
      },
      (res) => {
        let data = '';
        res.on('data', (c: Buffer) => (data += c.toString()));
        res.on('end', () =>
          resolveRequest({ status: res.statusCode!, body: data ? JSON.parse(data) : undefined }),
        );
      },
    );
    req.on('error', reject);
    req.end(body ? JSON.stringify(body) : undefined);
  });
}

describe('stups on PostgreSQL with HTTPS, and stups serve', async () => {
  if (!(await isPostgresAvailable())) {
    it.skip(`PostgreSQL is not reachable at ${TEST_POSTGRES_URL}`, () => {});
    return;
  }
  const schema = `e2e_${randomBytes(5).toString('hex')}`;
  const env = {
    DATABASE_URL: `${TEST_POSTGRES_URL}?schema=${schema}`,
    STUPS_KEY_ENCRYPTION_SECRET: randomBytes(24).toString('base64url'),
  };
  let dataDir: string;
  let home: string;
  let basePort: number;
  let platform: RunningStups | undefined;
  let alone: RunningStups | undefined;
  let ca: string;
  const url = (service: (typeof SERVICE_NAMES)[number]) =>
    `https://localhost:${basePort + SERVICE_NAMES.indexOf(service)}`;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'stups-pg-data-'));
    home = await mkdtemp(join(tmpdir(), 'stups-pg-home-'));
    basePort = await freePortBlock(SERVICE_NAMES.length);
    platform = await startStups(
      ['up', '--self-signed', '--data-dir', dataDir, '--base-port', String(basePort)],
      env,
    );
  }, 120_000);

  afterAll(async () => {
    for (const running of [alone, platform]) {
      if (running && running.child.exitCode === null) {
        running.child.kill('SIGTERM');
        await running.exited;
      }
    }
    await rm(dataDir, { recursive: true, force: true });
    await rm(home, { recursive: true, force: true });
    const client = new pg.Client({ connectionString: TEST_POSTGRES_URL });
    await client.connect();
    await client.query(`drop schema if exists ${schema} cascade`);
    await client.end();
  });

  it('serves every service over HTTPS with the certificate it made', async () => {
    expect(platform!.output()).toContain('(PostgreSQL)');
    expect(platform!.output()).toContain(`token-service  ${url('token-service')}`);
    const certFile = /certificate\s+(\S+)/.exec(platform!.output())![1]!;
    expect(certFile).toBe(join(dataDir, 'tls', 'cert.pem'));
    ca = await readFile(certFile, 'utf8');
  });

  it('logs in with zign trusting the certificate, and serves data from PostgreSQL', async () => {
    const zign = spawn(process.execPath, [ZIGN, 'token', '--user', 'jdoe', '--password-stdin'], {
      env: {
        PATH: process.env.PATH,
        HOME: home,
        ZIGN_URL: url('token-service'),
        NODE_EXTRA_CA_CERTS: join(dataDir, 'tls', 'cert.pem'),
      },
    });
    let token = '';
    let errors = '';
    zign.stdout.on('data', (c: Buffer) => (token += c.toString()));
    zign.stderr.on('data', (c: Buffer) => (errors += c.toString()));
    zign.stdin.end('jdoe-demo\n');
    expect(await new Promise((r) => zign.on('exit', r))).toBe(0);
    expect(errors).toBe('');
    token = token.trim();

    const teams = await httpsJson(`${url('teams')}/teams`, ca, token);
    expect(teams.status).toBe(200);
    expect((teams.body as Array<{ id: string }>).map((t) => t.id)).toEqual(['demo', 'shop', 'stups']);

    // One service alone, on the same database, trusting the same issuer.
    const [port] = await freePorts(1);
    alone = await startStups(['serve', 'kio', '--port', String(port), '--data-dir', dataDir], {
      ...env,
      STUPS_URL_TOKEN_SERVICE: url('token-service'),
    });
    expect(alone.output()).toContain(`kio            http://localhost:`);
    const put = await fetch(`http://127.0.0.1:${port}/apps/scale-out`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ team_id: 'demo', active: true, name: 'Scale out' }),
    });
    expect(put.status).toBe(201);
    const read = await httpsJson(`${url('kio')}/apps/scale-out`, ca, token);
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ id: 'scale-out', team_id: 'demo', created_by: 'jdoe' });
  }, 120_000);
});
