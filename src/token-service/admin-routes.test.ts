import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDatabase } from '../platform/test-support/databases.js';
import {
  basic,
  createFixture,
  FORM,
  form,
  passwordToken,
  TOKEN_SERVICE_TEST_MIGRATIONS,
  type TokenServiceFixture,
} from './test-support.js';

const ADMIN = { uid: 'admin', password: 'admin-password-1' };

/** Issue 13 §4: service users and OAuth clients administered over HTTP, secrets shown once. */
describeEachDatabase('token service admin API', TOKEN_SERVICE_TEST_MIGRATIONS, (getDatabase) => {
  let f: TokenServiceFixture;
  let adminToken: string;
  let jdoeToken: string;
  beforeAll(async () => {
    f = await createFixture(getDatabase());
    if (!(await f.users.getUser(ADMIN.uid)))
      await f.users.putUser(ADMIN.uid, {
        name: 'Admin',
        email: 'admin@example.org',
        password: ADMIN.password,
      });
    adminToken = (await passwordToken(f.app, { username: ADMIN.uid, password: ADMIN.password })).access_token;
    jdoeToken = (await passwordToken(f.app)).access_token;
  });
  afterAll(async () => {
    await f?.close();
  });

  const call = (
    method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
    url: string,
    body?: unknown,
    token = adminToken,
  ) =>
    f.app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${token}` },
      ...(body !== undefined ? { payload: body as Record<string, unknown> } : {}),
    });
  /** What an existing STUPS library does with CREDENTIALS_DIR's user.json and client.json. */
  const serviceToken = (
    client: { client_id: string; client_secret: string },
    user: { username: string; password: string },
    scope: string,
  ) =>
    f.app.inject({
      method: 'POST',
      url: '/oauth2/access_token?realm=/services',
      headers: { ...FORM, authorization: basic(client.client_id, client.client_secret) },
      payload: form({ grant_type: 'password', username: user.username, password: user.password, scope }),
    });
  const events = async (action: string) =>
    f.ctx.auditLog.query({ service: 'token-service', action, limit: 100 });

  it('creates a service user and a client whose credentials get a token as a STUPS library asks for it', async () => {
    const createdUser = await call('POST', '/admin/service-users', {
      username: 'stups_hello-world',
      application_id: 'hello-world',
      team_id: 'demo',
      scopes: ['application.write'],
    });
    expect(createdUser.statusCode).toBe(201);
    expect(createdUser.headers['cache-control']).toBe('no-store');
    const user = createdUser.json();
    expect(user).toEqual({
      username: 'stups_hello-world',
      application_id: 'hello-world',
      team_id: 'demo',
      scopes: ['application.write'],
      disabled: false,
      password: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
    });
    const createdClient = await call('POST', '/admin/clients', { client_id: 'hello-world-client' });
    expect(createdClient.statusCode).toBe(201);
    const client = createdClient.json();
    expect(client).toMatchObject({
      client_id: 'hello-world-client',
      type: 'confidential',
      realms: ['services'],
      grant_types: ['password', 'client_credentials'],
      client_secret: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
    });

    const token = await serviceToken(client, user, 'uid application.write');
    expect(token.statusCode).toBe(200);
    expect(token.json().scope).toBe('uid application.write');
    const principal = await f.verifier.verify(token.json().access_token);
    expect(principal).toMatchObject({ uid: 'stups_hello-world', realm: 'services' });
    expect([...principal.scopes].sort()).toEqual(['application.write', 'uid']);
    // The application the token acts for is the stored one (TeamPolicy's contract).
    expect(await f.service.serviceApplications.applicationOf(principal)).toEqual({
      applicationId: 'hello-world',
    });

    // Shown once: neither the listing, the single view, the audit trail nor the store has them.
    const listed = await call('GET', '/admin/service-users');
    expect(listed.json()).toContainEqual({
      username: 'stups_hello-world',
      application_id: 'hello-world',
      team_id: 'demo',
      scopes: ['application.write'],
      disabled: false,
    });
    const shown = await call('GET', '/admin/clients/hello-world-client');
    expect(shown.json()).not.toHaveProperty('client_secret');
    const trail = JSON.stringify(await f.ctx.auditLog.query({ service: 'token-service', limit: 1000 }));
    expect(trail).not.toContain(user.password);
    expect(trail).not.toContain(client.client_secret);
    const row = await f.db
      .selectFrom('token_service_users')
      .select('password_hash')
      .where('username', '=', 'stups_hello-world')
      .executeTakeFirstOrThrow();
    expect(row.password_hash).not.toContain(user.password);

    const [created] = await events('token-service.service_user.create');
    expect(created).toMatchObject({
      actor: 'admin',
      target_id: 'stups_hello-world',
      outcome: 'success',
    });
    expect((await call('POST', '/admin/service-users', { username: 'stups_hello-world' })).statusCode).toBe(
      409,
    );
  });

  it('updates scopes, rotates the password, disables and deletes a service user', async () => {
    const { client_secret } = (await call('POST', '/admin/clients', { client_id: 'rotation-client' })).json();
    const client = { client_id: 'rotation-client', client_secret };
    const first = (
      await call('POST', '/admin/service-users', { username: 'stups_rotating', scopes: ['pets.read'] })
    ).json();
    expect((await serviceToken(client, first, 'uid pets.read')).json().scope).toBe('uid pets.read');

    const updated = await call('PATCH', '/admin/service-users/stups_rotating', {
      scopes: ['pets.write'],
      application_id: 'pets',
    });
    expect(updated.json()).toMatchObject({ scopes: ['pets.write'], application_id: 'pets' });
    // Narrowing (the default): the scope it no longer holds is left out.
    expect((await serviceToken(client, first, 'uid pets.read pets.write')).json().scope).toBe(
      'uid pets.write',
    );

    const rotated = await call('POST', '/admin/service-users/stups_rotating/password');
    expect(rotated.statusCode).toBe(200);
    const second = rotated.json();
    expect(second.password).not.toBe(first.password);
    expect((await serviceToken(client, first, 'uid')).statusCode).toBe(400);
    const issued = await serviceToken(client, second, 'uid');
    expect(issued.statusCode).toBe(200);

    const disabled = await call('POST', '/admin/service-users/stups_rotating/disable');
    expect(disabled.json()).toMatchObject({ disabled: true });
    expect((await serviceToken(client, second, 'uid')).json().error).toBe('invalid_grant');
    expect((await call('PATCH', '/admin/service-users/stups_rotating', { disabled: false })).statusCode).toBe(
      200,
    );
    const again = (await serviceToken(client, second, 'uid')).json().access_token;

    expect((await call('DELETE', '/admin/service-users/stups_rotating')).statusCode).toBe(204);
    expect((await call('GET', '/admin/service-users/stups_rotating')).statusCode).toBe(404);
    // Its tokens are refused once the principal cache has expired, like a disabled one's.
    f.clock.advance(6);
    await expect(f.verifier.verify(again)).rejects.toThrow(/disabled/);
    expect((await events('token-service.service_user.rotate'))[0]).toMatchObject({
      target_id: 'stups_rotating',
    });
    expect((await events('token-service.service_user.delete'))[0]).toMatchObject({
      target_id: 'stups_rotating',
    });
  });

  it('updates, rotates, disables and deletes an OAuth client', async () => {
    const created = (
      await call('POST', '/admin/clients', {
        client_id: 'web-app',
        realms: ['employees'],
        grant_types: ['authorization_code', 'refresh_token'],
        redirect_uris: ['https://web.example.org/callback'],
      })
    ).json();
    const credentials = (secret: string) =>
      f.app.inject({
        method: 'POST',
        url: '/oauth2/introspect',
        headers: { ...FORM, authorization: basic('web-app', secret) },
        payload: form({ token: 'nothing' }),
      });
    expect((await credentials(created.client_secret)).statusCode).toBe(200);
    const patched = await call('PATCH', '/admin/clients/web-app', {
      redirect_uris: ['https://web.example.org/callback', 'https://web.example.org/other'],
      scopes: ['uid', 'openid'],
    });
    expect(patched.json()).toMatchObject({
      redirect_uris: ['https://web.example.org/callback', 'https://web.example.org/other'],
      scopes: ['uid', 'openid'],
      grant_types: ['authorization_code', 'refresh_token'],
    });
    const rotated = (await call('POST', '/admin/clients/web-app/secret')).json();
    expect(rotated.client_secret).not.toBe(created.client_secret);
    expect((await credentials(created.client_secret)).statusCode).toBe(401);
    expect((await credentials(rotated.client_secret)).statusCode).toBe(200);
    expect((await call('POST', '/admin/clients/web-app/disable')).json()).toMatchObject({ disabled: true });
    expect((await credentials(rotated.client_secret)).statusCode).toBe(401);
    expect((await call('DELETE', '/admin/clients/web-app')).statusCode).toBe(204);
    expect((await call('DELETE', '/admin/clients/web-app')).statusCode).toBe(404);

    const publicClient = await call('POST', '/admin/clients', {
      client_id: 'spa',
      type: 'public',
      realms: ['employees'],
      grant_types: ['authorization_code'],
    });
    expect(publicClient.json()).not.toHaveProperty('client_secret');
    expect((await call('POST', '/admin/clients/spa/secret')).statusCode).toBe(400);
  });

  it('refuses non-administrators (audited) and bad input with problem+json', async () => {
    const refused = await call('POST', '/admin/service-users', { username: 'stups_sneaky' }, jdoeToken);
    expect(refused.statusCode).toBe(403);
    expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(refused.json().detail).toBe('only platform administrators may create service users');
    const [audited] = await events('token-service.service_user.create');
    expect(audited).toMatchObject({ actor: 'jdoe', outcome: 'refused' });
    expect((await call('GET', '/admin/clients', undefined, jdoeToken)).statusCode).toBe(403);
    const rotate = await call('POST', '/admin/clients/myapp-client/secret', undefined, jdoeToken);
    expect(rotate.statusCode).toBe(403);
    expect((await events('token-service.client.rotate'))[0]).toMatchObject({
      actor: 'jdoe',
      outcome: 'refused',
      target_id: 'myapp-client',
    });
    expect((await f.app.inject({ method: 'GET', url: '/admin/service-users' })).statusCode).toBe(401);

    for (const [url, body] of [
      ['/admin/service-users', { username: 'Bad Name' }],
      ['/admin/service-users', { username: 'ok-name', password: 'chosen-by-me-1234' }],
      ['/admin/clients', { client_id: 'x', grant_types: ['implicit'] }],
      ['/admin/clients', { client_id: 'pub', type: 'public', grant_types: ['client_credentials'] }],
    ] as const) {
      const bad = await call('POST', url, body);
      expect(bad.statusCode).toBe(400);
      expect(bad.headers['content-type']).toMatch(/^application\/problem\+json/);
    }
    expect((await call('PATCH', '/admin/service-users/nobody', { scopes: [] })).statusCode).toBe(404);
  });

  it('documents the admin API in the OpenAPI document', async () => {
    const openapi = (await f.app.inject('/openapi.json')).json();
    expect(Object.keys(openapi.paths)).toEqual(
      expect.arrayContaining([
        '/admin/service-users',
        '/admin/service-users/{username}',
        '/admin/service-users/{username}/password',
        '/admin/clients',
        '/admin/clients/{client_id}/secret',
      ]),
    );
  });
});
