import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeEachDatabase } from '../platform/test-support/databases.js';
import { redirectUriMatches } from './authorization.js';
import {
  authorizationCode,
  basic,
  CLIENT,
  createFixture,
  EMPLOYEE,
  FORM,
  form,
  passwordToken,
  pkcePair,
  submitLoginPage,
  TOKEN_SERVICE_TEST_MIGRATIONS,
  type TokenServiceFixture,
  writtenRows,
  ZIGN_REDIRECT,
  redeemZignCode,
} from './test-support.js';

describe('redirectUriMatches (RFC 8252 §7.3)', () => {
  it('accepts any port and an implied slash for loopback http, nothing else', () => {
    const zign = 'http://localhost:8081';
    for (const uri of ['http://localhost:8081', 'http://localhost:8081/', 'http://localhost:53682/']) {
      expect(redirectUriMatches(zign, uri), uri).toBe(true);
    }
    expect(redirectUriMatches('http://127.0.0.1/cb', 'http://127.0.0.1:4000/cb')).toBe(true);
    for (const uri of [
      'http://localhost:8081/other',
      'http://localhost:8081/?x=1',
      'https://localhost:8081/',
      'http://127.0.0.1:8081/',
      'http://localhost.evil.example:8081/',
      'http://user@localhost:8081/',
      'http://localhost:8081/#frag',
    ]) {
      expect(redirectUriMatches(zign, uri), uri).toBe(false);
    }
    // Only loopback URIs are lenient.
    expect(redirectUriMatches('https://console.example.org/cb', 'https://console.example.org:444/cb')).toBe(
      false,
    );
    expect(redirectUriMatches('https://console.example.org', 'https://console.example.org/')).toBe(false);
  });
});

/** Issue 14 items 10, 11 and 12. */
describeEachDatabase(
  'authorization requests and refresh scopes',
  TOKEN_SERVICE_TEST_MIGRATIONS,
  (getDatabase) => {
    let f: TokenServiceFixture;
    beforeAll(async () => {
      f = await createFixture(getDatabase());
    });
    afterAll(async () => {
      await f?.close();
    });

    const exchange = (code: string, verifier: string, redirectUri: string) =>
      redeemZignCode(f.app, code, verifier, { redirectUri });

    it('answers a missing response_type with invalid_request', async () => {
      const query = form({
        client_id: 'zign',
        redirect_uri: 'http://localhost:8081',
        code_challenge: pkcePair().challenge,
        code_challenge_method: 'S256',
        state: 's',
      });
      const response = await f.app.inject({ url: `/oauth2/authorize?${query}` });
      expect(response.statusCode).toBe(303);
      expect(Object.fromEntries(new URL(String(response.headers.location)).searchParams)).toMatchObject({
        error: 'invalid_request',
        error_description: 'parameter "response_type" is missing',
        state: 's',
      });
    });

    it('serves zign on any loopback port and with a trailing slash; a refused redirect_uri does not burn the code', async () => {
      for (const redirectUri of ['http://localhost:8081/', 'http://localhost:49152/']) {
        const { verifier, challenge } = pkcePair();
        const code = await authorizationCode(f.app, challenge, { redirectUri });
        const wrong = await exchange(code, verifier, 'http://localhost:8081/elsewhere');
        expect(wrong.json()).toEqual({
          error: 'invalid_grant',
          error_description: 'redirect_uri differs from the authorization request',
        });
        const right = await exchange(code, verifier, redirectUri);
        expect(right.statusCode, redirectUri).toBe(200);
      }
    });

    it('keeps the refresh token’s full scope when a refresh narrows the access token (RFC 6749 §6)', async () => {
      const issued = await passwordToken(f.app, { scope: 'uid email' });
      const refresh = (token: string, scope?: string) =>
        f.app.inject({
          method: 'POST',
          url: '/oauth2/access_token',
          headers: { ...FORM, authorization: basic(CLIENT.id, CLIENT.secret) },
          payload: form({ grant_type: 'refresh_token', refresh_token: token, ...(scope ? { scope } : {}) }),
        });
      const narrowed = await refresh(issued.refresh_token!, 'uid');
      expect(narrowed.json()).toMatchObject({ scope: 'uid' });
      const widenedAgain = await refresh(narrowed.json().refresh_token, 'uid email');
      expect(widenedAgain.statusCode).toBe(200);
      expect(widenedAgain.json()).toMatchObject({ scope: 'uid email' });
      const plain = await refresh(widenedAgain.json().refresh_token);
      expect(plain.json()).toMatchObject({ scope: 'uid email' });
    });
  },
);

