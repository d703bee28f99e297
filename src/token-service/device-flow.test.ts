import { describeEachDatabase } from '../platform/test-support/databases.js';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DEVICE_CODE_GRANT } from './contract.js';

import {
  createFixture,
  EMPLOYEE,
  FORM,
  form,
  TOKEN_SERVICE_TEST_MIGRATIONS,
  type TokenServiceFixture,
} from './test-support.js';

describeEachDatabase('device authorization flow (RFC 8628)', TOKEN_SERVICE_TEST_MIGRATIONS, (getDatabase) => {
  let f: TokenServiceFixture;
  beforeAll(async () => {
    f = await createFixture(getDatabase());
  });
  afterAll(async () => {
    await f?.close();
  });

  async function start(scope = 'uid') {
    const response = await f.app.inject({
      method: 'POST',
      url: '/oauth2/device_authorization',
      headers: FORM,
      payload: form({ client_id: 'zign', scope }),
    });
    expect(response.statusCode).toBe(200);
    return response.json<{
      device_code: string;
      user_code: string;
      verification_uri: string;
      verification_uri_complete: string;
      expires_in: number;
      interval: number;
    }>();
  }

  const poll = (deviceCode: string) =>
    f.app.inject({
      method: 'POST',
      url: '/oauth2/access_token',
      headers: FORM,
      payload: form({ grant_type: DEVICE_CODE_GRANT, device_code: deviceCode, client_id: 'zign' }),
    });

  /** Opens the verification page and submits the decision as a person would. */
  async function decide(userCode: string, decision: 'approve' | 'deny', password = EMPLOYEE.password) {
    const page = await f.app.inject({ url: `/oauth2/device?user_code=${encodeURIComponent(userCode)}` });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain(`value="${userCode}"`);
    const cookie = String(page.headers['set-cookie']).split(';')[0]!;
    const csrf = /name="csrf_token" value="([^"]+)"/.exec(page.body)![1]!;
    return f.app.inject({
      method: 'POST',
      url: '/oauth2/device',
      headers: { ...FORM, cookie },
      payload: form({
        csrf_token: csrf,
        user_code: userCode.toLowerCase().replace('-', ''),
        username: EMPLOYEE.uid,
        password,
        decision,
      }),
    });
  }

  it('answers pending, slow_down, then issues tokens once the person approved', async () => {
    const started = await start('uid openid');
    expect(started).toMatchObject({
      verification_uri: `${f.ctx.urls['token-service']}/oauth2/device`,
      expires_in: 600,
      interval: 5,
    });
    expect(started.user_code).toMatch(/^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/);
    expect(started.verification_uri_complete).toBe(
      `${started.verification_uri}?user_code=${started.user_code}`,
    );

    expect((await poll(started.device_code)).json()).toEqual({
      error: 'authorization_pending',
      error_description: 'the user has not yet approved the request',
    });
    f.clock.advance(2);
    expect((await poll(started.device_code)).json()).toEqual({
      error: 'slow_down',
      error_description: 'polling too fast; the interval was increased by 5 seconds',
    });
    // The interval is 10 s now: 6 s later is still too fast.
    f.clock.advance(6);
    expect((await poll(started.device_code)).json().error).toBe('slow_down');

    const wrong = await decide(started.user_code, 'approve', 'wrong');
    expect(wrong.statusCode).toBe(401);
    const approved = await decide(started.user_code, 'approve');
    expect(approved.statusCode).toBe(200);
    expect(approved.body).toContain('The device is signed in.');

    f.clock.advance(16);
    const granted = await poll(started.device_code);
    expect(granted.statusCode).toBe(200);
    const body = granted.json();
    expect(body).toMatchObject({ token_type: 'Bearer', scope: 'uid openid' });
    expect(body.refresh_token).toBeDefined();
    expect(decodeJwt(body.access_token)).toMatchObject({
      sub: 'jdoe',
      realm: '/employees',
      grant_type: DEVICE_CODE_GRANT,
    });
    f.clock.advance(20);
    expect((await poll(started.device_code)).json()).toEqual({
      error: 'invalid_grant',
      error_description: 'the device code was already used',
    });
  });

  it('answers access_denied after the person denied', async () => {
    const started = await start();
    expect((await decide(started.user_code, 'deny')).body).toContain('The request was denied.');
    expect((await poll(started.device_code)).json()).toEqual({
      error: 'access_denied',
      error_description: 'the user denied the request',
    });
  });

  it('answers expired_token after the code expired, and the page refuses it', async () => {
    const started = await start();
    f.clock.advance(601);
    expect((await poll(started.device_code)).json()).toEqual({
      error: 'expired_token',
      error_description: 'the device code has expired',
    });
    const late = await decide(started.user_code, 'approve');
    expect(late.statusCode).toBe(400);
    expect(late.body).toContain('This code is unknown or has expired.');
  });

  it('refuses unknown device codes, clients without the grant and scopes outside the allowance', async () => {
    expect((await poll('made-up')).json()).toEqual({
      error: 'invalid_grant',
      error_description: 'unknown device code',
    });
    const console = await f.app.inject({
      method: 'POST',
      url: '/oauth2/device_authorization',
      headers: FORM,
      payload: form({ client_id: 'console' }),
    });
    expect(console.json()).toEqual({
      error: 'unauthorized_client',
      error_description: 'client console may not use the device flow',
    });
    const scope = await f.app.inject({
      method: 'POST',
      url: '/oauth2/device_authorization',
      headers: FORM,
      // Nothing allowed is left, so even the default `narrow` refuses.
      payload: form({ client_id: 'zign', scope: 'stups.admin' }),
    });
    expect(scope.json()).toEqual({
      error: 'invalid_scope',
      error_description: 'scope not allowed: stups.admin',
    });
  });
});
