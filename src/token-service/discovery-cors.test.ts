import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeEachDatabase } from '../platform/test-support/databases.js';
import { resolveTokenServiceConfig } from './config.js';
import {
  basic,
  CLIENT,
  createFixture,
  FORM,
  form,
  TOKEN_SERVICE_TEST_MIGRATIONS,
  type TokenServiceFixture,
} from './test-support.js';

const APP = 'https://app.example.org';
const STRANGER = 'https://stranger.example.net';

describe('corsAllowedOrigins setting', () => {
  it('takes origins and *, and names anything else', () => {
    expect(
      resolveTokenServiceConfig({ corsAllowedOrigins: ['*', 'http://localhost:3000'] }).corsAllowedOrigins,
    ).toEqual(['*', 'http://localhost:3000']);
    for (const wrong of ['https://app.example.org/', 'https://app.example.org/path', 'app.example.org']) {
      expect(() => resolveTokenServiceConfig({ corsAllowedOrigins: [wrong] }), wrong).toThrow(
        'token-service.corsAllowedOrigins.0: must be "*" or an origin',
      );
    }
  });
});

/** Issue 14 §8 and §13: RFC 8414 metadata beside OIDC discovery, and CORS from an allow-list. */
describeEachDatabase('discovery documents and CORS', TOKEN_SERVICE_TEST_MIGRATIONS, (getDatabase) => {
  let open: TokenServiceFixture;
  let closed: TokenServiceFixture;
  beforeAll(async () => {
    open = await createFixture(getDatabase(), { corsAllowedOrigins: [APP, '*'] });
    // The default: no origin besides those `stups up` adds (the console's own).
    closed = await createFixture(getDatabase());
  });
  afterAll(async () => {
    await open?.close();
    await closed?.close();
  });

  it('serves the RFC 8414 document with the same content and issuer as the OIDC one', async () => {
    const oidc = await open.app.inject({ url: '/.well-known/openid-configuration' });
    const oauth = await open.app.inject({ url: '/.well-known/oauth-authorization-server' });
    expect(oauth.statusCode).toBe(200);
    expect(oauth.json()).toEqual(oidc.json());
    expect(oauth.json()).toMatchObject({
      issuer: open.ctx.urls['token-service'],
      token_endpoint: `${open.ctx.urls['token-service']}/oauth2/access_token`,
      request_parameter_supported: false,
      request_uri_parameter_supported: false,
    });
  });

  it('opens discovery and JWKS to every origin when the allow-list has *, with preflight', async () => {
    for (const url of [
      '/.well-known/openid-configuration',
      '/.well-known/oauth-authorization-server',
      '/.well-known/jwks.json',
    ]) {
      const response = await open.app.inject({ url, headers: { origin: STRANGER } });
      expect(response.statusCode, url).toBe(200);
      expect(response.headers['access-control-allow-origin'], url).toBe('*');
      const preflight = await open.app.inject({
        method: 'OPTIONS',
        url,
        headers: { origin: STRANGER, 'access-control-request-method': 'GET' },
      });
      expect(preflight.statusCode, url).toBe(204);
      expect(preflight.headers).toMatchObject({
        'access-control-allow-origin': '*',
        'access-control-allow-methods': 'GET',
      });
    }
  });

  it('answers the token endpoint only to listed origins, errors included; * does not open it', async () => {
    const tokenRequest = (origin: string, secret = CLIENT.secret) =>
      open.app.inject({
        method: 'POST',
        url: '/oauth2/token',
        headers: { ...FORM, origin, authorization: basic(CLIENT.id, secret) },
        payload: form({ grant_type: 'client_credentials' }),
      });
    const listed = await tokenRequest(APP);
    expect(listed.statusCode).toBe(200);
    expect(listed.headers['access-control-allow-origin']).toBe(APP);
    expect(listed.headers.vary).toMatch(/origin/i);
    const refused = await tokenRequest(APP, 'wrong-secret-0123456789');
    expect(refused.statusCode).toBe(401);
    expect(refused.headers['access-control-allow-origin']).toBe(APP);
    expect(refused.headers['access-control-expose-headers']).toBe('www-authenticate');
    const stranger = await tokenRequest(STRANGER);
    expect(stranger.statusCode).toBe(200);
    expect(stranger.headers['access-control-allow-origin']).toBeUndefined();

    const preflight = (origin: string) =>
      open.app.inject({
        method: 'OPTIONS',
        url: '/oauth2/token',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization, content-type',
        },
      });
    const allowed = await preflight(APP);
    expect(allowed.statusCode).toBe(204);
    expect(allowed.headers).toMatchObject({
      'access-control-allow-origin': APP,
      'access-control-allow-methods': 'POST',
      'access-control-allow-headers': 'authorization, content-type',
    });
    const notAllowed = await preflight(STRANGER);
    expect(notAllowed.statusCode).toBe(204);
    expect(notAllowed.headers['access-control-allow-origin']).toBeUndefined();
    expect(notAllowed.headers['access-control-allow-methods']).toBeUndefined();

    for (const url of ['/oauth2/introspect', '/oauth2/revoke', '/oauth2/userinfo', '/oauth2/access_token']) {
      const response = await open.app.inject({
        method: 'OPTIONS',
        url,
        headers: { origin: APP, 'access-control-request-method': 'POST' },
      });
      expect(response.headers['access-control-allow-origin'], url).toBe(APP);
    }
  });

  it('sends no CORS headers by default, and none on endpoints outside the list', async () => {
    for (const url of ['/.well-known/openid-configuration', '/.well-known/jwks.json']) {
      const response = await closed.app.inject({ url, headers: { origin: APP } });
      expect(response.statusCode, url).toBe(200);
      expect(response.headers['access-control-allow-origin'], url).toBeUndefined();
    }
    // The authorization endpoint is a page for the browser to navigate to, never fetched.
    const page = await open.app.inject({
      url: '/oauth2/authorize?client_id=zign&response_type=token',
      headers: { origin: APP },
    });
    expect(page.headers['access-control-allow-origin']).toBeUndefined();
  });
});
