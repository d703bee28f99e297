import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { principalOf, requireAuth } from '../auth/http-auth.js';
import { ConflictError } from '../errors.js';
import { silentLogger } from '../logger.js';
import { createMetrics } from '../metrics.js';
import { createTestIssuer } from '../test-support/test-issuer.js';
import { createHttpApp } from './create-http-app.js';

async function buildApp() {
  const issuer = await createTestIssuer();
  const app = await createHttpApp({
    title: 'Test API',
    logger: silentLogger(),
    metrics: createMetrics({ defaultMetrics: false }),
  });
  app.post(
    '/things',
    { schema: { body: z.strictObject({ name: z.string().min(1), size: z.coerce.number().int() }) } },
    async (request) => ({ created: request.body.name, size: request.body.size }),
  );
  app.get('/conflict', async () => {
    throw new ConflictError('thing exists');
  });
  app.get('/boom', async () => {
    throw new Error('secret internal detail');
  });
  app.get('/me', { preHandler: requireAuth(issuer.verifier, { scopes: ['uid'] }) }, async (request) => ({
    uid: principalOf(request).uid,
  }));
  await app.ready();
  return { app, issuer };
}

describe('createHttpApp', () => {
  it('answers validation failures with problem+json 400 listing the problems', async () => {
    const { app } = await buildApp();
    const response = await app.inject({
      method: 'POST',
      url: '/things',
      payload: { name: '', extra: 1, size: 'x' },
    });
    expect(response.statusCode).toBe(400);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    const body = response.json();
    expect(body).toMatchObject({ status: 400, title: 'Bad Request', code: 'INPUT_INVALID' });
    expect(body.detail).toBe(body.message);
    expect(JSON.stringify(body.errors)).toContain('extra');
  });

  it('accepts numbers sent as strings where the schema coerces', async () => {
    const { app } = await buildApp();
    const response = await app.inject({ method: 'POST', url: '/things', payload: { name: 'a', size: '2' } });
    expect(response.json()).toEqual({ created: 'a', size: 2 });
  });

  it('rejects malformed JSON and oversized bodies', async () => {
    const { app } = await buildApp();
    const malformed = await app.inject({
      method: 'POST',
      url: '/things',
      headers: { 'content-type': 'application/json' },
      payload: '{"name":',
    });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.headers['content-type']).toMatch(/problem\+json/);
    const big = await app.inject({
      method: 'POST',
      url: '/things',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ name: 'x'.repeat(2 * 1024 * 1024), size: 1 }),
    });
    expect(big.statusCode).toBe(413);
    expect(big.json().code).toBe('FST_ERR_CTP_BODY_TOO_LARGE');
  });

  it('maps domain errors and hides internal ones', async () => {
    const { app } = await buildApp();
    const conflict = await app.inject('/conflict');
    expect(conflict.statusCode).toBe(409);
    expect(conflict.json()).toMatchObject({ code: 'CONFLICT', detail: 'thing exists' });
    const boom = await app.inject('/boom');
    expect(boom.statusCode).toBe(500);
    expect(boom.body).not.toContain('secret internal detail');
  });

  it('answers unknown routes with a 404 problem', async () => {
    const { app } = await buildApp();
    const response = await app.inject('/nope');
    expect(response.statusCode).toBe(404);
    expect(response.json()).toMatchObject({ code: 'ROUTE_NOT_FOUND', detail: 'no route for GET /nope' });
  });

  it('challenges missing, forged and under-scoped tokens as RFC 6750 says', async () => {
    const { app, issuer } = await buildApp();
    const missing = await app.inject('/me');
    expect(missing.statusCode).toBe(401);
    expect(missing.headers['www-authenticate']).toBe('Bearer realm="stups"');

    const other = await createTestIssuer('https://evil.test');
    const forged = await app.inject({
      url: '/me',
      headers: { authorization: `Bearer ${await other.token({ uid: 'mallory' })}` },
    });
    expect(forged.statusCode).toBe(401);
    expect(forged.headers['www-authenticate']).toContain('error="invalid_token"');
    expect(forged.json().detail).toBe('tokens of issuer "https://evil.test" are not accepted');

    const noScope = await app.inject({
      url: '/me',
      headers: { authorization: `Bearer ${await issuer.token({ uid: 'jdoe', scopes: [] })}` },
    });
    expect(noScope.statusCode).toBe(403);
    expect(noScope.headers['www-authenticate']).toContain('error="insufficient_scope"');
    expect(noScope.headers['www-authenticate']).toContain('scope="uid"');

    const ok = await app.inject({
      url: '/me',
      headers: { authorization: `Bearer ${await issuer.token({ uid: 'jdoe' })}` },
    });
    expect(ok.json()).toEqual({ uid: 'jdoe' });
    const basic = Buffer.from(`oauth2:${await issuer.token({ uid: 'jdoe' })}`).toString('base64');
    expect((await app.inject({ url: '/me', headers: { authorization: `Basic ${basic}` } })).json()).toEqual({
      uid: 'jdoe',
    });
  });

  it('rejects expired tokens with a clear message', async () => {
    const { app, issuer } = await buildApp();
    const token = await issuer.token({ uid: 'jdoe', expiresInSeconds: -60 });
    const response = await app.inject({ url: '/me', headers: { authorization: `Bearer ${token}` } });
    expect(response.statusCode).toBe(401);
    expect(response.json().detail).toBe('the access token has expired');
  });

  it('serves health, metrics and both OpenAPI paths', async () => {
    const { app } = await buildApp();
    expect((await app.inject('/health')).json()).toEqual({ status: 'UP' });
    await app.inject('/conflict');
    expect((await app.inject('/metrics')).body).toContain('http_request_duration_seconds_bucket');
    const openapi = (await app.inject('/openapi.json')).json();
    expect(openapi.info.title).toBe('Test API');
    expect(openapi.paths['/things']).toBeDefined();
    expect((await app.inject('/swagger.json')).json().info.title).toBe('Test API');
  });
});
