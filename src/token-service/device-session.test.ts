import { decodeJwt } from 'jose';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDatabase } from '../platform/test-support/databases.js';
import { DEVICE_CODE_GRANT } from './contract.js';
import { SESSION_COOKIE } from './sign-in-session.js';
import {
  createFixture,
  EMPLOYEE,
  FORM,
  form,
  pkcePair,
  submitLoginPage,
  TOKEN_SERVICE_TEST_MIGRATIONS,
  type TokenServiceFixture,
  ZIGN_REDIRECT,
} from './test-support.js';

/** The device verification page with a sign-in session: one explicit Allow instead of the password. */
describeEachDatabase('device flow with a sign-in session', TOKEN_SERVICE_TEST_MIGRATIONS, (getDatabase) => {
  let f: TokenServiceFixture;
  beforeAll(async () => {
    f = await createFixture(getDatabase());
  });
  afterAll(async () => {
    await f?.close();
  });

  async function signIn(): Promise<string> {
    const { challenge } = pkcePair();
    const params = {
      response_type: 'code',
      client_id: 'zign',
      redirect_uri: ZIGN_REDIRECT,
      scope: 'uid',
      code_challenge: challenge,
      code_challenge_method: 'S256',
    };
    const page = await f.app.inject({ url: `/oauth2/authorize?${form(params)}` });
    const response = await submitLoginPage(f.app, page);
    expect(response.statusCode).toBe(303);
    const id = [response.headers['set-cookie']]
      .flat()
      .map((c) => /^stups_session=([^;]+)/.exec(String(c))?.[1])
      .find(Boolean);
    expect(id).toBeTruthy();
    return id!;
  }

  async function start(): Promise<{ device_code: string; user_code: string }> {
    const response = await f.app.inject({
      method: 'POST',
      url: '/oauth2/device_authorization',
      headers: FORM,
      payload: form({ client_id: 'zign', scope: 'uid' }),
    });
    expect(response.statusCode).toBe(200);
    return response.json();
  }

  const poll = (deviceCode: string) => {
    f.clock.advance(6); // past the polling interval: the answer is the decision, not slow_down
    return f.app.inject({
      method: 'POST',
      url: '/oauth2/access_token',
      headers: FORM,
      payload: form({ grant_type: DEVICE_CODE_GRANT, device_code: deviceCode, client_id: 'zign' }),
    });
  };

  const openPage = (userCode: string, session?: string, extra = '') =>
    f.app.inject({
      url: `/oauth2/device?user_code=${encodeURIComponent(userCode)}${extra}`,
      headers: session ? { cookie: `${SESSION_COOKIE}=${session}` } : {},
    });

  /** Submits the page's form as the browser would, with the button `decision`. */
  function submit(
    page: { headers: Record<string, unknown>; body: string },
    session: string | undefined,
    fields: Record<string, string>,
  ) {
    const csrfCookie = String(page.headers['set-cookie']).split(';')[0]!;
    const hidden = Object.fromEntries(
      [...page.body.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)].map((m) => [
        m[1]!,
        m[2]!,
      ]),
    );
    return f.app.inject({
      method: 'POST',
      url: '/oauth2/device',
      headers: { ...FORM, cookie: session ? `${csrfCookie}; ${SESSION_COOKIE}=${session}` : csrfCookie },
      payload: form({ ...hidden, ...fields }),
    });
  }

  const deviceEvents = (action: string) =>
    f.ctx.auditLog.query({ service: 'token-service', action, limit: 50 });

  it('offers Allow for the signed-in user without the password; opening the page decides nothing', async () => {
    const id = await signIn();
    const { device_code, user_code } = await start();
    const page = await openPage(user_code, id);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain(`signs the device in as <strong>${EMPLOYEE.uid}</strong>`);
    expect(page.body).toContain('>Allow</button>');
    expect(page.body).not.toContain('type="password"');
    expect(page.body).toContain(`value="${user_code}"`);
    // Only the click decides.
    expect((await poll(device_code)).json().error).toBe('authorization_pending');

    const before = (await deviceEvents('token-service.device_code.approve')).length;
    const allowed = await submit(page, id, { user_code, decision: 'approve' });
    expect(allowed.statusCode).toBe(200);
    expect(allowed.body).toContain('The device is signed in');
    const tokens = await poll(device_code);
    expect(tokens.statusCode).toBe(200);
    expect(decodeJwt(tokens.json().access_token).sub).toBe(EMPLOYEE.uid);
    const events = await deviceEvents('token-service.device_code.approve');
    expect(events.length).toBe(before + 1);
    expect(events[0]).toMatchObject({ actor: EMPLOYEE.uid, outcome: 'success' });
    expect(events[0]!.details).toMatchObject({ via: 'session' });
    expect(JSON.stringify(events[0])).not.toContain(id);
  });

  it('Deny with the session denies; no button, no decision', async () => {
    const id = await signIn();
    const { device_code, user_code } = await start();
    const page = await openPage(user_code, id);
    const noButton = await submit(page, id, { user_code });
    expect(noButton.statusCode).toBe(400);
    expect(noButton.body).toContain('Choose Allow or Deny.');
    expect((await poll(device_code)).json().error).toBe('authorization_pending');
    const denied = await submit(await openPage(user_code, id), id, { user_code, decision: 'deny' });
    expect(denied.statusCode).toBe(200);
    expect((await poll(device_code)).json().error).toBe('access_denied');
  });

  it('refuses a forged form (no CSRF token of ours) even with a valid session', async () => {
    const id = await signIn();
    const { device_code, user_code } = await start();
    const forged = await f.app.inject({
      method: 'POST',
      url: '/oauth2/device',
      headers: { ...FORM, cookie: `${SESSION_COOKIE}=${id}` },
      payload: form({ csrf_token: 'forged', with_session: '1', user_code, decision: 'approve' }),
    });
    expect(forged.statusCode).toBe(403);
    expect((await poll(device_code)).json().error).toBe('authorization_pending');
  });

  it('asks the password when the session ended before the click, or when another account is chosen', async () => {
    const id = await signIn();
    const { device_code, user_code } = await start();
    const page = await openPage(user_code, id);
    // Signed out elsewhere (the confirmation form of the end-session endpoint) meanwhile.
    await f.db.deleteFrom('token_sessions').execute();
    const ended = await submit(page, id, { user_code, decision: 'approve' });
    expect(ended.statusCode).toBe(401);
    expect(ended.body).toContain('Your sign-in has ended');
    expect(ended.body).toContain('type="password"');
    expect((await poll(device_code)).json().error).toBe('authorization_pending');

    const id2 = await signIn();
    const another = await openPage(user_code, id2, '&login=1');
    expect(another.body).toContain('type="password"');
    expect(another.body).not.toContain('>Allow</button>');
    // The password form ignores the session: a wrong password is refused although signed in.
    const wrong = await submit(another, id2, {
      user_code,
      username: EMPLOYEE.uid,
      password: 'wrong-password',
      decision: 'approve',
    });
    expect(wrong.statusCode).toBe(401);
    expect((await poll(device_code)).json().error).toBe('authorization_pending');
  });

  it('without a session the page asks the password as before', async () => {
    const { user_code } = await start();
    const page = await openPage(user_code);
    expect(page.body).toContain('type="password"');
    expect(page.body).not.toContain('with_session');
  });
});
