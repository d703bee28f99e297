import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeEachDatabase } from '../platform/test-support/databases.js';
import { isLoopbackRedirect } from './authorization.js';
import { tokenServiceMigrations } from './migrations.js';
import {
  createFixture,
  EMPLOYEE,
  submitLoginPage,
  TOKEN_SERVICE_TEST_MIGRATIONS,
  type TokenServiceFixture,
} from './test-support.js';

/** The fragment of a redirect, parsed as the STUPS-era client's loopback page does. */
function fragmentOf(location: unknown): Record<string, string> {
  const url = new URL(String(location));
  return Object.fromEntries(new URLSearchParams(url.hash.slice(1)));
}

describe('isLoopbackRedirect (RFC 8252 §7.3)', () => {
  it('accepts http to localhost, 127.0.0.1 and [::1] on any port and path, nothing else', () => {
    for (const uri of [
      'http://localhost:8081',
      'http://localhost:8181/',
      'http://127.0.0.1:9000/cb',
      'http://[::1]:8081',
    ]) {
      expect(isLoopbackRedirect(uri), uri).toBe(true);
    }
    for (const uri of [
      'https://localhost:8081',
      'http://localhost.evil.example:8081',
      'http://console.example.org/callback',
      'http://127.0.0.2:8081',
      'not a url',
    ]) {
      expect(isLoopbackRedirect(uri), uri).toBe(false);
    }
  });
});

