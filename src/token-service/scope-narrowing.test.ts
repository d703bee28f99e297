import { decodeJwt } from 'jose';
import { afterEach, expect, it } from 'vitest';
import { describeEachDatabase } from '../platform/test-support/databases.js';
import type { TokenServiceConfig } from './config.js';
import {
  basic,
  CLIENT,
  createFixture,
  EMPLOYEE,
  FORM,
  form,
  SERVICE_USER,
  SERVICES_ONLY_CLIENT,
  TOKEN_SERVICE_TEST_MIGRATIONS,
  type TokenServiceFixture,
} from './test-support.js';

/**
 * Issue 13 §5: CLIs send fixed scope lists; `unallowedScopes` chooses between granting the allowed
 * part (RFC 6749 §3.3, the granted `scope` in the answer) and `invalid_scope`.
 * Issue 13 §6: the legacy Zign 1.0 GET answers a wrong password with 401, throttled guesses too.
 */
describeEachDatabase(
  'scopes a client may not have, legacy GET',
  TOKEN_SERVICE_TEST_MIGRATIONS,
  (getDatabase) => {
    let fixture: TokenServiceFixture | undefined;
    afterEach(async () => {
      await fixture?.close();
      fixture = undefined;
    });
    const start = async (config: TokenServiceConfig = {}) => {
      fixture = await createFixture(getDatabase(), config);
      return fixture;
    };
    const token = (
      f: TokenServiceFixture,
      realm: string,
      params: Record<string, string>,
      client: { id: string; secret: string },
    ) =>
      f.app.inject({
        method: 'POST',
        url: `/oauth2/access_token?realm=${realm}`,
        headers: { ...FORM, authorization: basic(client.id, client.secret) },
        payload: form(params),
      });
    const employee = { grant_type: 'password', username: EMPLOYEE.uid, password: EMPLOYEE.password };
    const service = {
      grant_type: 'password',
      username: SERVICE_USER.username,
      password: SERVICE_USER.password,
    };

    it('narrows by default: grants the allowed scopes and names them in the answer and the token', async () => {
      const f = await start();
      const narrowed = await token(f, '/employees', { ...employee, scope: 'uid stups.admin piu' }, CLIENT);
      expect(narrowed.statusCode).toBe(200);
      expect(narrowed.json().scope).toBe('uid');
      expect(decodeJwt(narrowed.json().access_token).scope).toBe('uid');

      const serviceUser = await token(
        f,
        '/services',
        { ...service, scope: 'uid pets.write kio.read' },
        SERVICES_ONLY_CLIENT,
      );
      expect(serviceUser.statusCode).toBe(200);
      expect(serviceUser.json().scope).toBe('uid pets.write');

      const clientCredentials = await token(
        f,
        '/services',
        { grant_type: 'client_credentials', scope: 'uid application.write' },
        SERVICES_ONLY_CLIENT,
      );
      expect(clientCredentials.statusCode).toBe(200);
      expect(clientCredentials.json().scope).toBe('uid');
      // The audit trail keeps what was asked for beside what was granted.
      const [issued] = await f.ctx.auditLog.query({
        service: 'token-service',
        action: 'token-service.token.issue',
        limit: 1,
      });
      expect(issued?.details).toMatchObject({ scope: 'uid', requested_scope: 'uid application.write' });

      // Nothing allowed left: a token without any scope is refused, narrowing or not.
      const nothing = await token(f, '/employees', { ...employee, scope: 'stups.admin' }, CLIENT);
      expect(nothing.statusCode).toBe(400);
      expect(nothing.json()).toEqual({
        error: 'invalid_scope',
        error_description: 'scope not allowed: stups.admin',
      });
    });

    it('refuses with invalid_scope naming every scope not allowed when set to refuse', async () => {
      const f = await start({ unallowedScopes: 'refuse' });
      const employeeAnswer = await token(
        f,
        '/employees',
        { ...employee, scope: 'uid stups.admin piu' },
        CLIENT,
      );
      expect(employeeAnswer.statusCode).toBe(400);
      expect(employeeAnswer.json()).toEqual({
        error: 'invalid_scope',
        error_description: 'scope not allowed: stups.admin piu',
      });
      const serviceAnswer = await token(
        f,
        '/services',
        { ...service, scope: 'uid kio.read' },
        SERVICES_ONLY_CLIENT,
      );
      expect(serviceAnswer.json()).toEqual({
        error: 'invalid_scope',
        error_description: 'scope not allowed: kio.read',
      });
      const allowed = await token(f, '/employees', { ...employee, scope: 'uid openid' }, CLIENT);
      expect(allowed.statusCode).toBe(200);
      expect(allowed.json().scope).toBe('uid openid');
    });

    it('answers the legacy GET with 401 for a wrong password and for a throttled guess', async () => {
      const f = await start({ maxFailedLogins: 2, failedLoginWindowSeconds: 120 });
      const legacy = (password: string, remoteAddress = '10.9.9.9') =>
        f.app.inject({
          method: 'GET',
          url: '/oauth2/access_token?json=true&scope=uid',
          remoteAddress,
          headers: { authorization: basic(EMPLOYEE.uid, password) },
        });
      for (let i = 0; i < 2; i++) {
        const wrong = await legacy('guess');
        expect(wrong.statusCode).toBe(401);
        expect(wrong.headers['www-authenticate']).toBe('Basic realm="stups"');
        expect(wrong.json()).toEqual({
          error: 'invalid_grant',
          error_description: 'wrong user name or password',
        });
      }
      // The throttle still holds on this route: the right password from the guessing source is refused.
      const throttled = await legacy(EMPLOYEE.password);
      expect(throttled.statusCode).toBe(401);
      expect(throttled.json().error).toBe('invalid_grant');
      const elsewhere = await legacy(EMPLOYEE.password, '10.8.8.8');
      expect(elsewhere.statusCode).toBe(200);
      expect(elsewhere.json().access_token).toEqual(expect.any(String));
      f.clock.advance(121);
      expect((await legacy(EMPLOYEE.password)).statusCode).toBe(200);
    });
  },
);
