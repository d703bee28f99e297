import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runCli } from '../platform/cli/run-cli.js';
import {
  ServiceTokenError,
  ServiceTokens,
  readServiceCredentials,
  serviceTokensFromEnv,
} from '../platform/service-tokens/service-tokens.js';
import { captureIo } from '../platform/test-support/cli-io.js';
import { describeEachDatabase } from '../platform/test-support/databases.js';
import {
  createFixture,
  TOKEN_SERVICE_TEST_MIGRATIONS,
  type TokenServiceFixture,
} from '../token-service/test-support.js';
import { berryProgram } from './cli/main.js';
import { clientJson, closedPort, putBucketFile, userJson } from './test-support/berry-fixtures.js';

const APP = 'billing';
const BUCKET = 'mint-greendale';
const USERNAME = 'stups_billing';
const CLIENT_ID = 'billing-client';
const ADMIN = { uid: 'admin', realm: 'employees' };

/*
 * Service tokens end to end (issue 16): a real token service over HTTP, mint's files written into
 * a bucket folder, berry copying them into CREDENTIALS_DIR, and the kernel's service-token library
 * getting tokens from there — also after the password and the client secret were rotated.
 */
describeEachDatabase(
  'service tokens from berry credentials',
  TOKEN_SERVICE_TEST_MIGRATIONS,
  (getDatabase) => {
    let f: TokenServiceFixture;
    let root: string;
    let buckets: string;
    let credentialsDir: string;
    let tokenUrl: string;
    let password: string;
    let secret: string;

    /** What mint does for a rotation: write the current generation into the bucket. */
    const publish = async () => {
      await putBucketFile(buckets, BUCKET, APP, 'user', userJson(USERNAME, password));
      await putBucketFile(buckets, BUCKET, APP, 'client', clientJson(CLIENT_ID, secret));
    };
    const berryOnce = async () => {
      const io = await captureIo();
      const code = await runCli(
        berryProgram({ io }),
        ['--once', '-a', APP, '-m', BUCKET, '--buckets-dir', buckets, credentialsDir],
        io,
      );
      await io.cleanup();
      expect(code, io.err()).toBe(0);
    };
    const uidOf = async (token: string) => (await f.verifier.verify(token)).uid;

    beforeAll(async () => {
      f = await createFixture(getDatabase());
      await f.app.listen({ host: '127.0.0.1', port: 0 });
      const { port } = f.app.server.address() as AddressInfo;
      tokenUrl = `http://127.0.0.1:${port}/oauth2/access_token?realm=/services`;
      root = await mkdtemp(join(tmpdir(), 'berry-tokens-'));
      buckets = join(root, 'buckets');
      credentialsDir = join(root, 'credentials');
      const user = await f.service.serviceUserStore.createServiceUser(
        { username: USERNAME, applicationId: APP, teamId: 'greendale', scopes: ['pets.write'] },
        ADMIN,
        'test-create-user',
      );
      password = user.password;
      const client = await f.service.clientStore.createClient(
        {
          clientId: CLIENT_ID,
          type: 'confidential',
          realms: ['services'],
          grantTypes: ['password', 'client_credentials'],
          scopes: null,
        },
        ADMIN,
        'test-create-client',
      );
      if (!client.secret) throw new Error('a confidential client gets a secret');
      secret = client.secret;
      await publish();
      await berryOnce();
    });
    afterAll(async () => {
      await f?.close();
      if (root) await rm(root, { recursive: true, force: true });
    });

    it('gets a token with the password grant from CREDENTIALS_DIR and reuses it until near expiry', async () => {
      let grants = 0;
      const tokens = serviceTokensFromEnv(
        { CREDENTIALS_DIR: credentialsDir, OAUTH2_ACCESS_TOKEN_URL: tokenUrl },
        {
          now: f.clock.now,
          fetch: (input, init) => {
            grants++;
            return fetch(input, init);
          },
        },
      );
      if (!tokens) throw new Error('both variables are set');
      tokens.manage('billing', ['uid', 'pets.write']);
      const token = await tokens.get('billing');
      const principal = await f.verifier.verify(token);
      expect(principal).toMatchObject({ uid: USERNAME, realm: 'services' });
      expect([...principal.scopes].sort()).toEqual(['pets.write', 'uid']);
      expect(await tokens.get('billing')).toBe(token);
      expect(grants).toBe(1);
      // Within the last 20 minutes of the hour (python `tokens`' margin) it refreshes.
      f.clock.advance(39 * 60);
      expect(await tokens.get('billing')).toBe(token);
      f.clock.advance(2 * 60);
      const refreshed = await tokens.get('billing');
      expect(refreshed).not.toBe(token);
      expect(grants).toBe(2);
    });

    it('picks up a rotated password and client secret on the next refresh', async () => {
      const tokens = new ServiceTokens({ credentialsDir, tokenUrl, now: f.clock.now });
      tokens.manage('billing', ['uid']);
      const before = await tokens.get('billing');
      // Rotate both through today's store API (the old ones stop working at once), mint-style publish.
      password = (await f.service.serviceUserStore.rotatePassword(USERNAME, ADMIN, 'test-rotate-1')).password;
      secret = (await f.service.clientStore.rotateSecret(CLIENT_ID, ADMIN, 'test-rotate-2')).secret;
      await publish();
      await berryOnce();
      expect((await readServiceCredentials(credentialsDir)).password).toBe(password);
      // The cached token is still good; a refresh reads the new files.
      expect(await tokens.get('billing')).toBe(before);
      const after = await tokens.refresh('billing');
      expect(after).not.toBe(before);
      expect(await uidOf(after)).toBe(USERNAME);
    });

    it('retries once with freshly read files when the grant is refused (berry had not caught up yet)', async () => {
      const waits: number[] = [];
      const tokens = new ServiceTokens({
        credentialsDir,
        tokenUrl,
        now: f.clock.now,
        retryDelayMs: 750,
        // While the library waits, berry's next pass brings the rotated files.
        sleep: async (ms) => {
          waits.push(ms);
          await berryOnce();
        },
      });
      tokens.manage('billing', ['uid']);
      password = (await f.service.serviceUserStore.rotatePassword(USERNAME, ADMIN, 'test-rotate-3')).password;
      await publish();
      const token = await tokens.get('billing');
      expect(waits).toEqual([750]);
      expect(await uidOf(token)).toBe(USERNAME);
    });

    it('keeps a still-valid token when a refresh fails, and says why once it has run out', async () => {
      const tokens = new ServiceTokens({ credentialsDir, tokenUrl, now: f.clock.now, sleep: async () => {} });
      tokens.manage('billing', ['uid']);
      const token = await tokens.get('billing');
      // A rotation whose files never arrive: every refresh is refused.
      const stale = (await f.service.serviceUserStore.rotatePassword(USERNAME, ADMIN, 'test-rotate-4'))
        .password;
      f.clock.advance(45 * 60);
      expect(await tokens.get('billing')).toBe(token);
      f.clock.advance(20 * 60);
      const failure = await tokens.get('billing').catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(ServiceTokenError);
      expect(failure).toMatchObject({ failure: 'rejected', oauthError: 'invalid_grant' });
      expect(String(failure)).not.toContain(password);
      password = stale;
      await publish();
      await berryOnce();
      expect(await uidOf(await tokens.get('billing'))).toBe(USERNAME);
    });

    it('names missing files and an unreachable token service in one line; pinned tokens need no call', async () => {
      const empty = new ServiceTokens({ credentialsDir: join(root, 'nothing'), tokenUrl });
      empty.manage('x', ['uid']);
      await expect(empty.get('x')).rejects.toThrow(
        `cannot read ${join(root, 'nothing', 'user.json')}: ENOENT`,
      );

      const port = await closedPort();
      const unreachable = new ServiceTokens({
        credentialsDir,
        tokenUrl: `http://127.0.0.1:${port}/oauth2/access_token`,
      });
      unreachable.manage('x', ['uid']);
      await expect(unreachable.get('x')).rejects.toMatchObject({
        failure: 'unreachable',
        message: `cannot reach the token service at http://127.0.0.1:${port}: ECONNREFUSED`,
      });

      const pinned = serviceTokensFromEnv({ OAUTH2_ACCESS_TOKENS: 'kio=abc,pierone=def' });
      expect(await pinned?.get('pierone')).toBe('def');
      pinned?.manage('other', ['uid']);
      await expect(pinned?.get('other')).rejects.toThrow(
        'service tokens need both CREDENTIALS_DIR and OAUTH2_ACCESS_TOKEN_URL (CREDENTIALS_DIR is not set)',
      );
      expect(serviceTokensFromEnv({})).toBeUndefined();
    });
  },
);
