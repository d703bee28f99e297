// @vitest-environment happy-dom
import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ClientConfig } from '../config';
import {
  beginLogin,
  beginLogout,
  completeLogin,
  isLogoutReturn,
  LoginError,
  loadTokens,
  NoSingleSignOn,
  shouldTrySilentLogin,
} from './session';

const config: ClientConfig = {
  clientId: 'console',
  tokenServiceUrl: 'http://localhost:8091',
  redirectPath: '/auth/callback',
  scopes: ['uid', 'openid'],
  services: {
    'token-service': '/api/token-service',
    teams: '/api/teams',
    users: '/api/users',
    kio: '/api/kio',
    essentials: '/api/essentials',
    pierone: '/api/pierone',
    even: '/api/even',
    mint: '/api/mint',
    fullstop: '/api/fullstop',
    sandbox: '/api/sandbox',
  },
  serviceUrls: {} as ClientConfig['serviceUrls'],
};
const ORIGIN = 'http://localhost:8090';

function base64url(bytes: Buffer): string {
  return bytes.toString('base64').replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

describe('sign-in with authorization code and PKCE', () => {
  let fetchMock: ReturnType<typeof vi.fn>;

  beforeEach(() => {
    sessionStorage.clear();
    fetchMock = vi.fn();
    vi.stubGlobal('fetch', fetchMock);
  });
  afterEach(() => vi.unstubAllGlobals());

  async function start(returnTo = '/applications/x') {
    const url = new URL(await beginLogin(config, returnTo, sessionStorage, ORIGIN));
    return { url, state: url.searchParams.get('state')! };
  }

  it('sends the browser to the token service with an S256 challenge of a fresh verifier', async () => {
    const { url, state } = await start();
    expect(`${url.origin}${url.pathname}`).toBe('http://localhost:8091/oauth2/authorize');
    expect(Object.fromEntries(url.searchParams)).toMatchObject({
      response_type: 'code',
      client_id: 'console',
      redirect_uri: 'http://localhost:8090/auth/callback',
      scope: 'uid openid',
      code_challenge_method: 'S256',
    });
    expect(state.length).toBeGreaterThanOrEqual(20);
    const pending = JSON.parse(sessionStorage.getItem('stups.console.login')!) as { verifier: string };
    expect(pending.verifier).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(url.searchParams.get('code_challenge')).toBe(
      base64url(createHash('sha256').update(pending.verifier).digest()),
    );
    // Each sign-in has its own state and verifier.
    expect((await start()).state).not.toBe(state);
  });

  it('exchanges the code through the proxy and keeps the tokens for this tab', async () => {
    const { state } = await start('/resource-types');
    const verifier = (JSON.parse(sessionStorage.getItem('stups.console.login')!) as { verifier: string })
      .verifier;
    fetchMock.mockResolvedValue(
      new Response(JSON.stringify({ access_token: 'at', refresh_token: 'rt', expires_in: 3600 }), {
        status: 200,
      }),
    );
    const done = await completeLogin(
      config,
      `${ORIGIN}/auth/callback?code=c0de&state=${state}&iss=${encodeURIComponent(config.tokenServiceUrl)}`,
      sessionStorage,
      1_000,
    );
    expect(done).toEqual({
      tokens: { accessToken: 'at', refreshToken: 'rt', expiresAt: 3_601_000 },
      returnTo: '/resource-types',
    });
    expect(loadTokens(sessionStorage)).toEqual(done.tokens);
    const [url, init] = fetchMock.mock.calls[0]! as [string, RequestInit];
    expect(url).toBe('/api/token-service/oauth2/token');
    expect(Object.fromEntries(new URLSearchParams(init.body as string))).toEqual({
      client_id: 'console',
      grant_type: 'authorization_code',
      code: 'c0de',
      redirect_uri: 'http://localhost:8090/auth/callback',
      code_verifier: verifier,
    });
    // The pending login is used up: replaying the callback fails.
    await expect(
      completeLogin(config, `${ORIGIN}/auth/callback?code=c0de&state=${state}`, sessionStorage),
    ).rejects.toThrow('This sign-in link is not from this browser tab or was used already. Sign in again.');
  });

  it('refuses a callback with a foreign state, a foreign issuer or an error, in plain words', async () => {
    await start();
    await expect(
      completeLogin(config, `${ORIGIN}/auth/callback?code=c&state=forged`, sessionStorage),
    ).rejects.toBeInstanceOf(LoginError);

    const { state } = await start();
    await expect(
      completeLogin(
        config,
        `${ORIGIN}/auth/callback?code=c&state=${state}&iss=https://evil.example`,
        sessionStorage,
      ),
    ).rejects.toThrow('The sign-in answer came from an unexpected token service. Sign in again.');

    await start();
    await expect(
      completeLogin(
        config,
        `${ORIGIN}/auth/callback?error=access_denied&error_description=the+user+said+no`,
        sessionStorage,
      ),
    ).rejects.toThrow('The sign-in did not complete: the user said no.');
    expect(fetchMock).not.toHaveBeenCalled();
  });

  it("passes on the token service's reason when it refuses the code", async () => {
    const { state } = await start();
    fetchMock.mockResolvedValue(
      new Response(JSON.stringify({ error: 'invalid_grant', error_description: 'the code has expired' }), {
        status: 400,
      }),
    );
    await expect(
      completeLogin(config, `${ORIGIN}/auth/callback?code=c&state=${state}`, sessionStorage),
    ).rejects.toThrow('The token service refused the sign-in: the code has expired');
  });
});

describe('single sign-on and sign-out', () => {
  beforeEach(() => sessionStorage.clear());

  it('asks silently (prompt=none) once per tab; a refusal is no error but the sign-in page', async () => {
    expect(shouldTrySilentLogin(sessionStorage)).toBe(true);
    const url = new URL(await beginLogin(config, '/teams', sessionStorage, ORIGIN, { silent: true }));
    expect(url.searchParams.get('prompt')).toBe('none');
    expect(shouldTrySilentLogin(sessionStorage)).toBe(false);
    const state = url.searchParams.get('state')!;
    const refused = completeLogin(
      config,
      `${ORIGIN}/auth/callback?error=login_required&state=${state}`,
      sessionStorage,
    );
    await expect(refused).rejects.toBeInstanceOf(NoSingleSignOn);
    await expect(refused).rejects.toMatchObject({ returnTo: '/teams' });
    // An ordinary sign-in does not ask silently, and its refusals stay errors.
    const plain = new URL(await beginLogin(config, '/', sessionStorage, ORIGIN));
    expect(plain.searchParams.has('prompt')).toBe(false);
    const error = await completeLogin(
      config,
      `${ORIGIN}/auth/callback?error=access_denied&state=${plain.searchParams.get('state')}`,
      sessionStorage,
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LoginError);
    expect(error).not.toBeInstanceOf(NoSingleSignOn);
  });

  it('signs out at the end-session endpoint with the ID token, back to the callback with a remembered state', () => {
    const url = new URL(
      beginLogout(
        config,
        { accessToken: 'at', idToken: 'id.token.jwt', expiresAt: 0 },
        sessionStorage,
        ORIGIN,
      ),
    );
    expect(`${url.origin}${url.pathname}`).toBe('http://localhost:8091/oauth2/logout');
    const params = Object.fromEntries(url.searchParams);
    expect(params).toMatchObject({
      client_id: 'console',
      id_token_hint: 'id.token.jwt',
      post_logout_redirect_uri: 'http://localhost:8090/auth/callback',
    });
    expect(isLogoutReturn(`${ORIGIN}/auth/callback?state=forged`, sessionStorage)).toBe(false);
    beginLogout(config, undefined, sessionStorage, ORIGIN);
    const again = new URL(beginLogout(config, undefined, sessionStorage, ORIGIN));
    expect(again.searchParams.has('id_token_hint')).toBe(false);
    const state = again.searchParams.get('state')!;
    expect(isLogoutReturn(`${ORIGIN}/auth/callback?state=${state}`, sessionStorage)).toBe(true);
    // Used up: the same URL later is no sign-out return.
    expect(isLogoutReturn(`${ORIGIN}/auth/callback?state=${state}`, sessionStorage)).toBe(false);
  });
});
