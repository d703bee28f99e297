import { afterAll, beforeAll, expect, it } from 'vitest';
import { PURGE_SAMPLE_SIZE } from '../platform/audit/create-audit.js';
import { describeEachDatabase } from '../platform/test-support/databases.js';
import {
  CLIENT,
  createFixture,
  EMPLOYEE,
  TOKEN_SERVICE_TEST_MIGRATIONS,
  type TokenServiceFixture,
} from './test-support.js';

const HOUR = 3600_000;

describeEachDatabase(
  'expired rows deleted by the maintenance job',
  TOKEN_SERVICE_TEST_MIGRATIONS,
  (getDatabase) => {
    let f: TokenServiceFixture;
    beforeAll(async () => {
      f = await createFixture(getDatabase());
    });
    afterAll(async () => {
      await f?.close();
    });

    const at = (offsetMs: number) => new Date(f.clock.now() + offsetMs);

    /** Rows that expired (long) before now, and one live row of each kind that must stay. */
    async function seedRows(expiredRevocations: number): Promise<void> {
      const code = (hash: string, expiresAt: Date) => ({
        code_hash: hash,
        client_id: CLIENT.id,
        redirect_uri: null,
        uid: EMPLOYEE.uid,
        scopes: JSON.stringify(['uid']),
        code_challenge: 'challenge',
        nonce: null,
        auth_time: expiresAt,
        expires_at: expiresAt,
        used_at: null,
        family_id: null,
        access_jti: null,
        access_expires_at: null,
        resources: null,
      });
      // Codes are kept a day past expiry (so reuse is still detected): only the first one goes.
      await f.db
        .insertInto('token_authorization_codes')
        .values([code('old-code', at(-25 * HOUR)), code('recent-code', at(-HOUR))])
        .execute();
      const device = (hash: string, uid: string | null, expiresAt: Date) => ({
        device_code_hash: hash,
        user_code: hash.toUpperCase(),
        client_id: CLIENT.id,
        scopes: JSON.stringify(['uid']),
        status: uid ? 'approved' : 'pending',
        uid,
        expires_at: expiresAt,
        interval_seconds: 5,
        last_polled_at: null,
      });
      await f.db
        .insertInto('token_device_codes')
        .values([
          device('dev-a', null, at(-HOUR)),
          device('dev-b', EMPLOYEE.uid, at(-HOUR)),
          device('dev-c', null, at(HOUR)),
        ])
        .execute();
      const refresh = (hash: string, family: string, expiresAt: Date) => ({
        token_hash: hash,
        family_id: family,
        client_id: CLIENT.id,
        uid: EMPLOYEE.uid,
        realm: 'employees',
        scopes: JSON.stringify(['uid']),
        grant_type: 'password',
        access_jti: `jti-${hash}`,
        access_expires_at: expiresAt,
        expires_at: expiresAt,
        used_at: null,
        revoked_at: null,
        created_at: at(-48 * HOUR),
      });
      await f.db
        .insertInto('token_refresh_tokens')
        .values([
          refresh('r1', 'family-1', at(-HOUR)),
          refresh('r2', 'family-1', at(-HOUR)),
          refresh('r3', 'family-2', at(HOUR)),
        ])
        .execute();
      await f.db
        .insertInto('token_revocations')
        .values([
          ...Array.from({ length: expiredRevocations }, (_, i) => ({
            jti: `revoked-${String(i).padStart(3, '0')}`,
            expires_at: at(-HOUR),
            revoked_at: at(-2 * HOUR),
          })),
          { jti: 'still-valid', expires_at: at(HOUR), revoked_at: at(-HOUR) },
        ])
        .execute();
    }

    const events = (action: string) => f.ctx.auditLog.query({ service: 'token-service', action, limit: 10 });

    it('deletes them and writes one summarising event per kind, with the count and a bounded sample of ids', async () => {
      await seedRows(PURGE_SAMPLE_SIZE + 5);
      await f.service.maintain();

      const codes = await events('token-service.authorization_code.purge');
      expect(codes).toHaveLength(1);
      expect(codes[0]).toMatchObject({
        outcome: 'success',
        actor: 'token-service',
        details: { count: 1, ids: [`${CLIENT.id}/${EMPLOYEE.uid}`], idsOmitted: 0 },
      });
      expect(codes[0]?.request_id).toMatch(/^token-service-/);
      expect(
        (await f.db.selectFrom('token_authorization_codes').select('code_hash').execute()).map(
          (r) => r.code_hash,
        ),
      ).toEqual(['recent-code']);

      const devices = await events('token-service.device_code.purge');
      expect(devices).toHaveLength(1);
      expect(devices[0]?.details).toMatchObject({ count: 2 });
      expect((devices[0]?.details as { ids: string[] }).ids.sort()).toEqual([
        CLIENT.id,
        `${CLIENT.id}/${EMPLOYEE.uid}`,
      ]);
      expect(await f.db.selectFrom('token_device_codes').select('device_code_hash').execute()).toEqual([
        { device_code_hash: 'dev-c' },
      ]);

      const refresh = await events('token-service.refresh_token.purge');
      expect(refresh).toHaveLength(1);
      expect(refresh[0]?.details).toMatchObject({ count: 1, tokens: 2, ids: ['family-1'], idsOmitted: 0 });
      expect(await f.db.selectFrom('token_refresh_tokens').select('token_hash').execute()).toEqual([
        { token_hash: 'r3' },
      ]);

      const revocations = await events('token-service.revocation.purge');
      expect(revocations).toHaveLength(1);
      const details = revocations[0]?.details as { count: number; ids: string[]; idsOmitted: number };
      expect(details.count).toBe(PURGE_SAMPLE_SIZE + 5);
      expect(details.ids).toHaveLength(PURGE_SAMPLE_SIZE);
      expect(details.idsOmitted).toBe(5);
      expect(await f.db.selectFrom('token_revocations').select('jti').execute()).toEqual([
        { jti: 'still-valid' },
      ]);
    });

    it('writes no event when nothing expired', async () => {
      const before = (await f.ctx.auditLog.query({ service: 'token-service', limit: 1000 })).length;
      await f.service.maintain();
      expect((await f.ctx.auditLog.query({ service: 'token-service', limit: 1000 })).length).toBe(before);
    });
  },
);
