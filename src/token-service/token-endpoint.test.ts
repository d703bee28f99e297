import { describeEachDatabase } from '../platform/test-support/databases.js';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, expect, it } from 'vitest';

import {
  basic,
  CLIENT,
  createFixture,
  EMPLOYEE,
  FORM,
  form,
  passwordToken,
  SERVICE_USER,
  SERVICES_ONLY_CLIENT,
  TOKEN_SERVICE_TEST_MIGRATIONS,
  type TokenServiceFixture,
  writtenRows,
} from './test-support.js';

describeEachDatabase('token endpoint', TOKEN_SERVICE_TEST_MIGRATIONS, (getDatabase) => {
  let f: TokenServiceFixture;
  beforeAll(async () => {
    f = await createFixture(getDatabase());
  });
  afterAll(async () => {
    await f?.close();
  });

  const post = (
    payload: string | Record<string, unknown>,
    options: { url?: string; headers?: Record<string, string> } = {},
  ) =>
    f.app.inject({
      method: 'POST',
      url: options.url ?? '/oauth2/access_token',
      headers: { ...(typeof payload === 'string' ? FORM : {}), ...options.headers },
      payload,
    });

  it('issues an employee token for the password grant with client Basic auth', async () => {
    const response = await post(
      form({
        grant_type: 'password',
        username: EMPLOYEE.uid,
        password: EMPLOYEE.password,
        scope: 'uid openid',
      }),
      {
        url: '/oauth2/access_token?realm=/employees',
        headers: { authorization: basic(CLIENT.id, CLIENT.secret) },
      },
    );
    expect(response.statusCode).toBe(200);
    expect(response.headers['cache-control']).toBe('no-store');
    const body = response.json();
    expect(Object.keys(body).sort()).toEqual([
      'access_token',
      'expires_in',
      'id_token',
      'refresh_token',
      'scope',
      'token_type',
    ]);
    expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 3600, scope: 'uid openid' });
    const claims = decodeJwt(body.access_token);
    expect(Object.keys(claims).sort()).toEqual([
      'aud',
      'client_id',
      'exp',
      'grant_type',
      'iat',
      'iss',
      'jti',
      'realm',
      'scope',
      'sub',
    ]);
    expect(claims).toMatchObject({
      iss: f.ctx.urls['token-service'],
      // RFC 9068 §2.2; without accessTokenAudience the platform audience is the issuer URL.
      aud: f.ctx.urls['token-service'],
      sub: 'jdoe',
      realm: '/employees',
      scope: 'uid openid',
      client_id: CLIENT.id,
      grant_type: 'password',
    });
    expect(claims.exp! - claims.iat!).toBe(3600);
    expect(decodeProtectedHeader(body.access_token)).toMatchObject({ alg: 'ES256', typ: 'at+jwt' });
    expect(decodeJwt(body.id_token)).toMatchObject({
      sub: 'jdoe',
      aud: CLIENT.id,
      iss: f.ctx.urls['token-service'],
    });
    const principal = await f.verifier.verify(body.access_token);
    expect(principal).toMatchObject({
      uid: 'jdoe',
      realm: 'employees',
      clientId: CLIENT.id,
      grantType: 'password',
    });
    const events = await f.ctx.auditLog.query({
      service: 'token-service',
      action: 'token-service.token.issue',
      limit: 1,
    });
    expect(events[0]).toMatchObject({
      actor: 'jdoe',
      actor_realm: 'employees',
      outcome: 'success',
      target_id: claims.jti,
    });
    expect(JSON.stringify(events)).not.toContain(EMPLOYEE.password);
    expect(JSON.stringify(events)).not.toContain(body.access_token);
  });

  it('issues a service token in the /services realm, as python-tokens asks for it', async () => {
    const response = await post(
      form({
        grant_type: 'password',
        username: SERVICE_USER.username,
        password: SERVICE_USER.password,
        scope: 'uid pets.write',
      }),
      {
        url: '/oauth2/access_token?realm=/services',
        headers: { authorization: basic(SERVICES_ONLY_CLIENT.id, SERVICES_ONLY_CLIENT.secret) },
      },
    );
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body).toEqual({
      access_token: body.access_token,
      token_type: 'Bearer',
      expires_in: 3600,
      scope: 'uid pets.write',
    });
    expect(decodeJwt(body.access_token)).toMatchObject({
      sub: SERVICE_USER.username,
      realm: '/services',
      scope: 'uid pets.write',
    });
  });

  it('accepts JSON bodies, body client credentials, query parameters and curl -d JSON with a form type', async () => {
    const json = await post(
      {
        grant_type: 'password',
        username: SERVICE_USER.username,
        password: SERVICE_USER.password,
        scope: 'uid',
        client_id: CLIENT.id,
        client_secret: CLIENT.secret,
        realm: 'services',
      },
      { url: '/oauth2/token' },
    );
    expect(json.statusCode).toBe(200);
    expect(decodeJwt(json.json().access_token).realm).toBe('/services');
    // Parameters may come in the query, except credentials (RFC 6749 §2.3.1; see credentials-in-query.test.ts).
    const query = await f.app.inject({
      method: 'POST',
      url: `/oauth2/access_token?${form({ realm: '/services', grant_type: 'password', username: SERVICE_USER.username, scope: 'application.write' })}`,
      headers: { ...FORM, authorization: basic(CLIENT.id, CLIENT.secret) },
      payload: form({ password: SERVICE_USER.password }),
    });
    expect(query.statusCode).toBe(200);
    expect(query.json().scope).toBe('application.write');
    const curl = await post(
      JSON.stringify({
        grant_type: 'password',
        username: SERVICE_USER.username,
        password: SERVICE_USER.password,
        scope: 'uid',
      }),
      {
        url: '/oauth2/access_token?realm=services',
        headers: { authorization: basic(CLIENT.id, CLIENT.secret) },
      },
    );
    expect(curl.statusCode).toBe(200);
  });

  it('grants the default scope uid when none is asked for', async () => {
    const response = await post(
      form({ grant_type: 'password', username: EMPLOYEE.uid, password: EMPLOYEE.password }),
      {
        headers: { authorization: basic(CLIENT.id, CLIENT.secret) },
      },
    );
    expect(response.json().scope).toBe('uid');
  });

  it('issues client_credentials tokens for the client itself in /services, without refresh token', async () => {
    const response = await post(form({ grant_type: 'client_credentials', scope: 'kio.read' }), {
      headers: { authorization: basic(SERVICES_ONLY_CLIENT.id, SERVICES_ONLY_CLIENT.secret) },
    });
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body.refresh_token).toBeUndefined();
    expect(decodeJwt(body.access_token)).toMatchObject({
      sub: SERVICES_ONLY_CLIENT.id,
      realm: '/services',
      scope: 'kio.read',
      grant_type: 'client_credentials',
    });
  });

  it('rotates refresh tokens and revokes the family when a used one comes back', async () => {
    const first = await passwordToken(f.app);
    expect(first.refresh_token).toBeDefined();
    const refresh = (token: string, scope?: string) =>
      post(form({ grant_type: 'refresh_token', refresh_token: token, ...(scope ? { scope } : {}) }), {
        headers: { authorization: basic(CLIENT.id, CLIENT.secret) },
      });
    const second = await refresh(first.refresh_token!);
    expect(second.statusCode).toBe(200);
    const rotated = second.json();
    expect(rotated.refresh_token).toBeDefined();
    expect(rotated.refresh_token).not.toBe(first.refresh_token);
    expect(decodeJwt(rotated.access_token)).toMatchObject({
      sub: 'jdoe',
      grant_type: 'refresh_token',
      scope: 'uid',
    });

    const widened = await refresh(rotated.refresh_token, 'uid email');
    expect(widened.statusCode).toBe(400);
    expect(widened.json()).toEqual({
      error: 'invalid_scope',
      error_description: 'scope not in the original grant: email',
    });

    // A refused refresh does not spend the token; the replay of the first one revokes it below.
    const replay = await refresh(first.refresh_token!);
    expect(replay.statusCode).toBe(400);
    expect(replay.json()).toEqual({
      error: 'invalid_grant',
      error_description: 'the refresh token was already used; its grant is revoked',
    });
    // The whole family, and the access tokens issued with it, are revoked now.
    await expect(f.verifier.verify(rotated.access_token)).rejects.toThrow('the access token was revoked');
    const other = await refresh(rotated.refresh_token);
    expect(other.json().error).toBe('invalid_grant');
  });

  it('answers a refresh token of another client with invalid_grant and leaves it usable', async () => {
    const issued = await passwordToken(f.app);
    await f.service.upsertClient({
      clientId: 'other-refresher',
      type: 'confidential',
      secret: 'other-secret-0123456789',
      realms: ['employees'],
      grantTypes: ['refresh_token'],
    });
    const stolen = await post(form({ grant_type: 'refresh_token', refresh_token: issued.refresh_token! }), {
      headers: { authorization: basic('other-refresher', 'other-secret-0123456789') },
    });
    expect(stolen.json()).toEqual({ error: 'invalid_grant', error_description: 'unknown refresh token' });
    const own = await post(form({ grant_type: 'refresh_token', refresh_token: issued.refresh_token! }), {
      headers: { authorization: basic(CLIENT.id, CLIENT.secret) },
    });
    expect(own.statusCode).toBe(200);
  });

  it.each([
    [
      'wrong password',
      { grant_type: 'password', username: EMPLOYEE.uid, password: 'wrong', scope: 'uid' },
      CLIENT,
      '',
      400,
      { error: 'invalid_grant', error_description: 'wrong user name or password' },
    ],
    [
      'disabled employee',
      { grant_type: 'password', username: 'gone', password: 'gone-password-1' },
      CLIENT,
      '',
      400,
      { error: 'invalid_grant', error_description: 'wrong user name or password' },
    ],
    [
      'employee password in the services realm',
      { grant_type: 'password', username: EMPLOYEE.uid, password: EMPLOYEE.password },
      CLIENT,
      '?realm=/services',
      400,
      { error: 'invalid_grant', error_description: 'wrong user name or password' },
    ],
    [
      'unknown client',
      { grant_type: 'password', username: EMPLOYEE.uid, password: EMPLOYEE.password },
      { id: 'nobody', secret: 'whatever-secret-123' },
      '',
      401,
      { error: 'invalid_client', error_description: 'client authentication failed' },
    ],
    [
      'wrong client secret',
      { grant_type: 'password', username: EMPLOYEE.uid, password: EMPLOYEE.password },
      { id: CLIENT.id, secret: 'not-the-secret-123' },
      '',
      401,
      { error: 'invalid_client', error_description: 'client authentication failed' },
    ],
    [
      'client not allowed in the realm',
      { grant_type: 'password', username: EMPLOYEE.uid, password: EMPLOYEE.password },
      SERVICES_ONLY_CLIENT,
      '?realm=/employees',
      400,
      {
        error: 'unauthorized_client',
        error_description: 'client services-only may not request tokens of the /employees realm',
      },
    ],
    [
      'unknown realm',
      { grant_type: 'password', username: EMPLOYEE.uid, password: EMPLOYEE.password },
      CLIENT,
      '?realm=/customers',
      400,
      {
        error: 'invalid_request',
        error_description: 'unknown realm "/customers" (use /employees or /services)',
      },
    ],
    [
      'missing password',
      { grant_type: 'password', username: EMPLOYEE.uid },
      CLIENT,
      '',
      400,
      { error: 'invalid_request', error_description: 'parameter "password" is missing' },
    ],
    [
      'missing grant type',
      { username: EMPLOYEE.uid },
      CLIENT,
      '',
      400,
      { error: 'invalid_request', error_description: 'parameter "grant_type" is missing' },
    ],
    [
      'unsupported grant',
      { grant_type: 'implicit' },
      CLIENT,
      '',
      400,
      { error: 'unsupported_grant_type', error_description: 'grant type "implicit" is not supported' },
    ],
    [
      'grant not allowed for the client',
      { grant_type: 'authorization_code', code: 'x', code_verifier: 'y' },
      CLIENT,
      '',
      400,
      {
        error: 'unauthorized_client',
        error_description: 'client myapp-client may not use the grant "authorization_code"',
      },
    ],
    [
      // Narrowing leaves nothing here, so even the default `narrow` refuses (scope-narrowing.test.ts).
      'scope the client may not ask for only',
      {
        grant_type: 'password',
        username: SERVICE_USER.username,
        password: SERVICE_USER.password,
        scope: 'application.write',
      },
      SERVICES_ONLY_CLIENT,
      '?realm=/services',
      400,
      { error: 'invalid_scope', error_description: 'scope not allowed: application.write' },
    ],
    [
      'malformed scope',
      { grant_type: 'password', username: EMPLOYEE.uid, password: EMPLOYEE.password, scope: 'uid "quoted"' },
      CLIENT,
      '',
      400,
      { error: 'invalid_scope', error_description: '""quoted"" is not a valid scope name' },
    ],
    [
      'unknown refresh token',
      { grant_type: 'refresh_token', refresh_token: 'made-up' },
      CLIENT,
      '',
      400,
      { error: 'invalid_grant', error_description: 'unknown refresh token' },
    ],
  ])(
    'rejects %s with the exact OAuth error and writes nothing',
    async (_name, params, client, query, status, error) => {
      const before = await writtenRows(f.db);
      const issuedBefore = (
        await f.ctx.auditLog.query({
          service: 'token-service',
          action: 'token-service.token.issue',
          limit: 1000,
        })
      ).filter((e) => e.outcome === 'success').length;
      const response = await post(form(params), {
        url: `/oauth2/access_token${query}`,
        headers: { authorization: basic(client.id, client.secret) },
      });
      expect(response.statusCode).toBe(status);
      expect(response.headers['content-type']).toMatch(/^application\/json/);
      expect(response.json()).toEqual(error);
      expect(await writtenRows(f.db)).toEqual(before);
      const events = await f.ctx.auditLog.query({
        service: 'token-service',
        action: 'token-service.token.issue',
        limit: 1000,
      });
      expect(events.filter((e) => e.outcome === 'success').length).toBe(issuedBefore);
      expect(events[0]).toMatchObject({ outcome: 'failure' });
      expect(JSON.stringify(events[0])).not.toContain(EMPLOYEE.password);
      if (status === 401) expect(response.headers['www-authenticate']).toBe('Basic realm="stups"');
    },
  );

  it('rejects missing client authentication, repeated parameters, two client auth methods and broken bodies', async () => {
    const none = await post(form({ grant_type: 'password', username: 'jdoe', password: 'x' }));
    expect(none.statusCode).toBe(401);
    expect(none.json()).toEqual({
      error: 'invalid_client',
      error_description: 'client authentication is required (Basic or client_id)',
    });
    const repeated = await post('grant_type=password&scope=uid&scope=openid', {
      headers: { authorization: basic(CLIENT.id, CLIENT.secret) },
    });
    expect(repeated.json()).toEqual({
      error: 'invalid_request',
      error_description: 'parameter "scope" is repeated',
    });
    const both = await post(form({ grant_type: 'client_credentials', client_secret: CLIENT.secret }), {
      headers: { authorization: basic(CLIENT.id, CLIENT.secret) },
    });
    expect(both.json()).toEqual({
      error: 'invalid_request',
      error_description: 'client credentials must be sent in one way only',
    });
    const broken = await f.app.inject({
      method: 'POST',
      url: '/oauth2/access_token',
      headers: { 'content-type': 'application/json' },
      payload: '{"grant_type":',
    });
    expect(broken.statusCode).toBe(400);
    expect(broken.json().error).toBe('invalid_request');
    const nested = await post({ grant_type: { $ne: 1 } });
    expect(nested.json()).toEqual({
      error: 'invalid_request',
      error_description: 'parameter "grant_type" must be a string',
    });
  });

  it('answers legacy Zign 1.0 GET with Basic user:password', async () => {
    const response = await f.app.inject({
      method: 'GET',
      url: '/oauth2/access_token?json=true&scope=uid',
      headers: { authorization: basic(EMPLOYEE.uid, EMPLOYEE.password) },
    });
    expect(response.statusCode).toBe(200);
    const token = response.json().access_token;
    expect(decodeJwt(token)).toMatchObject({
      sub: 'jdoe',
      realm: '/employees',
      client_id: 'zign',
      scope: 'uid',
    });
    const wrong = await f.app.inject({
      method: 'GET',
      url: '/oauth2/access_token?json=true&scope=uid',
      headers: { authorization: basic(EMPLOYEE.uid, 'nope') },
    });
    // Issue 13 §6: clients of this flow ask for the password again only on 401.
    expect(wrong.statusCode).toBe(401);
    expect(wrong.headers['www-authenticate']).toBe('Basic realm="stups"');
    expect(wrong.json()).toEqual({
      error: 'invalid_grant',
      error_description: 'wrong user name or password',
    });
    const anonymous = await f.app.inject({ method: 'GET', url: '/oauth2/access_token?json=true' });
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.headers['www-authenticate']).toBe('Basic realm="stups"');
  });

  it('serves the password grant and tokeninfo over a real listening server', async () => {
    const address = await f.app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const response = await fetch(`${address}/oauth2/access_token?realm=/services`, {
        method: 'POST',
        headers: { authorization: basic(CLIENT.id, CLIENT.secret) },
        body: new URLSearchParams({
          grant_type: 'password',
          username: SERVICE_USER.username,
          password: SERVICE_USER.password,
          scope: 'uid pets.write',
        }),
      });
      expect(response.status).toBe(200);
      const { access_token } = (await response.json()) as { access_token: string };
      const info = await fetch(`${address}/oauth2/tokeninfo`, {
        headers: { authorization: `Bearer ${access_token}` },
      });
      expect(info.status).toBe(200);
      expect(await info.json()).toMatchObject({
        uid: SERVICE_USER.username,
        realm: '/services',
        'pets.write': true,
      });
    } finally {
      await f.app.close();
      f.app = await f.service.createApp();
    }
  });
});
