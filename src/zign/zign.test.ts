import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { TokenVerifier } from '../platform/auth/token-verifier.js';
import { runCli } from '../platform/cli/run-cli.js';
import { type Database, openDatabase } from '../platform/db/database.js';
import { migrateToLatest } from '../platform/db/migrate.js';
import type { HttpApp } from '../platform/http/create-http-app.js';
import { type CapturedIo, captureIo } from '../platform/test-support/cli-io.js';
import { createTestContext } from '../platform/test-support/service-context.js';
import { freePorts } from '../stups/free-ports.js';
import { createTokenService, type TokenService } from '../token-service/index.js';
import { TOKEN_SERVICE_TEST_MIGRATIONS } from '../token-service/test-support.js';
import { UserStore } from '../users/store.js';
import { zignProgram } from './cli/main.js';
import { readTokenCache, writeTokenCache } from './token-cache.js';

/**
 * The first match of `pattern` in what the CLI writes to stderr, as soon as it is written:
 * the stream is read as it arrives, so the test waits exactly as long as the CLI takes. Fails
 * when the command ends without writing it.
 */
function lineOf(io: CapturedIo, pattern: RegExp, command: Promise<number>): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const match = pattern.exec(io.err());
      if (!match) return;
      io.stderr.off('data', onData);
      resolve(match);
    };
    // captureIo's own listener runs first (it was added first), so io.err() already holds the chunk.
    const onData = () => check();
    io.stderr.on('data', onData);
    check();
    command.then(
      (code) => {
        io.stderr.off('data', onData);
        reject(new Error(`the command ended (exit ${code}) without writing ${pattern}: ${io.err()}`));
      },
      (error: unknown) => {
        io.stderr.off('data', onData);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

/** Zign against a real token service listening on loopback. */
describe('zign', () => {
  let database: Database;
  let service: TokenService;
  let app: HttpApp;
  let baseUrl: string;

  beforeAll(async () => {
    database = await openDatabase({ kind: 'pglite' });
    await migrateToLatest(database, TOKEN_SERVICE_TEST_MIGRATIONS);
    const [port] = await freePorts(1);
    baseUrl = `http://127.0.0.1:${port}`;
    const base = createTestContext(database, new TokenVerifier({ issuers: [] }));
    const ctx = { ...base, urls: { ...base.urls, 'token-service': baseUrl } };
    const users = new UserStore(database);
    await users.putUser('jdoe', { name: 'Jane Doe', email: 'jane@example.org', password: 'jdoe-password' });
    service = createTokenService(ctx, { users, config: { devicePollIntervalSeconds: 1 } });
    await service.upsertServiceUser({
      username: 'kio',
      password: 'kio-service-password',
      scopes: ['uid', 'application.write'],
    });
    await service.upsertClient({
      clientId: 'kio-client',
      type: 'confidential',
      secret: 'kio-client-secret-123456',
      realms: ['services'],
      grantTypes: ['password'],
      scopes: null,
    });
    app = await service.createApp();
    await app.listen({ host: '127.0.0.1', port: port! });
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    await database?.destroy();
  });

  async function zign(args: string[], io: CapturedIo): Promise<number> {
    return runCli(zignProgram({ io }), args, io);
  }

  async function tokeninfo(token: string) {
    const response = await fetch(`${baseUrl}/oauth2/tokeninfo?access_token=${token}`);
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  it('logs in by password, caches the token, and refreshes it without asking again', async () => {
    const io = await captureIo({ env: { ZIGN_URL: baseUrl }, stdin: 'jdoe-password\n' });
    try {
      expect(await zign(['token', '-U', 'jdoe', '--password-stdin'], io)).toBe(0);
      const first = io.out().trim();
      expect((await tokeninfo(first)).body).toMatchObject({ uid: 'jdoe', realm: '/employees' });
      expect(await readFile(join(io.home, '.config/zign/zign.yaml'), 'utf8')).toBe('user: jdoe\n');

      // Expire the cached token: zign must use the refresh token, not a password (stdin is empty now).
      const cache = await readTokenCache(io.env);
      cache.default!.expires_at = new Date(Date.now() - 1000).toISOString();
      await writeTokenCache(io.env, cache);
      const again = await captureIo({ env: io.env });
      again.env.HOME = io.home;
      expect(await zign(['token'], again)).toBe(0);
      const second = again.out().trim();
      expect(second).not.toBe(first);
      expect((await tokeninfo(second)).body.uid).toBe('jdoe');
      await again.cleanup();
    } finally {
      await io.cleanup();
    }
  });

  it('keeps a copy of each named token where the original Zign reads it, in its format', async () => {
    const io = await captureIo({ env: { ZIGN_URL: baseUrl }, stdin: 'jdoe-password\n' });
    try {
      const tokensFile = join(io.home, '.config/zalando-token-cli/tokens.yaml');
      await mkdir(join(io.home, '.config/zalando-token-cli'), { recursive: true });
      // A token another tool put there stays.
      const other = {
        access_token: 'other.tool.token',
        creation_time: 1700000000,
        expires_in: 3600,
        token_type: 'Bearer',
        scope: '',
      };
      await writeFile(tokensFile, stringify({ other }));
      const before = Math.floor(Date.now() / 1000);
      expect(await zign(['token', '-n', 'deploy', '-U', 'jdoe', '--password-stdin', 'uid'], io)).toBe(0);
      const after = Math.ceil(Date.now() / 1000);
      expect(io.err()).toBe('');
      const token = io.out().trim();
      const copied = parse(await readFile(tokensFile, 'utf8')) as Record<string, Record<string, unknown>>;
      expect(Object.keys(copied).sort()).toEqual(['deploy', 'other']);
      expect(copied.other).toEqual(other);
      expect(copied.deploy).toEqual({
        access_token: token,
        creation_time: expect.any(Number),
        expires_in: expect.any(Number),
        token_type: 'Bearer',
        scope: 'uid',
      });
      const { creation_time: created, expires_in: lifetime } = copied.deploy as {
        creation_time: number;
        expires_in: number;
      };
      expect(created).toBeGreaterThanOrEqual(before);
      expect(created).toBeLessThanOrEqual(after);
      // The lifetime the token service answered, which tokeninfo counts down from.
      expect(lifetime).toBeGreaterThan(0);
      expect(lifetime).toBeGreaterThanOrEqual((await tokeninfo(token)).body.expires_in as number);
      expect((await stat(tokensFile)).mode & 0o777).toBe(0o600);

      // Forgetting the token forgets the copy; the other tool's entry stays.
      const forget = await captureIo({ env: io.env });
      expect(await zign(['delete', 'deploy'], forget)).toBe(0);
      expect(parse(await readFile(tokensFile, 'utf8'))).toEqual({ other });
      await forget.cleanup();

      // A file that is not theirs to rewrite (not a mapping) stays as it is: a warning, and the token.
      await writeFile(tokensFile, '- not\n- a mapping\n');
      const warned = await captureIo({ env: io.env, stdin: 'jdoe-password\n' });
      expect(await zign(['token', '-n', 'ci', '-U', 'jdoe', '--password-stdin'], warned)).toBe(0);
      expect(warned.out().trim().split('.')).toHaveLength(3);
      expect(warned.err()).toBe(
        `zign: warning: the copy for zalando-token-cli was not written: ${tokensFile}: expected a mapping of keys to values\n`,
      );
      expect(await readFile(tokensFile, 'utf8')).toBe('- not\n- a mapping\n');
      await warned.cleanup();
    } finally {
      await io.cleanup();
    }
  });

  it('logs in through the device flow approved in a browser', async () => {
    const io = await captureIo({ env: { ZIGN_URL: baseUrl } });
    try {
      const done = zign(['login', '--device'], io);
      const code = (await lineOf(io, /confirm the code (\S+)/, done))[1];
      expect(code).toBeDefined();
      const pageUrl = /open (\S+)/.exec(io.err())![1]!;
      expect(pageUrl.startsWith(`${baseUrl}/oauth2/device`)).toBe(true);

      // What a person's browser does: load the page, then post the form with its CSRF token and cookie.
      const page = await fetch(pageUrl);
      const cookie = page.headers.get('set-cookie')!.split(';')[0]!;
      const csrf = /name="csrf_token" value="([^"]+)"/.exec(await page.text())![1]!;
      const approve = await fetch(`${baseUrl}/oauth2/device`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
        body: new URLSearchParams({
          csrf_token: csrf,
          user_code: code!,
          username: 'jdoe',
          password: 'jdoe-password',
          decision: 'approve',
        }).toString(),
      });
      expect(approve.status).toBe(200);
      expect(await done).toBe(0);
      expect(io.out()).toBe('Logged in.\n');
      const cached = (await readTokenCache(io.env)).default!;
      expect((await tokeninfo(cached.access_token)).body.uid).toBe('jdoe');
    } finally {
      await io.cleanup();
    }
  }, 30_000);

  it('gets service tokens from mint credentials in CREDENTIALS_DIR', async () => {
    const io = await captureIo();
    try {
      const dir = join(io.home, 'credentials');
      await mkdir(dir);
      await writeFile(
        join(dir, 'user.json'),
        JSON.stringify({ application_username: 'kio', application_password: 'kio-service-password' }),
      );
      await writeFile(
        join(dir, 'client.json'),
        JSON.stringify({ client_id: 'kio-client', client_secret: 'kio-client-secret-123456' }),
      );
      io.env.CREDENTIALS_DIR = dir;
      io.env.OAUTH2_ACCESS_TOKEN_URL = `${baseUrl}/oauth2/access_token?realm=/services`;
      expect(await zign(['token', 'uid', 'application.write'], io)).toBe(0);
      const info = await tokeninfo(io.out().trim());
      expect(info.body).toMatchObject({ uid: 'kio', realm: '/services', 'application.write': true });

      await writeFile(
        join(dir, 'client.json'),
        JSON.stringify({ client_id: 'kio-client', client_secret: 'wrong-secret-1234567890' }),
      );
      const failed = await captureIo({ env: io.env });
      expect(await zign(['token'], failed)).toBe(1);
      expect(failed.err()).toMatch(/^zign: invalid_client/);
      await failed.cleanup();
    } finally {
      await io.cleanup();
    }
  });

  it('uses pinned tokens and fails clearly when it cannot log in', async () => {
    const pinned = await captureIo({ env: { OAUTH2_ACCESS_TOKENS: 'kio=abc.def.ghi,default=pinned-token' } });
    expect(await zign(['token'], pinned)).toBe(0);
    expect(pinned.out()).toBe('pinned-token\n');
    await pinned.cleanup();

    const noUrl = await captureIo();
    expect(await zign(['token'], noUrl)).toBe(1);
    expect(noUrl.err()).toBe(
      'zign: no token service URL configured: run "zign configure --url URL" (or set ZIGN_URL)\n',
    );
    await noUrl.cleanup();

    const noTty = await captureIo({ env: { ZIGN_URL: baseUrl, USER: 'jdoe' } });
    expect(await zign(['token'], noTty)).toBe(1);
    expect(noTty.err()).toBe(
      'zign: not logged in: run "zign login" on a terminal (in scripts: "zign login --password-stdin")\n',
    );
    await noTty.cleanup();

    const [closed] = await freePorts(1);
    const unreachable = await captureIo({ env: { ZIGN_URL: `http://127.0.0.1:${closed}` } });
    expect(await zign(['token'], unreachable)).toBe(1);
    expect(unreachable.err()).toBe(
      `zign: cannot reach the token service at http://127.0.0.1:${closed}: ECONNREFUSED\n`,
    );
    await unreachable.cleanup();
  });
});
