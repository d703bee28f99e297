import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeEachDatabase } from '../platform/test-support/databases.js';
import { redirectUriMatches } from './authorization.js';
import {
  authorizationCode,
  basic,
  CLIENT,
  createFixture,
  FORM,
  form,
  passwordToken,
  pkcePair,
  TOKEN_SERVICE_TEST_MIGRATIONS,
  type TokenServiceFixture,
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
      f.app.inject({
        method: 'POST',
        url: '/oauth2/access_token',
        headers: FORM,
        payload: form({
          grant_type: 'authorization_code',
          code,
          code_verifier: verifier,
          client_id: 'zign',
          redirect_uri: redirectUri,
        }),
      });

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