/** Issue 14 items 6, 7 and 8: prompt and max_age, requests by POST, request objects. */
describeEachDatabase('authorization endpoint parameters', TOKEN_SERVICE_TEST_MIGRATIONS, (getDatabase) => {
  let f: TokenServiceFixture;
  beforeAll(async () => {
    f = await createFixture(getDatabase());
  });
  afterAll(async () => {
    await f?.close();
  });

  const codeRequest = (extra: Record<string, string> = {}) => {
    const { verifier, challenge } = pkcePair();
    const params = {
      response_type: 'code',
      client_id: 'zign',
      redirect_uri: ZIGN_REDIRECT,
      scope: 'uid openid',
      state: 'st',
      code_challenge: challenge,
      code_challenge_method: 'S256',
      ...extra,
    };
    return { verifier, params };
  };
  const get = (params: Record<string, string>) => f.app.inject({ url: `/oauth2/authorize?${form(params)}` });
  const redirectedTo = (response: { statusCode: number; headers: Record<string, unknown> }) => {
    expect(response.statusCode).toBe(303);
    return Object.fromEntries(new URL(String(response.headers.location)).searchParams);
  };
  const redeem = async (code: string, verifier: string) => {
    const response = await redeemZignCode(f.app, code, verifier);
    expect(response.statusCode).toBe(200);
    return response.json<{ access_token: string; id_token?: string }>();
  };

  it('narrows scopes zign may not have at the authorization endpoint too (unallowedScopes: narrow)', async () => {
    // Zign's browser login asks for a fixed list; the login page comes, not invalid_scope.
    const narrowed = await get(codeRequest({ scope: 'uid openid no-such.scope' }).params);
    expect(narrowed.statusCode).toBe(200);
    expect(narrowed.headers['content-type']).toContain('text/html');
    // Nothing allowed at all is still refused.
    expect(redirectedTo(await get(codeRequest({ scope: 'no-such.scope' }).params))).toMatchObject({
      error: 'invalid_scope',
    });
  });

  it('answers prompt=none with login_required instead of the login page without a sign-in session', async () => {
    const response = await get(codeRequest({ prompt: 'none' }).params);
    expect(response.headers['set-cookie']).toBeUndefined();
    expect(redirectedTo(response)).toEqual({
      error: 'login_required',
      error_description: 'the user is not signed in',
      state: 'st',
      iss: f.ctx.urls['token-service'],
    });
    // The implicit flow gets it in the fragment.
    const implicit = await get({
      response_type: 'token',
      client_id: 'zign',
      redirect_uri: ZIGN_REDIRECT,
      prompt: 'none',
    });
    expect(new URL(String(implicit.headers.location)).hash).toContain('error=login_required');
    // `none` with anything else is malformed (OIDC Core §3.1.2.1).
    expect(redirectedTo(await get(codeRequest({ prompt: 'none login' }).params))).toMatchObject({
      error: 'invalid_request',
      error_description: 'prompt=none cannot be combined with other values',
    });
  });

  it('shows the login page for prompt=login and max_age, and puts auth_time of that login in the ID token', async () => {
    expect(redirectedTo(await get(codeRequest({ max_age: 'an hour' }).params))).toMatchObject({
      error: 'invalid_request',
      error_description: 'max_age must be a number of seconds',
    });
    const { verifier, params } = codeRequest({ prompt: 'login consent', max_age: '0' });
    const page = await get(params);
    expect(page.statusCode).toBe(200);
    f.clock.advance(30);
    const login = await submitLoginPage(f.app, page);
    const code = redirectedTo(login).code!;
    const { id_token } = await redeem(code, verifier);
    expect(decodeJwt(id_token!).auth_time).toBe(Math.floor(f.clock.now() / 1000));
  });

  it('accepts the authorization request as a form POST like GET, and logs in only through the form', async () => {
    const { verifier, params } = codeRequest();
    const page = await f.app.inject({
      method: 'POST',
      url: '/oauth2/authorize',
      headers: FORM,
      payload: form(params),
    });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('name="csrf_token"');
    const code = redirectedTo(await submitLoginPage(f.app, page)).code!;
    expect((await redeem(code, verifier)).access_token).toBeTruthy();

    // Credentials posted without the form's CSRF token log no one in: the page is shown again.
    const before = await writtenRows(f.db);
    const forged = await f.app.inject({
      method: 'POST',
      url: '/oauth2/authorize',
      headers: FORM,
      payload: form({ ...params, username: EMPLOYEE.uid, password: EMPLOYEE.password }),
    });
    expect(forged.statusCode).toBe(200);
    expect(forged.headers.location).toBeUndefined();
    expect(forged.body).not.toContain(EMPLOYEE.password);
    expect(await writtenRows(f.db)).toEqual(before);

    // A POST request is checked like a GET one.
    const none = await f.app.inject({
      method: 'POST',
      url: '/oauth2/authorize',
      headers: FORM,
      payload: form({ ...params, prompt: 'none' }),
    });
    expect(redirectedTo(none).error).toBe('login_required');
  });

  it('refuses request objects: redirected when the redirect URI is known, a 400 page otherwise', async () => {
    const requestObject = 'eyJhbGciOiJub25lIn0.eyJzY29wZSI6InVpZCJ9.';
    expect(redirectedTo(await get(codeRequest({ request: requestObject }).params))).toEqual({
      error: 'request_not_supported',
      error_description: 'request objects ("request") are not supported',
      state: 'st',
      iss: f.ctx.urls['token-service'],
    });
    expect(
      redirectedTo(await get(codeRequest({ request_uri: 'https://client.example.org/request.jwt' }).params)),
    ).toMatchObject({ error: 'request_uri_not_supported', state: 'st' });
    const onlyObject = await f.app.inject({ url: `/oauth2/authorize?${form({ request: requestObject })}` });
    expect(onlyObject.statusCode).toBe(400);
    expect(onlyObject.headers.location).toBeUndefined();
    expect(onlyObject.body).toContain('Request objects (request, request_uri) are not supported');
    const unknownRedirect = await get(
      codeRequest({ request: requestObject, redirect_uri: 'https://evil.example.org/' }).params,
    );
    expect(unknownRedirect.statusCode).toBe(400);
    expect(unknownRedirect.headers.location).toBeUndefined();
  });
});
