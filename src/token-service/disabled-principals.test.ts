import { afterAll, beforeAll, expect, it } from 'vitest';
import { TokenVerifier } from '../platform/auth/token-verifier.js';
import type { HttpApp } from '../platform/http/create-http-app.js';
import { describeEachDatabase } from '../platform/test-support/databases.js';
import { createTestContext } from '../platform/test-support/service-context.js';
import { createKioService, kioMigrations } from '../kio/index.js';
import { TeamStore, teamMigrations } from '../teams/index.js';
import {
  createFixture,
  EMPLOYEE,
  passwordToken,
  SERVICE_USER,
  TOKEN_SERVICE_TEST_MIGRATIONS,
  type TokenServiceFixture,
} from './test-support.js';

const APP = {
  team_id: 'team-a',
  active: true,
  name: 'Order Engine',
  service_url: 'https://order-engine.example.org',
  scm_url: 'https://github.example.org/team-a/order-engine',
  specification_type: 'JIRA',
};

/**
 * Issue 12 §3: disabling a user refuses their existing tokens everywhere within seconds. Kio here
 * verifies tokens exactly as `stups up` wires it: trusting the token service, asking it about
 * revocations and disabled principals.
 */
describeEachDatabase(
  'tokens of disabled users',
  [
    ...TOKEN_SERVICE_TEST_MIGRATIONS,
    { component: 'teams', migrations: teamMigrations },
    { component: 'kio', migrations: kioMigrations },
  ],
  (getDatabase) => {
    let f: TokenServiceFixture;
    let kio: HttpApp;
    beforeAll(async () => {
      f = await createFixture(getDatabase(), { principalStatusCacheSeconds: 5 });
      const verifier = new TokenVerifier({
        issuers: [f.service.trustedIssuer],
        isRevoked: (jti) => f.service.isRevoked(jti),
        isDisabled: (principal) => f.service.isDisabled(principal),
        now: f.clock.now,
      });
      const teams = new TeamStore(getDatabase());
      await teams.putTeam('team-a', { name: 'Team A', members: [EMPLOYEE.uid] });
      kio = await createKioService(createTestContext(getDatabase(), verifier), { teams }).createApp();
      await kio.ready();
    });
    afterAll(async () => {
      await kio?.close();
      await f?.close();
    });

    const write = (token: string, name: string) =>
      kio.inject({
        method: 'PUT',
        url: '/apps/order-engine',
        headers: { authorization: `Bearer ${token}` },
        payload: { ...APP, name },
      });

    it('refuses a Kio write with the token of an employee disabled after it was issued', async () => {
      const { access_token } = await passwordToken(f.app);
      expect((await write(access_token, 'Order Engine')).statusCode).toBeLessThan(300);

      await f.users.putUser(EMPLOYEE.uid, { name: 'John Doe', email: 'jdoe@example.org', disabled: true });
      f.clock.advance(6);
      const refused = await write(access_token, 'Taken over');
      expect(refused.statusCode).toBe(401);
      expect(refused.json().detail).toBe('the access token belongs to a user who is disabled');
      expect((await f.app.inject({ url: `/oauth2/tokeninfo?access_token=${access_token}` })).statusCode).toBe(
        401,
      );

      // Enabled again: the same unexpired token works again once the cache has caught up.
      await f.users.putUser(EMPLOYEE.uid, { name: 'John Doe', email: 'jdoe@example.org', disabled: false });
      f.clock.advance(6);
      expect((await write(access_token, 'Order Engine')).statusCode).toBe(200);
    });

    it('refuses the tokens of a disabled service user', async () => {
      const { access_token } = await passwordToken(f.app, { realm: '/services', scope: 'uid' });
      expect((await f.verifier.verify(access_token)).uid).toBe(SERVICE_USER.username);
      await f.service.disableServiceUser(SERVICE_USER.username);
      f.clock.advance(6);
      await expect(f.verifier.verify(access_token)).rejects.toThrow(
        'the access token belongs to a service user who is disabled',
      );
    });
  },
);
