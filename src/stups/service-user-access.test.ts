import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../platform/cli/run-cli.js';
import { silentLogger } from '../platform/logger.js';
import { PORT_BLOCK_SIZE } from '../platform/service-context.js';
import { captureIo } from '../platform/test-support/cli-io.js';
import { stupsProgram } from './cli/main.js';
import { loadOrgFile } from './org-file.js';
import { freePortBlock } from './free-ports.js';
import { type RunningPlatform, startPlatform } from './runtime.js';
import { parseSettingsTree } from './settings.js';

const ORG = `
admins: [admin]
teams:
  - { id: demo, name: Demo, members: [jdoe] }
  - { id: shop, name: Shop, members: [bob] }
users:
  - { uid: admin, name: Admin, email: admin@example.org, password: admin-password-1 }
  - { uid: jdoe, name: Jane, email: jdoe@example.org, password: jdoe-password-1 }
applications:
  - { id: hello-world, team_id: demo, name: Hello World }
  - { id: shop-frontend, team_id: shop, name: Shop Frontend }
service_users:
  - name: stups_hello-world
    application: hello-world
    team: demo
    scopes: [application.write]
`;

const sha256 = (data: string) => `sha256:${createHash('sha256').update(data).digest('hex')}`;

/**
 * Issue 13 §3/§4 end to end on the whole platform: a service user from the org file, named by the
 * `stups_` convention, gets its token from the CREDENTIALS_DIR files as a STUPS library does and
 * acts for its stored application in Kio and Pier One — and for nothing else.
 */
