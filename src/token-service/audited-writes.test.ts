import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { describeEachDatabase } from '../platform/test-support/databases.js';
import {
  basic,
  CLIENT,
  createFixture,
  EMPLOYEE,
  FORM,
  form,
  passwordToken,
  TOKEN_SERVICE_TEST_MIGRATIONS,
  type TokenServiceFixture,
  writtenRows,
} from './test-support.js';

/**
 * Issue 12 §4: a stored change and its audit event commit together. A trigger makes the audit
 * log refuse one event name, standing in for any reason an audit insert can fail; the change
 * that event records must then not be stored either.
 */
describeEachDatabase(
  'token service writes and their audit events',
  TOKEN_SERVICE_TEST_MIGRATIONS,
  (getDatabase) => {
    let f: TokenServiceFixture;
    beforeAll(async () => {
      f = await createFixture(getDatabase());
    });
    afterAll(async () => {
      await f?.close();
    });
    afterEach(async () => {
      await sql`drop trigger if exists refuse_event on audit_events`.execute(f.db);
    });

    /** Makes the audit log refuse successful events named `action`. */
    const refuseEvent = async (action: string) => {
      await sql
        .raw(
          `create or replace function refuse_event() returns trigger language plpgsql as $$
         begin
           if new.action = '${action}' and new.outcome = 'success' then
             raise exception 'audit log refuses %', new.action;
           end if;
           return new;
         end $$`,
        )
        .execute(f.db);
      await sql`create trigger refuse_event before insert on audit_events for each row execute function refuse_event()`.execute(
        f.db,
      );
    };

    const tokenRequest = () =>
      f.app.inject({
        method: 'POST',
        url: '/oauth2/access_token?realm=/employees',
        headers: { ...FORM, authorization: basic(CLIENT.id, CLIENT.secret) },
        payload: form({ grant_type: 'password', username: EMPLOYEE.uid, password: EMPLOYEE.password }),
      });

    it('stores no refresh token when its token.issue event cannot be written', async () => {
      const before = await writtenRows(f.db);
      await refuseEvent('token-service.token.issue');
      const refused = await tokenRequest();
      expect(refused.statusCode).toBe(500);
      expect(refused.body).not.toContain('refresh_token');
      expect(await writtenRows(f.db)).toEqual(before);

      await sql`drop trigger refuse_event on audit_events`.execute(f.db);
      const issued = await tokenRequest();
      expect(issued.statusCode).toBe(200);
      expect((await writtenRows(f.db)).refresh).toBe(before.refresh + 1);
      const [event] = await f.ctx.auditLog.query({
        service: 'token-service',
        action: 'token-service.token.issue',
        limit: 1,
      });
      expect(event).toMatchObject({
        outcome: 'success',
        actor: EMPLOYEE.uid,
        request_id: issued.headers['x-request-id'],
        details: { client_id: CLIENT.id, grant_type: 'password', refresh_token: true },
      });
    });

    it('keeps a refresh token usable when its revocation cannot be audited', async () => {
      const { refresh_token } = await passwordToken(f.app);
      await refuseEvent('token-service.token.revoke');
      const revoke = await f.app.inject({
        method: 'POST',
        url: '/oauth2/revoke',
        headers: { ...FORM, authorization: basic(CLIENT.id, CLIENT.secret) },
        payload: form({ token: refresh_token ?? '' }),
      });
      expect(revoke.statusCode).toBe(500);
      await sql`drop trigger refuse_event on audit_events`.execute(f.db);
      const refreshed = await f.app.inject({
        method: 'POST',
        url: '/oauth2/access_token',
        headers: { ...FORM, authorization: basic(CLIENT.id, CLIENT.secret) },
        payload: form({ grant_type: 'refresh_token', refresh_token: refresh_token ?? '' }),
      });
      expect(refreshed.statusCode).toBe(200);
    });

    it('creates no client and no service user whose event cannot be written', async () => {
      await refuseEvent('token-service.client.create');
      await expect(
        f.service.upsertClient({
          clientId: 'unaudited',
          type: 'public',
          realms: ['employees'],
          grantTypes: ['authorization_code'],
          redirectUris: ['https://example.org/cb'],
          scopes: null,
        }),
      ).rejects.toThrow(/audit log refuses/);
      expect(await f.service.getClient('unaudited')).toBeUndefined();

      await sql`drop trigger refuse_event on audit_events`.execute(f.db);
      await refuseEvent('token-service.service_user.create');
      await expect(
        f.service.upsertServiceUser({
          username: 'stups_unaudited',
          password: 'a-long-password-1',
          scopes: [],
        }),
      ).rejects.toThrow(/audit log refuses/);
      expect(await f.service.getServiceUser('stups_unaudited')).toBeUndefined();
    });

    it('records a wrong client secret as a failure with the reason, never the secret', async () => {
      const wrong = 'not-the-secret-4711';
      const response = await f.app.inject({
        method: 'POST',
        url: '/oauth2/access_token',
        headers: { ...FORM, authorization: basic(CLIENT.id, wrong) },
        payload: form({ grant_type: 'client_credentials' }),
      });
      expect(response.statusCode).toBe(401);
      const [event] = await f.ctx.auditLog.query({
        service: 'token-service',
        action: 'token-service.token.issue',
        limit: 1,
      });
      expect(event).toMatchObject({
        outcome: 'failure',
        details: { error: 'invalid_client', reason: 'wrong client secret' },
      });
      expect(JSON.stringify(event)).not.toContain(wrong);
    });
  },
);
