import { decodeJwt, decodeProtectedHeader } from 'jose';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { TokenVerifier } from '../platform/auth/token-verifier.js';
import type { HttpApp } from '../platform/http/create-http-app.js';
import { describeEachDatabase } from '../platform/test-support/databases.js';
import { createTestContext } from '../platform/test-support/service-context.js';
import { freePorts } from '../stups/free-ports.js';
import { UserStore } from '../users/store.js';
import { DEVICE_CODE_GRANT } from './contract.js';
import { TOKEN_SERVICE_TEST_MIGRATIONS } from './test-support.js';
import { createTokenService, type TokenService } from './token-service.js';

const USER = { uid: 'jdoe', password: 'jdoe-password-1' };
const REDIRECT_URI = 'https://rp.example.org/callback';
/** A relying party that takes the OIDC default (RS256 ID tokens), and one that asks for ES256. */
const RP_RS256 = { id: 'rp-rs256', secret: 'rp-rs256-secret-0123456789' };
const RP_ES256 = { id: 'rp-es256', secret: 'rp-es256-secret-0123456789 +' };
const PETS_API = 'https://pets.example.org/api';

/**
 * The token service driven by `openid-client` (a certified OpenID relying party, on oauth4webapi)
 * over real HTTP: every protocol check is the library's, not ours. The browser's part of the code
 * flow (login form, CSRF cookie, redirect) is done with fetch, as a browser would.
 */
