import { describe, expect, it } from 'vitest';
import { describeEachDatabase } from '../platform/test-support/databases.js';
import { LoginThrottle, lockedOutMessage } from './login-throttle.js';
import {
  basic,
  CLIENT,
  createFixture,
  EMPLOYEE,
  FORM,
  form,
  SERVICE_USER,
  TOKEN_SERVICE_TEST_MIGRATIONS,
  type TokenServiceFixture,
} from './test-support.js';

describe('LoginThrottle', () => {
  it('refuses after maxFailures within the window until the oldest failure leaves it', () => {
    let now = 0;
    const throttle = new LoginThrottle(3, 60_000, () => now);
    for (const t of [0, 10_000, 20_000]) {
      now = t;
      expect(throttle.retryAfter('a')).toBe(0);
      throttle.recordFailure('a');
    }
    now = 30_000;
    expect(throttle.retryAfter('a')).toBe(30_000);
    expect(throttle.retryAfter('b')).toBe(0);
    now = 60_001;
    expect(throttle.retryAfter('a')).toBe(0);
    throttle.recordFailure('a');
    expect(throttle.retryAfter('a')).toBeGreaterThan(0);
    throttle.recordSuccess('a');
    expect(throttle.retryAfter('a')).toBe(0);
  });

  it('forgets the longest-untouched account when full', () => {
    const throttle = new LoginThrottle(1, 60_000, () => 0, 2);
    throttle.recordFailure('a');
    throttle.recordFailure('b');
    throttle.recordFailure('c');
    expect([throttle.retryAfter('a'), throttle.retryAfter('b'), throttle.retryAfter('c')]).toEqual([
      0, 60_000, 60_000,
    ]);
  });

  it('words the refusal in whole minutes', () => {
    expect(lockedOutMessage(1)).toBe('too many failed logins for this account: try again in 1 minute');
    expect(lockedOutMessage(61_000)).toBe('too many failed logins for this account: try again in 2 minutes');
  });
});

describeEachDatabase('failed-login throttling', TOKEN_SERVICE_TEST_MIGRATIONS, (getDatabase) => {
  let fixture: TokenServiceFixture;
  const grant = (realm: string, username: string, password: string) =>
    fixture.app.inject({
      method: 'POST',
      url: `/oauth2/access_token?realm=${realm}`,
      headers: { ...FORM, authorization: basic(CLIENT.id, CLIENT.secret) },
      payload: form({ grant_type: 'password', username, password, scope: 'uid' }),
    });

  it('locks an employee account after repeated wrong passwords, even for the right one, then lets it in', async () => {
    fixture = await createFixture(getDatabase(), { maxFailedLogins: 3, failedLoginWindowSeconds: 120 });
    for (let i = 0; i < 3; i++) {
      expect((await grant('/employees', EMPLOYEE.uid, 'guess')).json().error_description).toBe(
        'wrong user name or password',
      );
    }
    const locked = await grant('/employees', EMPLOYEE.uid, EMPLOYEE.password);
    expect(locked.statusCode).toBe(400);
    expect(locked.json()).toEqual({
      error: 'invalid_grant',
      error_description: 'too many failed logins for this account: try again in 2 minutes',
    });
    // Other accounts are not affected.
    expect((await grant('/services', SERVICE_USER.username, SERVICE_USER.password)).statusCode).toBe(200);

    fixture.clock.advance(121);
    expect((await grant('/employees', EMPLOYEE.uid, EMPLOYEE.password)).statusCode).toBe(200);
    await fixture.close();
  });

  it('treats unknown accounts the same, so a refusal reveals nothing', async () => {
    fixture = await createFixture(getDatabase(), { maxFailedLogins: 2 });
    for (let i = 0; i < 2; i++) await grant('/employees', 'nobody', 'guess');
    expect((await grant('/employees', 'nobody', 'guess')).json().error_description).toMatch(
      /^too many failed logins/,
    );
    await fixture.close();
  });

  it('shows the refusal on the login page', async () => {
    fixture = await createFixture(getDatabase(), { maxFailedLogins: 1 });
    const query = new URLSearchParams({
      response_type: 'code',
      client_id: 'console',
      redirect_uri: 'https://console.example.org/callback',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
      state: 's',
    });
    const page = await fixture.app.inject(`/oauth2/authorize?${query}`);
    const cookie = String(page.headers['set-cookie']).split(';')[0]!;
    const csrf = /name="csrf_token" value="([^"]+)"/.exec(page.body)![1]!;
    const post = (password: string) =>
      fixture.app.inject({
        method: 'POST',
        url: '/oauth2/authorize',
        headers: { ...FORM, cookie },
        payload: form({ ...Object.fromEntries(query), csrf_token: csrf, username: EMPLOYEE.uid, password }),
      });
    expect((await post('guess')).body).toContain('Wrong user name or password.');
    const locked = await post(EMPLOYEE.password);
    expect(locked.statusCode).toBe(401);
    expect(locked.body).toContain('Too many failed logins for this account: try again in 15 minutes.');
    await fixture.close();
  });
});
