import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { TokenVerifier } from '../../platform/auth/token-verifier.js';
import { runCli } from '../../platform/cli/run-cli.js';
import { type Database, openDatabase } from '../../platform/db/database.js';
import { migrateToLatest } from '../../platform/db/migrate.js';
import type { HttpApp } from '../../platform/http/create-http-app.js';
import { type CapturedIo, captureIo } from '../../platform/test-support/cli-io.js';
import { createTestContext } from '../../platform/test-support/service-context.js';
import { createTokenService } from '../../token-service/index.js';
import { TOKEN_SERVICE_TEST_MIGRATIONS } from '../../token-service/test-support.js';
import { UserStore } from '../../users/store.js';
import { freePorts } from '../free-ports.js';
import { STUPS_DISCOVERY_PATH } from '../runtime.js';
import { stupsProgram } from './main.js';

/** `stups configure` against a real token service that answers the platform's discovery, as `stups up` makes it. */
describe('stups configure', () => {
  let database: Database;
  let app: HttpApp;
  let baseUrl: string;
  const kioUrl = 'http://kio.example.org:8094';

  beforeAll(async () => {
    database = await openDatabase({ kind: 'pglite' });
    await migrateToLatest(database, TOKEN_SERVICE_TEST_MIGRATIONS);
    const [port] = await freePorts(1);
    baseUrl = `http://127.0.0.1:${port}`;
    const base = createTestContext(database, new TokenVerifier({ issuers: [] }));
    const ctx = { ...base, urls: { ...base.urls, 'token-service': baseUrl } };
    const service = createTokenService(ctx, { users: new UserStore(database) });
    app = await service.createApp();
    app.get(STUPS_DISCOVERY_PATH, async () => ({
      services: { 'token-service': baseUrl, kio: kioUrl },
    }));
    await app.listen({ host: '127.0.0.1', port: port! });
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    await database?.destroy();
  });

  async function configure(io: CapturedIo, args: string[] = []): Promise<number> {
    return runCli(stupsProgram(io), ['configure', baseUrl, ...args], io);
  }

  const tokenCliFile = (io: CapturedIo) => join(io.home, '.config/zalando-token-cli/zalando-token-cli.yaml');

  it('points the original Zign at the token service in zalando-token-cli.yaml', async () => {
    const io = await captureIo();
    try {
      expect(await configure(io, ['--user', 'jdoe'])).toBe(0);
      expect(io.err()).toBe('');
      const file = tokenCliFile(io);
      expect(parse(await readFile(file, 'utf8'))).toEqual({
        authorize_url: `${baseUrl}/oauth2/authorize`,
        token_url: `${baseUrl}/oauth2/access_token`,
        client_id: 'zign',
        business_partner_id: 'stups',
      });
      expect((await stat(file)).mode & 0o777).toBe(0o600);
      expect(io.out()).toContain(`${file}: authorize_url = ${baseUrl}/oauth2/authorize\n`);
      // Our own tools are configured as before.
      expect(parse(await readFile(join(io.home, '.config/zign/zign.yaml'), 'utf8'))).toEqual({
        url: baseUrl,
        user: 'jdoe',
      });
      expect(parse(await readFile(join(io.home, '.config/kio/kio.yaml'), 'utf8'))).toEqual({ url: kioUrl });
    } finally {
      await io.cleanup();
    }
  });

  it('keeps the other keys of an existing file and its business partner id', async () => {
    const io = await captureIo({ env: { XDG_CONFIG_HOME: '' } });
    try {
      const file = tokenCliFile(io);
      await mkdir(join(file, '..'), { recursive: true });
      await writeFile(
        file,
        'authorize_url: https://old.example.org/authorize\nbusiness_partner_id: 810d1d00-4312\nlocale: de\nretries: 3\n',
      );
      expect(await configure(io)).toBe(0);
      expect(parse(await readFile(file, 'utf8'))).toEqual({
        authorize_url: `${baseUrl}/oauth2/authorize`,
        token_url: `${baseUrl}/oauth2/access_token`,
        client_id: 'zign',
        business_partner_id: '810d1d00-4312',
        locale: 'de',
        retries: 3,
      });
    } finally {
      await io.cleanup();
    }
  });

  it('honours XDG_CONFIG_HOME and refuses a file that is not a mapping with one line', async () => {
    const io = await captureIo();
    try {
      io.env.XDG_CONFIG_HOME = join(io.home, 'xdg');
      const file = join(io.home, 'xdg/zalando-token-cli/zalando-token-cli.yaml');
      await mkdir(join(file, '..'), { recursive: true });
      await writeFile(file, '- a list\n- not a mapping\n');
      expect(await configure(io)).toBe(1);
      expect(io.err()).toBe(`stups: ${file}: expected a mapping of keys to values\n`);
      expect(await readFile(file, 'utf8')).toBe('- a list\n- not a mapping\n');
      // Nothing else was written either.
      await expect(stat(join(io.home, 'xdg/zign/zign.yaml'))).rejects.toMatchObject({ code: 'ENOENT' });
    } finally {
      await io.cleanup();
    }
  });
});