describeEachDatabase(
  'openid-client against the token service',
  TOKEN_SERVICE_TEST_MIGRATIONS,
  (getDatabase) => {
    let service: TokenService;
    let app: HttpApp;
    let issuer: string;

    beforeAll(async () => {
      const database = getDatabase();
      const [port] = await freePorts(1);
      issuer = `http://127.0.0.1:${port}`;
      const base = createTestContext(database, new TokenVerifier({ issuers: [] }));
      const users = new UserStore(database);
      if (!(await users.getUser(USER.uid)))
        await users.putUser(USER.uid, {
          name: 'John Doe',
          email: 'jdoe@example.org',
          password: USER.password,
        });
      // The real clock: the library checks iat/exp and waits the device flow's interval for real.
      service = createTokenService(
        { ...base, urls: { ...base.urls, 'token-service': issuer } },
        { users, config: { devicePollIntervalSeconds: 1, resourceIndicators: [PETS_API] } },
      );
      for (const [rp, alg] of [
        [RP_RS256, undefined],
        [RP_ES256, 'ES256'],
      ] as const) {
        await service.upsertClient({
          clientId: rp.id,
          type: 'confidential',
          secret: rp.secret,
          realms: ['employees'],
          grantTypes: ['authorization_code', 'refresh_token', DEVICE_CODE_GRANT],
          redirectUris: [REDIRECT_URI],
          ...(alg ? { idTokenSignedResponseAlg: alg } : {}),
        });
      }
      app = await service.createApp();
      await app.listen({ host: '127.0.0.1', port: port! });
    });
    afterAll(async () => {
      await app?.close();
    });

    const configure = (rp: { id: string; secret: string }, metadata: Partial<oidc.ClientMetadata> = {}) =>
      oidc.discovery(new URL(issuer), rp.id, metadata, oidc.ClientSecretBasic(rp.secret), {
        // Non-repudiation checks: the library verifies ID token signatures against our JWKS too
        // (by default it trusts the TLS channel of the token endpoint and checks only the claims).
        execute: [oidc.allowInsecureRequests, oidc.enableNonRepudiationChecks],
      });

    /** What a browser does with a page holding one form: its hidden fields, the cookie it got. */
    async function openForm(url: string, cookie?: string) {
      const page = await fetch(url, { redirect: 'manual', headers: cookie ? { cookie } : {} });
      expect(page.status).toBe(200);
      const html = await page.text();
      const setCookie = page.headers.get('set-cookie');
      const action = /<form method="post" action="([^"]+)">/.exec(html)?.[1];
      expect(action).toBeDefined();
      const fields = new URLSearchParams();
      for (const [, name, value] of html.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g))
        fields.append(unescape(name!), unescape(value!));
      return {
        action: new URL(unescape(action!), url).toString(),
        fields,
        cookie: setCookie ? setCookie.split(';')[0]! : cookie,
      };
    }

    async function submit(form: Awaited<ReturnType<typeof openForm>>, extra: Record<string, string>) {
      for (const [name, value] of Object.entries(extra)) form.fields.set(name, value);
      return fetch(form.action, {
        method: 'POST',
        redirect: 'manual',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          ...(form.cookie ? { cookie: form.cookie } : {}),
        },
        body: form.fields.toString(),
      });
    }

    /** Authorization code + PKCE: the URL the library builds, the login as a browser, the callback back to it. */
    async function codeFlow(config: oidc.Configuration, scope: string, extra: Record<string, string> = {}) {
      const pkceCodeVerifier = oidc.randomPKCECodeVerifier();
      const state = oidc.randomState();
      const nonce = oidc.randomNonce();
      const url = oidc.buildAuthorizationUrl(config, {
        redirect_uri: REDIRECT_URI,
        scope,
        code_challenge: await oidc.calculatePKCECodeChallenge(pkceCodeVerifier),
        code_challenge_method: 'S256',
        state,
        nonce,
        ...extra,
      });
      const login = await openForm(url.toString());
      const answer = await submit(login, { username: USER.uid, password: USER.password });
      expect(answer.status).toBe(303);
      const callback = new URL(answer.headers.get('location')!);
      expect(callback.origin + callback.pathname).toBe(REDIRECT_URI);
      return oidc.authorizationCodeGrant(config, callback, {
        pkceCodeVerifier,
        expectedState: state,
        expectedNonce: nonce,
        idTokenExpected: true,
      });
    }

    it('discovers the token service', async () => {
      const config = await configure(RP_RS256);
      const metadata = config.serverMetadata();
      expect(metadata.issuer).toBe(issuer);
      expect(metadata.id_token_signing_alg_values_supported).toEqual(['RS256', 'ES256']);
      expect(metadata.supportsPKCE()).toBe(true);
    });

    for (const [rp, alg, metadata] of [
      [RP_RS256, 'RS256', {}],
      [RP_ES256, 'ES256', { id_token_signed_response_alg: 'ES256' }],
    ] as const) {
      it(`runs code + PKCE, refresh, introspection and revocation; ID tokens in ${alg}`, async () => {
        const config = await configure(rp, metadata);
        const tokens = await codeFlow(config, 'openid profile email offline_access');
        // The library validated the ID token (signature from the JWKS, iss, aud, nonce, iat/exp).
        expect(decodeProtectedHeader(tokens.id_token!).alg).toBe(alg);
        expect(tokens.claims()).toMatchObject({ sub: USER.uid, aud: rp.id, email: 'jdoe@example.org' });
        expect(decodeJwt(tokens.access_token).aud).toBe(issuer);
        expect(decodeProtectedHeader(tokens.access_token).typ).toBe('at+jwt');

        const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
        expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
        expect(decodeProtectedHeader(refreshed.id_token!).alg).toBe(alg);
        expect(refreshed.claims()?.sub).toBe(USER.uid);

        const introspected = await oidc.tokenIntrospection(config, refreshed.access_token);
        expect(introspected).toMatchObject({ active: true, sub: USER.uid, client_id: rp.id, aud: issuer });
        const introspectedRefresh = await oidc.tokenIntrospection(config, refreshed.refresh_token!, {
          token_type_hint: 'refresh_token',
        });
        expect(introspectedRefresh.active).toBe(true);

        await oidc.tokenRevocation(config, refreshed.refresh_token!);
        expect((await oidc.tokenIntrospection(config, refreshed.refresh_token!)).active).toBe(false);
        // Revoking the refresh token withdrew the access token issued with it.
        expect((await oidc.tokenIntrospection(config, refreshed.access_token)).active).toBe(false);
        await expect(oidc.refreshTokenGrant(config, refreshed.refresh_token!)).rejects.toMatchObject({
          error: 'invalid_grant',
        });
      });
    }

    it('runs the device flow: the library polls while the person approves in a browser', async () => {
      const config = await configure(RP_ES256, { id_token_signed_response_alg: 'ES256' });
      const device = await oidc.initiateDeviceAuthorization(config, { scope: 'openid uid' });
      const page = await openForm(device.verification_uri_complete!);
      const approved = await submit(page, {
        user_code: device.user_code,
        username: USER.uid,
        password: USER.password,
        decision: 'approve',
      });
      expect(approved.status).toBe(200);
      const tokens = await oidc.pollDeviceAuthorizationGrant(config, device);
      expect(tokens.claims()?.sub).toBe(USER.uid);
      expect(decodeProtectedHeader(tokens.id_token!).alg).toBe('ES256');
      expect((await oidc.tokenIntrospection(config, tokens.access_token)).active).toBe(true);
      await oidc.tokenRevocation(config, tokens.access_token);
      expect((await oidc.tokenIntrospection(config, tokens.access_token)).active).toBe(false);
    });

    it('asks for a resource (RFC 8707) at the authorization endpoint; an unknown one comes back as invalid_target', async () => {
      const config = await configure(RP_RS256);
      const tokens = await codeFlow(config, 'openid offline_access', { resource: PETS_API });
      expect(decodeJwt(tokens.access_token).aud).toBe(PETS_API);
      // Refused before any login: the browser is sent straight back with the error.
      const state = oidc.randomState();
      const url = oidc.buildAuthorizationUrl(config, {
        redirect_uri: REDIRECT_URI,
        scope: 'openid',
        code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()),
        code_challenge_method: 'S256',
        state,
        nonce: oidc.randomNonce(),
        resource: 'https://unknown.example.org',
      });
      const refused = await fetch(url, { redirect: 'manual' });
      expect(refused.status).toBe(303);
      await expect(
        oidc.authorizationCodeGrant(config, new URL(refused.headers.get('location')!), {
          pkceCodeVerifier: oidc.randomPKCECodeVerifier(),
          expectedState: state,
        }),
      ).rejects.toMatchObject({ error: 'invalid_target' });
    });

    it('asks for a resource (RFC 8707) at the token endpoint and gets invalid_target for an unknown one', async () => {
      const config = await configure(RP_RS256);
      const tokens = await codeFlow(config, 'openid offline_access');
      await expect(
        oidc.refreshTokenGrant(config, tokens.refresh_token!, { resource: 'https://unknown.example.org' }),
      ).rejects.toMatchObject({ error: 'invalid_target' });
      const platform = await oidc.refreshTokenGrant(config, tokens.refresh_token!, { resource: issuer });
      expect(decodeJwt(platform.access_token).aud).toBe(issuer);
    });
  },
);

function unescape(value: string): string {
  return value
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}