/** Issue 13 §1: the browser login of STUPS-era clients (`response_type=token`, legacy). */
describeEachDatabase('legacy implicit flow', TOKEN_SERVICE_TEST_MIGRATIONS, (getDatabase) => {
  let f: TokenServiceFixture;
  beforeAll(async () => {
    f = await createFixture(getDatabase());
    // A client without the implicit grant, and one with it but a redirect URI off this machine.
    await f.service.upsertClient({
      clientId: 'code-only-cli',
      type: 'public',
      realms: ['employees'],
      grantTypes: ['authorization_code'],
      redirectUris: ['http://127.0.0.1/callback'],
    });
    await f.service.upsertClient({
      clientId: 'legacy-web',
      type: 'public',
      realms: ['employees'],
      grantTypes: ['implicit'],
      redirectUris: ['https://legacy.example.org/callback', 'http://[::1]/callback'],
    });
  });
  afterAll(async () => {
    await f?.close();
  });

  it('replays the STUPS client exchange: login page, form post, token in the fragment', async () => {
    // Exactly what the client opens: a redirect URI on the first free port, unescaped, and the
    // business partner id, which the token service ignores.
    const page = await f.app.inject({
      url:
        '/oauth2/authorize?business_partner_id=810d1d00-4312-43e5-bd31-d8373fdd24c7' +
        '&client_id=zign&redirect_uri=http://localhost:8085&response_type=token',
    });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-security-policy']).toContain("form-action 'self' http://localhost:8085");
    const login = await submitLoginPage(f.app, page);
    expect(login.statusCode).toBe(303);
    const location = new URL(String(login.headers.location));
    expect(location.origin).toBe('http://localhost:8085');
    expect(location.search).toBe('');
    const answer = fragmentOf(login.headers.location);
    expect(Object.keys(answer).sort()).toEqual(['access_token', 'expires_in', 'iss', 'scope', 'token_type']);
    expect(answer).toMatchObject({ token_type: 'Bearer', scope: 'uid', iss: f.ctx.urls['token-service'] });
    expect(answer.expires_in).toMatch(/^\d+$/);
    expect(Number(answer.expires_in)).toBe(3600);
    const principal = await f.verifier.verify(answer.access_token!);
    expect(principal).toMatchObject({ uid: EMPLOYEE.uid, realm: 'employees', clientId: 'zign' });
    expect(principal.grantType).toBe('implicit');
    expect([...principal.scopes]).toEqual(['uid']);

    const [event] = await f.ctx.auditLog.query({
      service: 'token-service',
      action: 'token-service.token.issue',
      limit: 1,
    });
    expect(event).toMatchObject({
      actor: EMPLOYEE.uid,
      outcome: 'success',
      target_id: principal.tokenId,
      details: { client_id: 'zign', grant_type: 'implicit', scope: 'uid', refresh_token: false },
    });
    expect(JSON.stringify(event)).not.toContain(answer.access_token);
  });

  it('returns state, the requested scope, and no refresh or ID token; any loopback port and a trailing slash', async () => {
    const page = await f.app.inject({
      url: '/oauth2/authorize?client_id=zign&redirect_uri=http://localhost:8181/&response_type=token&scope=uid%20openid&state=x%20y',
    });
    const login = await submitLoginPage(f.app, page);
    expect(String(login.headers.location)).toMatch(/^http:\/\/localhost:8181\/#/);
    const answer = fragmentOf(login.headers.location);
    expect(answer).toMatchObject({ state: 'x y', scope: 'uid openid', token_type: 'Bearer' });
    expect(answer.refresh_token).toBeUndefined();
    expect(answer.id_token).toBeUndefined();
  });

  it('answers a wrong password with the login form again and issues nothing', async () => {
    const page = await f.app.inject({
      url: '/oauth2/authorize?client_id=zign&redirect_uri=http://localhost:8081&response_type=token',
    });
    const login = await submitLoginPage(f.app, page, { uid: EMPLOYEE.uid, password: 'wrong-password' });
    expect(login.statusCode).toBe(401);
    expect(login.headers.location).toBeUndefined();
    expect(login.body).toContain('Wrong user name or password.');
  });

  it('refuses clients without the implicit grant and redirect URIs off this machine, in the fragment', async () => {
    const refused = async (query: string) => {
      const response = await f.app.inject({ url: `/oauth2/authorize?${query}&response_type=token&state=s` });
      expect(response.statusCode, query).toBe(303);
      expect(new URL(String(response.headers.location)).search, query).toBe('');
      return fragmentOf(response.headers.location);
    };
    expect(await refused('client_id=code-only-cli&redirect_uri=http://127.0.0.1:5000/callback')).toEqual({
      error: 'unauthorized_client',
      error_description:
        'client code-only-cli may not use response_type=token; use response_type=code with PKCE',
      state: 's',
      iss: f.ctx.urls['token-service'],
    });
    const offMachine = await refused('client_id=legacy-web&redirect_uri=https://legacy.example.org/callback');
    expect(offMachine).toMatchObject({ error: 'unsupported_response_type', state: 's' });
    // The same client on a loopback URI ([::1]) gets its token.
    const page = await f.app.inject({
      url: '/oauth2/authorize?client_id=legacy-web&redirect_uri=http://[::1]:8090/callback&response_type=token',
    });
    const login = await submitLoginPage(f.app, page);
    expect(String(login.headers.location)).toMatch(/^http:\/\/\[::1\]:8090\/callback#access_token=/);
  });

  it('keeps the code flow with PKCE for response_type=code', async () => {
    const response = await f.app.inject({
      url: '/oauth2/authorize?client_id=zign&redirect_uri=http://localhost:8081&response_type=code',
    });
    expect(response.statusCode).toBe(303);
    expect(new URL(String(response.headers.location)).searchParams.get('error')).toBe('invalid_request');
  });

  it('advertises response_type=token only while an enabled client has the implicit grant', async () => {
    const metadata = async () =>
      (await f.app.inject({ url: '/.well-known/openid-configuration' })).json<Record<string, string[]>>();
    expect(await metadata()).toMatchObject({
      response_types_supported: ['code', 'token'],
      response_modes_supported: ['query', 'fragment'],
    });
    expect((await metadata()).grant_types_supported).toContain('implicit');
    const zign = (await f.service.getClient('zign'))!;
    const legacyWeb = (await f.service.getClient('legacy-web'))!;
    try {
      await f.service.upsertClient({
        ...zign,
        grantTypes: zign.grantTypes.filter((grant) => grant !== 'implicit'),
      });
      await f.service.upsertClient({ ...legacyWeb, disabled: true });
      const without = await metadata();
      expect(without).toMatchObject({
        response_types_supported: ['code'],
        response_modes_supported: ['query'],
      });
      expect(without.grant_types_supported).not.toContain('implicit');
      // And zign without it is refused like any other client.
      const refused = await f.app.inject({
        url: '/oauth2/authorize?client_id=zign&redirect_uri=http://localhost:8081&response_type=token',
      });
      expect(fragmentOf(refused.headers.location).error).toBe('unauthorized_client');
    } finally {
      await f.service.upsertClient(zign);
      await f.service.upsertClient(legacyWeb);
    }
  });

  it('gives a zign client created by an earlier version the implicit grant once, by migration', async () => {
    const zign = (await f.service.getClient('zign'))!;
    const earlier = zign.grantTypes.filter((grant) => grant !== 'implicit');
    try {
      await f.service.upsertClient({ ...zign, grantTypes: earlier });
      await tokenServiceMigrations['003-zign-implicit-grant']!.up(f.db);
      expect((await f.service.getClient('zign'))!.grantTypes).toEqual([...earlier, 'implicit']);
      // Running it again changes nothing.
      await tokenServiceMigrations['003-zign-implicit-grant']!.up(f.db);
      expect((await f.service.getClient('zign'))!.grantTypes).toEqual([...earlier, 'implicit']);
    } finally {
      await f.service.upsertClient(zign);
    }
  });
});
