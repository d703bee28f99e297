import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeEachDatabase } from '../platform/test-support/databases.js';
import { digest } from './secrets.js';
import { SESSION_COOKIE, sessionCookie } from './sign-in-session.js';
import {
  createFixture,
  EMPLOYEE,
  FORM,
  form,
  pkcePair,
  redeemZignCode,
  submitLoginPage,
  TOKEN_SERVICE_TEST_MIGRATIONS,
  type TokenServiceFixture,
  ZIGN_REDIRECT,
} from './test-support.js';

const LIFETIME = 3600;
const IDLE = 600;
const CONSOLE_CALLBACK = 'https://console.example.org/callback';

describe('sessionCookie', () => {
  it('is Secure for https, for every path of the token service, and removes the old /oauth2 cookie', () => {
    expect(sessionCookie('abc', 60, true)).toEqual([
      `${SESSION_COOKIE}=abc; Path=/; Max-Age=60; HttpOnly; SameSite=Lax; Secure`,
      // A browser holding the cookie of the old path would send it first at /oauth2, shadowing this one.
      `${SESSION_COOKIE}=; Path=/oauth2; Max-Age=0; HttpOnly; SameSite=Lax; Secure`,
    ]);
    expect(sessionCookie('abc', 60, false).join('\n')).not.toContain('Secure');
  });
});