describe('a service user acts for its stored application', () => {
  let platform: RunningPlatform;
  let dataDir: string;
  let credentials: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'stups-service-users-'));
    const orgFile = join(dataDir, 'org.yaml');
    await writeFile(orgFile, ORG);
    const basePort = await freePortBlock(PORT_BLOCK_SIZE);
    platform = await startPlatform(
      parseSettingsTree({
        platform: { dataDir: join(dataDir, 'data'), basePort, orgFile, logLevel: 'silent' },
      }),
      { logger: silentLogger() },
    );
    credentials = join(dataDir, 'data', 'credentials', 'stups_hello-world');
  }, 60_000);
  afterAll(async () => {
    await platform?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  /** What the STUPS libraries do with CREDENTIALS_DIR and OAUTH2_ACCESS_TOKEN_URL. */
  async function serviceToken(dir: string, scope: string): Promise<string> {
    const user = JSON.parse(await readFile(join(dir, 'user.json'), 'utf8'));
    const client = JSON.parse(await readFile(join(dir, 'client.json'), 'utf8'));
    const response = await fetch(`${platform.urls['token-service']}/oauth2/access_token?realm=/services`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64')}`,
      },
      body: new URLSearchParams({
        grant_type: 'password',
        username: user.application_username,
        password: user.application_password,
        scope,
      }),
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { access_token: string; expires_in: number; scope: string };
    expect(body.expires_in).toBeGreaterThan(0);
    return body.access_token;
  }

  async function kioPut(token: string, id: string, team: string) {
    return fetch(`${platform.urls.kio}/apps/${id}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ team_id: team, active: true, name: id, description: 'updated by its service' }),
    });
  }

  /** A push as a registry client does it after `pierone login`: Basic oauth2:<token>. */
  async function push(token: string, repo: string): Promise<number> {
    const auth = `Basic ${Buffer.from(`oauth2:${token}`).toString('base64')}`;
    const config = JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      rootfs: { type: 'layers', diff_ids: [] },
    });
    const blob = await fetch(`${platform.urls.pierone}/v2/${repo}/blobs/uploads/?digest=${sha256(config)}`, {
      method: 'POST',
      headers: { authorization: auth, 'content-type': 'application/octet-stream' },
      body: config,
    });
    if (blob.status !== 201) return blob.status;
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
    const put = await fetch(`${platform.urls.pierone}/v2/${repo}/manifests/1.0`, {
      method: 'PUT',
      headers: { authorization: auth, 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
      body: manifest,
    });
    return put.status;
  }

  it('writes the org file’s service user credentials owner-only in the CREDENTIALS_DIR format', async () => {
    expect((await stat(join(credentials, 'user.json'))).mode & 0o777).toBe(0o600);
    expect((await stat(join(credentials, 'client.json'))).mode & 0o777).toBe(0o600);
    const user = JSON.parse(await readFile(join(credentials, 'user.json'), 'utf8'));
    expect(Object.keys(user).sort()).toEqual(['application_password', 'application_username']);
    expect(user.application_username).toBe('stups_hello-world');
  });

  it('updates Kio app hello-world and pushes demo/hello-world, but nothing of another team', async () => {
    const token = await serviceToken(credentials, 'uid application.write');
    const updated = await kioPut(token, 'hello-world', 'demo');
    expect(updated.status).toBe(200);
    expect(((await updated.json()) as { last_modified_by: string }).last_modified_by).toBe(
      'stups_hello-world',
    );
    expect(await push(token, 'demo/hello-world')).toBe(201);

    const foreign = await kioPut(token, 'shop-frontend', 'shop');
    expect(foreign.status).toBe(403);
    expect(((await foreign.json()) as { detail: string }).detail).toBe(
      'service stups_hello-world belongs to team demo, not to shop',
    );
    expect(await push(token, 'shop/shop-frontend')).toBe(403);
  });

  it('creates a service user with the stups CLI whose credentials files work at once', async () => {
    const adminToken = await (async () => {
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
      return ((await response.json()) as { access_token: string }).access_token;
    })();
    const dir = join(dataDir, 'shop-credentials');
    const stups = async (args: string[]) => {
      const io = await captureIo({
        env: { ZIGN_URL: platform.urls['token-service'], OAUTH2_ACCESS_TOKENS: `default=${adminToken}` },
      });
      const code = await runCli(stupsProgram(io), args, io);
      await io.cleanup();
      return { code, out: io.out(), err: io.err() };
    };

    const created = await stups([
      'service-u',
      'cr',
      'stups_shop-frontend',
      '-a',
      'shop-frontend',
      '-t',
      'shop',
      '-s',
      'application.write',
      '--write-credentials',
      dir,
    ]);
    expect(created).toMatchObject({ code: 0 });
    expect(created.out).not.toMatch(/password/);
    expect(created.err).toBe(`Wrote ${join(dir, 'user.json')}\n`);
    const client = await stups([
      'oauth-client',
      'create',
      'shop-frontend-client',
      '-g',
      'password',
      '--write-credentials',
      dir,
    ]);
    expect(client.code).toBe(0);
    expect(client.err).toBe(`Wrote ${join(dir, 'client.json')}\n`);
    expect((await stat(join(dir, 'client.json'))).mode & 0o777).toBe(0o600);

    const token = await serviceToken(dir, 'uid application.write');
    expect((await kioPut(token, 'shop-frontend', 'shop')).status).toBe(200);
    expect((await kioPut(token, 'hello-world', 'demo')).status).toBe(403);

    const listed = await stups(['service-user', 'list', '-o', 'tsv']);
    expect(listed.out.split('\n')).toContain(
      'stups_shop-frontend\tshop-frontend\tshop\tapplication.write\tfalse',
    );
    const json = await stups(['su', 'show', 'stups_hello-world', '-o', 'json']);
    expect(JSON.parse(json.out)).toEqual({
      username: 'stups_hello-world',
      application_id: 'hello-world',
      team_id: 'demo',
      scopes: ['application.write'],
      disabled: false,
    });
    const rotated = await stups(['su', 'rot', 'stups_shop-frontend', '-o', 'json']);
    expect(JSON.parse(rotated.out).password).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(rotated.err).toBe('');

    // Errors are one line; a non-administrator is refused.
    const missing = await stups(['su', 'show', 'nobody']);
    expect(missing).toEqual({
      code: 1,
      out: '',
      err: 'stups: the token service answered 404: service user nobody does not exist\n',
    });
    const usage = await stups(['su', 'update', 'stups_shop-frontend']);
    expect(usage.code).toBe(2);

    const updated = await stups(['oauth-client', 'up', 'shop-frontend-client', '-s', 'uid', '-o', 'json']);
    expect(JSON.parse(updated.out)).toMatchObject({ scopes: ['uid'], grant_types: ['password'] });
    const rotatedSecret = await stups(['client', 'rot', 'shop-frontend-client', '--write-credentials', dir]);
    expect(rotatedSecret).toMatchObject({ code: 0, out: expect.not.stringMatching(/client_secret/) });
    // The password printed above replaced the one in user.json: write the next one there.
    expect(await stups(['su', 'rotate', 'stups_shop-frontend', '--write-credentials', dir])).toMatchObject({
      code: 0,
    });
    // The client now allows only uid: narrowing leaves application.write out, so Kio refuses.
    const narrowed = await serviceToken(dir, 'uid application.write');
    expect((await kioPut(narrowed, 'shop-frontend', 'shop')).status).toBe(403);

    expect(await stups(['su', 'disable', 'stups_shop-frontend'])).toMatchObject({
      code: 0,
      out: 'Disabled service user stups_shop-frontend.\n',
    });
    expect(await stups(['su', 'delete', 'stups_shop-frontend'])).toMatchObject({
      code: 0,
      out: 'Deleted service user stups_shop-frontend.\n',
    });
    expect(await stups(['client', 'disable', 'shop-frontend-client'])).toMatchObject({ code: 0 });
    expect(await stups(['client', 'delete', 'shop-frontend-client'])).toMatchObject({
      code: 0,
      out: 'Deleted client shop-frontend-client.\n',
    });
    const clients = await stups(['client', 'list', '-o', 'json']);
    expect((JSON.parse(clients.out) as Array<{ client_id: string }>).map((c) => c.client_id)).not.toContain(
      'shop-frontend-client',
    );
  });
  it('follows a changed org file: application and team change, the password in user.json stays', async () => {
    const before = await readFile(join(credentials, 'user.json'), 'utf8');
    await platform.stop();
    const orgFile = join(dataDir, 'org.yaml');
    await writeFile(
      orgFile,
      ORG.replace('application: hello-world', 'application: shop-frontend').replace(
        'team: demo',
        'team: shop',
      ),
    );
    const basePort = await freePortBlock(PORT_BLOCK_SIZE);
    platform = await startPlatform(
      parseSettingsTree({
        platform: { dataDir: join(dataDir, 'data'), basePort, orgFile, logLevel: 'silent' },
      }),
      { logger: silentLogger() },
    );
    expect(await readFile(join(credentials, 'user.json'), 'utf8')).toBe(before);
    const token = await serviceToken(credentials, 'uid application.write');
    expect((await kioPut(token, 'shop-frontend', 'shop')).status).toBe(200);
    expect((await kioPut(token, 'hello-world', 'demo')).status).toBe(403);
  }, 60_000);
});

describe('service_users in the org file', () => {
  it('rejects a name given twice and unknown keys, naming each problem', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'stups-org-'));
    try {
      const file = join(dir, 'org.yaml');
      await writeFile(
        file,
        'service_users:\n  - { name: stups_a, application: a }\n  - { name: stups_a, application: b }\n',
      );
      await expect(loadOrgFile(file)).rejects.toThrow(
        `${file}: service_users.1.name: service user stups_a appears twice`,
      );
      await writeFile(file, 'service_users:\n  - { name: stups_a, application: a, password: secret }\n');
      await expect(loadOrgFile(file)).rejects.toThrow(/service_users\.0: Unrecognized key: "password"/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
