import { describeEachDatabase } from '../platform/test-support/databases.js';
import { createHash, randomBytes } from 'node:crypto';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, expect, it } from 'vitest';

import { CSRF_COOKIE } from './csrf.js';
import {
  createFixture,
  EMPLOYEE,
  FORM,
  form,
  TOKEN_SERVICE_TEST_MIGRATIONS,
  type TokenServiceFixture,
  writtenRows,
  redeemZignCode,
} from './test-support.js';

const REDIRECT = 'http://localhost:8081';

function pkce() {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

describeEachDatabase('authorization code flow with PKCE', TOKEN_SERVICE_TEST_MIGRATIONS, (getDatabase) => {
  let f: TokenServiceFixture;
  beforeAll(async () => {
    f = await createFixture(getDatabase());
  });
  afterAll(async () => {
    await f?.close();
  });

  const authorizeQuery = (challenge: string, extra: Record<string, string> = {}) =>
    form({
      response_type: 'code',
      client_id: 'zign',
      redirect_uri: REDIRECT,
      scope: 'uid openid',
      state: 'st<ate>',
      code_challenge: challenge,
      code_challenge_method: 'S256',
      nonce: 'n-1',
      ...extra,
    });

  /** Opens the login page and submits the form as a browser would; returns the redirect. */
  async function login(challenge: string, password = EMPLOYEE.password, extra: Record<string, string> = {}) {
    const page = await f.app.inject({ url: `/oauth2/authorize?${authorizeQuery(challenge, extra)}` });
    expect(page.statusCode).toBe(200);
    const cookie = String(page.headers['set-cookie']).split(';')[0]!;
    const csrf = /name="csrf_token" value="([^"]+)"/.exec(page.body)![1]!;
    const fields = Object.fromEntries(
      [...page.body.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((m) => [
        m[1]!,
        m[2]!
          .replace(/&lt;/g, '<')
          .replace(/&gt;/g, '>')
          .replace(/&quot;/g, '"')
          .replace(/&#39;/g, "'")
          .replace(/&amp;/g, '&'),
      ]),
    );
    expect(fields.csrf_token).toBe(csrf);
    return f.app.inject({
      method: 'POST',
      url: '/oauth2/authorize',
      headers: { ...FORM, cookie },
      payload: form({ ...fields, username: EMPLOYEE.uid, password }),
    });
  }

  const exchange = (code: string, verifier: string, extra: Record<string, string> = {}) =>
    redeemZignCode(f.app, code, verifier, { redirectUri: REDIRECT, extra });

  it('logs in, redirects with code, state and iss, and exchanges the code with the right verifier', async () => {
    const { verifier, challenge } = pkce();
    const page = await f.app.inject({ url: `/oauth2/authorize?${authorizeQuery(challenge)}` });
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['x-frame-options']).toBe('DENY');
    expect(page.headers['set-cookie']).toMatch(
      new RegExp(`^${CSRF_COOKIE}=[\\w-]{43}; Path=/oauth2; HttpOnly; SameSite=Lax$`),
    );
    expect(page.body).toContain('value="st&lt;ate&gt;"');
    expect(page.body).not.toContain('st<ate>');

    const redirect = await login(challenge);
    expect(redirect.statusCode).toBe(303);
    const location = new URL(redirect.headers.location as string);
    expect(location.origin).toBe(REDIRECT);
    expect(location.searchParams.get('state')).toBe('st<ate>');
    expect(location.searchParams.get('iss')).toBe(f.ctx.urls['token-service']);
    const code = location.searchParams.get('code')!;

    const response = await exchange(code, verifier);
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body).toMatchObject({ token_type: 'Bearer', scope: 'uid openid' });
    expect(body.refresh_token).toBeDefined();
    expect(decodeJwt(body.access_token)).toMatchObject({
      sub: 'jdoe',
      realm: '/employees',
      client_id: 'zign',
      grant_type: 'authorization_code',
    });
    expect(decodeJwt(body.id_token)).toMatchObject({ sub: 'jdoe', aud: 'zign', nonce: 'n-1' });

    // A code works once; presenting it again revokes what it produced.
    const again = await exchange(code, verifier);
    expect(again.json()).toEqual({
      error: 'invalid_grant',
      error_description: 'the authorization code was already used',
    });
    await expect(f.verifier.verify(body.access_token)).rejects.toThrow('the access token was revoked');
  });

  it('refuses a wrong code_verifier and burns the code', async () => {
    const { verifier, challenge } = pkce();
    const code = new URL((await login(challenge)).headers.location as string).searchParams.get('code')!;
    const before = await writtenRows(f.db);
    const wrong = await exchange(code, pkce().verifier);
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json()).toEqual({
      error: 'invalid_grant',
      error_description: 'PKCE verification failed: the code_verifier does not match',
    });
    expect((await writtenRows(f.db)).refresh).toBe(before.refresh);
    expect((await exchange(code, verifier)).json().error).toBe('invalid_grant');
    const missing = await exchange('x', '', {});
    expect(missing.json()).toEqual({
      error: 'invalid_request',
      error_description: 'parameter "code_verifier" is missing',
    });
  });

  it('refuses expired codes and a different redirect_uri', async () => {
    const first = pkce();
    const code = new URL((await login(first.challenge)).headers.location as string).searchParams.get('code')!;
    const other = await exchange(code, first.verifier, { redirect_uri: 'http://localhost:9999' });
    expect(other.json()).toEqual({
      error: 'invalid_grant',
      error_description: 'redirect_uri differs from the authorization request',
    });
    const second = pkce();
    const late = new URL((await login(second.challenge)).headers.location as string).searchParams.get(
      'code',
    )!;
    f.clock.advance(61);
    expect((await exchange(late, second.verifier)).json()).toEqual({
      error: 'invalid_grant',
      error_description: 'the authorization code has expired',
    });
  });

  it('shows the form again on a wrong password and audits the failure', async () => {
    const response = await login(pkce().challenge, 'wrong-password');
    expect(response.statusCode).toBe(401);
    expect(response.body).toContain('Wrong user name or password.');
    expect(response.body).not.toContain('wrong-password');
    const [event] = await f.ctx.auditLog.query({
      service: 'token-service',
      action: 'token-service.login.fail',
      limit: 1,
    });
    expect(event).toMatchObject({ actor: 'jdoe', outcome: 'failure' });
  });

  it('rejects a form post without the CSRF cookie or with a foreign token', async () => {
    const { challenge } = pkce();
    const page = await f.app.inject({ url: `/oauth2/authorize?${authorizeQuery(challenge)}` });
    const csrf = /name="csrf_token" value="([^"]+)"/.exec(page.body)![1]!;
    const params = Object.fromEntries(new URLSearchParams(authorizeQuery(challenge)));
    const noCookie = await f.app.inject({
      method: 'POST',
      url: '/oauth2/authorize',
      headers: FORM,
      payload: form({ ...params, csrf_token: csrf, username: EMPLOYEE.uid, password: EMPLOYEE.password }),
    });
    expect(noCookie.statusCode).toBe(403);
    const otherCookie = await f.app.inject({
      method: 'POST',
      url: '/oauth2/authorize',
      headers: { ...FORM, cookie: `${CSRF_COOKIE}=${randomBytes(32).toString('base64url')}` },
      payload: form({ ...params, csrf_token: csrf, username: EMPLOYEE.uid, password: EMPLOYEE.password }),
    });
    expect(otherCookie.statusCode).toBe(403);
  });

  it('shows unknown clients and redirect URIs as a page, and redirects other errors to the client', async () => {
    const { challenge } = pkce();
    const unknown = await f.app.inject({
      url: `/oauth2/authorize?${authorizeQuery(challenge, { client_id: '<script>' })}`,
    });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.body).toContain('Unknown client &quot;&lt;script&gt;&quot;.');
    const badRedirect = await f.app.inject({
      url: `/oauth2/authorize?${authorizeQuery(challenge, { redirect_uri: 'https://evil.example.org' })}`,
    });
    expect(badRedirect.statusCode).toBe(400);
    expect(badRedirect.headers.location).toBeUndefined();
    const redirected = async (extra: Record<string, string>) => {
      const response = await f.app.inject({ url: `/oauth2/authorize?${authorizeQuery(challenge, extra)}` });
      expect(response.statusCode).toBe(303);
      const url = new URL(response.headers.location as string);
      expect(url.origin).toBe(REDIRECT);
      return Object.fromEntries(url.searchParams);
    };
    expect(await redirected({ code_challenge_method: 'plain' })).toEqual({
      error: 'invalid_request',
      error_description: 'code_challenge_method must be S256',
      state: 'st<ate>',
      iss: f.ctx.urls['token-service'],
    });
    // `token` is zign's legacy implicit flow now (implicit-grant.test.ts); hybrid flows are not offered.
    expect((await redirected({ response_type: 'code id_token' })).error).toBe('unsupported_response_type');
    // Only a request of which nothing is allowed is refused; others are narrowed (unallowedScopes).
    expect((await redirected({ scope: 'stups.admin' })).error).toBe('invalid_scope');
    expect((await redirected({ code_challenge: 'short' })).error).toBe('invalid_request');
  });
});