/** Issue 15 item 11: single sign-on through a token-service session, and sign-out ending it. */
describeEachDatabase('sign-in sessions (single sign-on)', TOKEN_SERVICE_TEST_MIGRATIONS, (getDatabase) => {
  let f: TokenServiceFixture;
  beforeAll(async () => {
    f = await createFixture(getDatabase(), {
      sessionLifetimeSeconds: LIFETIME,
      sessionIdleTimeoutSeconds: IDLE,
    });
  });
  afterAll(async () => {
    await f?.close();
  });

  const codeRequest = (extra: Record<string, string> = {}, clientId = 'zign') => {
    const { verifier, challenge } = pkcePair();
    const params = {
      response_type: 'code',
      client_id: clientId,
      redirect_uri: clientId === 'zign' ? ZIGN_REDIRECT : CONSOLE_CALLBACK,
      scope: 'uid openid',
      state: 'st',
      code_challenge: challenge,
      code_challenge_method: 'S256',
      ...extra,
    };
    return { verifier, params };
  };
  const authorize = (params: Record<string, string>, session?: string) =>
    f.app.inject({
      url: `/oauth2/authorize?${form(params)}`,
      headers: session ? { cookie: `${SESSION_COOKIE}=${session}` } : {},
    });
  const answer = (response: { headers: Record<string, unknown> }) =>
    Object.fromEntries(new URL(String(response.headers.location)).searchParams);
  const setCookies = (response: { headers: Record<string, unknown> }): string[] => {
    const raw = response.headers['set-cookie'];
    return raw === undefined ? [] : Array.isArray(raw) ? raw.map(String) : [raw as string];
  };
  const sessionSetCookie = (response: { headers: Record<string, unknown> }) =>
    setCookies(response).find((c) => c.startsWith(`${SESSION_COOKIE}=`));
  const sessionIdOf = (response: { headers: Record<string, unknown> }) =>
    /^stups_session=([^;]*)/.exec(sessionSetCookie(response) ?? '')?.[1];

  /** Signs in with the password on the login page; returns the session id the browser got. */
  async function signIn(
    extra: Record<string, string> = {},
    previous?: string,
  ): Promise<{ id: string; response: Awaited<ReturnType<typeof submitLoginPage>> }> {
    const { params } = codeRequest(extra);
    const page = await authorize(params, previous);
    expect(page.statusCode).toBe(200);
    // The page's CSRF cookie, plus the session cookie the browser already had.
    const csrfCookie = setCookies(page)[0]!.split(';')[0]!;
    const response = await f.app.inject({
      method: 'POST',
      url: '/oauth2/authorize',
      headers: { ...FORM, cookie: previous ? `${csrfCookie}; ${SESSION_COOKIE}=${previous}` : csrfCookie },
      payload: form({
        ...Object.fromEntries(
          [...page.body.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)].map((m) => [
            m[1]!,
            m[2]!.replace(/&amp;/g, '&'),
          ]),
        ),
        username: EMPLOYEE.uid,
        password: EMPLOYEE.password,
      }),
    });
    expect(response.statusCode).toBe(303);
    const id = sessionIdOf(response);
    expect(id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    return { id: id!, response };
  }

  async function redeemedIdToken(code: string, verifier: string) {
    const tokens = await redeemZignCode(f.app, code, verifier);
    expect(tokens.statusCode).toBe(200);
    return decodeJwt(tokens.json().id_token);
  }

  const auditEvents = (action: string) =>
    f.ctx.auditLog.query({ service: 'token-service', action, limit: 100 });

  it('sets an HttpOnly, SameSite=Lax session cookie for the token service host, stored as a digest and audited without the id', async () => {
    const before = (await auditEvents('token-service.session.start')).length;
    const { id, response } = await signIn();
    const cookie = sessionSetCookie(response)!;
    expect(cookie).toContain('; Path=/;');
    expect(cookie).toContain('; HttpOnly');
    expect(cookie).toContain('; SameSite=Lax');
    expect(cookie).toContain(`; Max-Age=${LIFETIME}`);
    // The test issuer is http://: no Secure (browsers would drop the cookie); https issuers get it.
    expect(cookie).not.toContain('Secure');
    const rows = await f.db.selectFrom('token_sessions').selectAll().execute();
    expect(rows.some((row) => row.id_hash === digest(id))).toBe(true);
    expect(rows.some((row) => row.id_hash === id)).toBe(false);
    const events = await auditEvents('token-service.session.start');
    expect(events.length).toBe(before + 1);
    expect(events[0]).toMatchObject({ actor: EMPLOYEE.uid, outcome: 'success' });
    expect(JSON.stringify(events)).not.toContain(id);
  });

  it('answers the next authorization request with the session, auth_time the sign-in time, unaudited', async () => {
    const signInTime = f.clock.now();
    const { id } = await signIn();
    f.clock.advance(120);
    const starts = (await auditEvents('token-service.session.start')).length;
    const { verifier, params } = codeRequest();
    const response = await authorize(params, id);
    expect(response.statusCode).toBe(303);
    const { code, state } = answer(response);
    expect(state).toBe('st');
    const idToken = await redeemedIdToken(code!, verifier);
    expect(idToken.auth_time).toBe(Math.floor(signInTime / 1000));
    expect(idToken.sub).toBe(EMPLOYEE.uid);
    // Using a session is no sign-in: nothing new in the audit log but the code issued.
    expect((await auditEvents('token-service.session.start')).length).toBe(starts);
    // Another client of the platform (the console) is signed in by the same session.
    const console = await authorize(codeRequest({}, 'console').params, id);
    expect(console.statusCode).toBe(303);
    expect(String(console.headers.location)).toMatch(/^https:\/\/console\.example\.org\/callback\?code=/);
  });

  it('answers prompt=none with a code when signed in, login_required without a session', async () => {
    const { id } = await signIn();
    const withSession = await authorize(codeRequest({ prompt: 'none' }).params, id);
    expect(answer(withSession).code).toBeTruthy();
    const without = await authorize(codeRequest({ prompt: 'none' }).params);
    expect(answer(without)).toMatchObject({ error: 'login_required', state: 'st' });
    const unknown = await authorize(codeRequest({ prompt: 'none' }).params, 'x'.repeat(43));
    expect(answer(unknown).error).toBe('login_required');
  });

  it('asks for the password again for prompt=login and for a sign-in older than max_age', async () => {
    const { id } = await signIn();
    const login = await authorize(codeRequest({ prompt: 'login' }).params, id);
    expect(login.statusCode).toBe(200);
    expect(login.body).toContain('type="password"');
    expect(login.headers.location).toBeUndefined();
    f.clock.advance(120);
    expect((await authorize(codeRequest({ max_age: '60' }).params, id)).statusCode).toBe(200);
    expect(answer(await authorize(codeRequest({ max_age: '600' }).params, id)).code).toBeTruthy();
    expect(answer(await authorize(codeRequest({ prompt: 'none', max_age: '60' }).params, id)).error).toBe(
      'login_required',
    );
    // Signing in again through the forced page starts a fresh session with a fresh auth_time.
    const { verifier, params } = codeRequest({ prompt: 'login' });
    const page = await authorize(params, id);
    const submitted = await submitLoginPage(f.app, page);
    const idToken = await redeemedIdToken(answer(submitted).code!, verifier);
    expect(idToken.auth_time).toBe(Math.floor(f.clock.now() / 1000));
  });

  it('gives a new session id on every sign-in and ends the one the browser had (no fixation)', async () => {
    const first = await signIn();
    const second = await signIn({ prompt: 'login' }, first.id);
    expect(second.id).not.toBe(first.id);
    expect(answer(await authorize(codeRequest({ prompt: 'none' }).params, first.id)).error).toBe(
      'login_required',
    );
    expect(answer(await authorize(codeRequest({ prompt: 'none' }).params, second.id)).code).toBeTruthy();
  });

  it('ends a session after the idle timeout, and after its lifetime however often it is used', async () => {
    const idle = await signIn();
    f.clock.advance(IDLE + 1);
    expect(answer(await authorize(codeRequest({ prompt: 'none' }).params, idle.id)).error).toBe(
      'login_required',
    );

    const busy = await signIn();
    for (let used = 0; used < LIFETIME; used += IDLE / 2) {
      expect(answer(await authorize(codeRequest({ prompt: 'none' }).params, busy.id)).code).toBeTruthy();
      f.clock.advance(IDLE / 2);
    }
    expect(answer(await authorize(codeRequest({ prompt: 'none' }).params, busy.id)).error).toBe(
      'login_required',
    );
    // The maintenance job deletes what expired, as one audited purge.
    await f.service.maintain();
    const live = await f.db.selectFrom('token_sessions').select('id_hash').execute();
    expect(live.map((row) => row.id_hash)).not.toContain(digest(busy.id));
  });

  it("stops a disabled user's session at once", async () => {
    await f.users.putUser('kim', { name: 'Kim', email: 'kim@example.org', password: 'kim-password-1' });
    const { params } = codeRequest();
    const page = await authorize(params);
    const signedIn = await submitLoginPage(f.app, page, { uid: 'kim', password: 'kim-password-1' });
    const id = sessionIdOf(signedIn)!;
    expect(answer(await authorize(codeRequest({ prompt: 'none' }).params, id)).code).toBeTruthy();
    await f.users.putUser('kim', { name: 'Kim', email: 'kim@example.org', disabled: true });
    expect(answer(await authorize(codeRequest({ prompt: 'none' }).params, id)).error).toBe('login_required');
    const left = await f.db.selectFrom('token_sessions').where('uid', '=', 'kim').selectAll().execute();
    expect(left).toEqual([]);
  });

  describe('end-session endpoint (RP-Initiated Logout 1.0)', () => {
    const logout = (params: Record<string, string>, session?: string) =>
      f.app.inject({
        url: `/oauth2/logout?${form(params)}`,
        headers: session ? { cookie: `${SESSION_COOKIE}=${session}` } : {},
      });

    async function idTokenFor(session: string, clientId = 'console'): Promise<string> {
      const { verifier, params } = codeRequest({}, clientId);
      const code = answer(await authorize(params, session)).code!;
      const tokens = await redeemZignCode(f.app, code, verifier, {
        redirectUri: params.redirect_uri,
        extra: { client_id: clientId },
      });
      expect(tokens.statusCode).toBe(200);
      return tokens.json().id_token as string;
    }

    it('is announced in discovery', async () => {
      const discovery = (await f.app.inject({ url: '/.well-known/openid-configuration' })).json();
      expect(discovery.end_session_endpoint).toBe(`${f.ctx.urls['token-service']}/oauth2/logout`);
    });

    it('with id_token_hint: ends the session everywhere, clears the cookie, redirects with state, audited', async () => {
      const { id } = await signIn();
      const idToken = await idTokenFor(id);
      const response = await logout(
        { id_token_hint: idToken, post_logout_redirect_uri: CONSOLE_CALLBACK, state: 'bye' },
        id,
      );
      expect(response.statusCode).toBe(303);
      expect(response.headers.location).toBe(`${CONSOLE_CALLBACK}?state=bye`);
      const cleared = sessionSetCookie(response)!;
      expect(cleared).toContain('Max-Age=0');
      expect(cleared).toMatch(/^stups_session=;/);
      // Ended server-side: the id no longer works, whoever presents it.
      expect(answer(await authorize(codeRequest({ prompt: 'none' }).params, id)).error).toBe(
        'login_required',
      );
      const [ended] = await auditEvents('token-service.session.end');
      expect(ended).toMatchObject({ actor: EMPLOYEE.uid, outcome: 'success' });
      expect(ended!.details).toMatchObject({ client_id: 'console' });
      expect(JSON.stringify(ended)).not.toContain(id);
    });

    it('refuses a post_logout_redirect_uri the client has not registered, and a hint that is no ID token of ours', async () => {
      const { id } = await signIn();
      const idToken = await idTokenFor(id);
      const refusedBefore = (await auditEvents('token-service.session.end')).filter(
        (e) => e.outcome === 'refused',
      ).length;
      const requests: Record<string, string>[] = [
        { id_token_hint: idToken, post_logout_redirect_uri: 'https://evil.example/' },
        // zign's loopback URI is registered, but for another client than the token names.
        { id_token_hint: idToken, post_logout_redirect_uri: ZIGN_REDIRECT },
        { post_logout_redirect_uri: CONSOLE_CALLBACK },
        { id_token_hint: `${idToken.slice(0, -4)}AAAA`, post_logout_redirect_uri: CONSOLE_CALLBACK },
      ];
      for (const params of requests) {
        const response = await logout(params, id);
        expect(response.statusCode, JSON.stringify(params)).toBe(400);
        expect(response.headers.location).toBeUndefined();
        expect(response.headers['content-type']).toContain('text/html');
      }
      // An access token (same keys, typed at+jwt) is not an ID token.
      const { verifier, params } = codeRequest({}, 'console');
      const code = answer(await authorize(params, id)).code!;
      const tokens = await redeemZignCode(f.app, code, verifier, {
        redirectUri: CONSOLE_CALLBACK,
        extra: { client_id: 'console' },
      });
      const asHint = await logout({ id_token_hint: tokens.json().access_token }, id);
      expect(asHint.statusCode).toBe(400);
      // Nothing was ended, and every refusal left a trace.
      expect(answer(await authorize(codeRequest({ prompt: 'none' }).params, id)).code).toBeTruthy();
      const refused = (await auditEvents('token-service.session.end')).filter((e) => e.outcome === 'refused');
      expect(refused.length).toBe(refusedBefore + 5);
    });

    it('without id_token_hint asks first: a link from elsewhere cannot sign anyone out', async () => {
      const { id } = await signIn();
      const page = await logout({ client_id: 'console', post_logout_redirect_uri: CONSOLE_CALLBACK }, id);
      expect(page.statusCode).toBe(200);
      expect(page.body).toContain('<title>Sign out of STUPS · STUPS</title>');
      expect(answer(await authorize(codeRequest({ prompt: 'none' }).params, id)).code).toBeTruthy();
      // A form post without the page's CSRF token is only the request again.
      const forged = await f.app.inject({
        method: 'POST',
        url: '/oauth2/logout',
        headers: { ...FORM, cookie: `${SESSION_COOKIE}=${id}` },
        payload: form({ client_id: 'console', csrf_token: 'forged' }),
      });
      expect(forged.statusCode).toBe(403);
      expect(answer(await authorize(codeRequest({ prompt: 'none' }).params, id)).code).toBeTruthy();
      // Confirmed through the page: signed out, and sent to the client's URI.
      const csrfCookie = setCookies(page)[0]!.split(';')[0]!;
      const fields = Object.fromEntries(
        [...page.body.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)].map((m) => [
          m[1]!,
          m[2]!,
        ]),
      );
      const confirmed = await f.app.inject({
        method: 'POST',
        url: '/oauth2/logout',
        headers: { ...FORM, cookie: `${csrfCookie}; ${SESSION_COOKIE}=${id}` },
        payload: form(fields),
      });
      expect(confirmed.statusCode).toBe(303);
      expect(confirmed.headers.location).toBe(CONSOLE_CALLBACK);
      expect(answer(await authorize(codeRequest({ prompt: 'none' }).params, id)).error).toBe(
        'login_required',
      );
    });

    it('shows the signed-out page when no client asks to be returned to', async () => {
      const { id } = await signIn();
      const idToken = await idTokenFor(id, 'zign');
      const response = await logout({ id_token_hint: idToken }, id);
      expect(response.statusCode).toBe(200);
      expect(response.body).toContain('You are signed out');
      expect(answer(await authorize(codeRequest({ prompt: 'none' }).params, id)).error).toBe(
        'login_required',
      );
    });
  });
});
