import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeEachDatabase } from '../platform/test-support/databases.js';
import {
  createFixture,
  TOKEN_SERVICE_TEST_MIGRATIONS,
  type TokenServiceFixture,
} from '../token-service/test-support.js';
import { clientJson, putBucketFile, userJson } from './test-support/berry-fixtures.js';
import {
  formatCounts,
  rotationSchedule,
  runZeroFailureHarness,
} from './test-support/zero-failure-harness.js';

const APP = 'orders';
const BUCKET = 'mint-greendale';
const USERNAME = 'stups_orders';
const CLIENT_ID = 'orders-client';
const ADMIN = { uid: 'admin', realm: 'employees' };

describe('rotation schedule', () => {
  it('spreads client rotations evenly among password rotations', () => {
    const schedule = rotationSchedule({ password: 20, client: 5 });
    expect(schedule).toHaveLength(25);
    expect(schedule.flatMap((kind, i) => (kind === 'client' ? [i] : []))).toEqual([4, 9, 14, 19, 24]);
    expect(rotationSchedule({ password: 2, client: 0 })).toEqual(['password', 'password']);
  });
});

/*
 * The harness against today's token service, whose rotation has no overlap (the old password stops
 * working at once): it must see the failed requests that mint's overlapping rotation is there to
 * prevent. This is the harness's own test, not the zero-failure result, which needs mint's worker
 * as the `rotate` callback.
 */
describeEachDatabase('zero-failure harness', TOKEN_SERVICE_TEST_MIGRATIONS, (getDatabase) => {
  let f: TokenServiceFixture;
  let root: string;
  let buckets: string;
  let tokenUrl: string;

  beforeAll(async () => {
    f = await createFixture(getDatabase(), {
      // Failed grants are the point of this test; the guess throttle must not turn them into lockouts.
      maxFailedLoginsPerAccount: 1000,
      maxFailedLoginsPerSource: 1000,
      maxFailedClientAuthentications: 1000,
    });
    await f.app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = f.app.server.address() as AddressInfo;
    tokenUrl = `http://127.0.0.1:${port}/oauth2/access_token?realm=/services`;
    root = await mkdtemp(join(tmpdir(), 'berry-harness-'));
    buckets = join(root, 'buckets');
    const user = await f.service.serviceUserStore.createServiceUser(
      { username: USERNAME, applicationId: APP, teamId: 'greendale', scopes: [] },
      ADMIN,
      'harness-user',
    );
    const client = await f.service.clientStore.createClient(
      {
        clientId: CLIENT_ID,
        type: 'confidential',
        realms: ['services'],
        grantTypes: ['password'],
        scopes: null,
      },
      ADMIN,
      'harness-client',
    );
    await putBucketFile(buckets, BUCKET, APP, 'user', userJson(USERNAME, user.password));
    await putBucketFile(buckets, BUCKET, APP, 'client', clientJson(CLIENT_ID, client.secret ?? null));
  });
  afterAll(async () => {
    await f?.close();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('counts the failed token requests of rotations without overlap', async () => {
    const result = await runZeroFailureHarness({
      consumers: 2,
      tokenUrl,
      berryArgs: ['-a', APP, '-m', BUCKET, '--buckets-dir', buckets],
      workDir: join(root, 'consumers'),
      rotations: { password: 2, client: 1 },
      pauseMs: 2_000,
      rotate: async (kind, index) => {
        if (kind === 'password') {
          const { password } = await f.service.serviceUserStore.rotatePassword(
            USERNAME,
            ADMIN,
            `rotate-${index}`,
          );
          await putBucketFile(buckets, BUCKET, APP, 'user', userJson(USERNAME, password));
        } else {
          const { secret } = await f.service.clientStore.rotateSecret(
            CLIENT_ID,
            ADMIN,
            `rotate-client-${index}`,
          );
          await putBucketFile(buckets, BUCKET, APP, 'client', clientJson(CLIENT_ID, secret));
        }
      },
    });
    console.log(formatCounts(result));
    expect(result.rotations).toEqual({ password: 2, client: 1 });
    expect(result.consumers).toHaveLength(2);
    for (const consumer of result.consumers) {
      // Every consumer kept asking through the rotations (how often depends on the machine: the
      // token service hashes every password it checks).
      expect(consumer.refreshes).toBeGreaterThan(3);
      expect(consumer.requests).toBeGreaterThanOrEqual(consumer.refreshes);
    }
    // Between a rotation and a consumer's next berry pass (up to 1 s), its old credentials are dead.
    expect(result.totals.failed_requests).toBeGreaterThan(0);
  }, 120_000);
});
