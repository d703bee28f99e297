import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { principalOf, requireAuth } from '../auth/http-auth.js';
import { ConflictError } from '../errors.js';
import { silentLogger } from '../logger.js';
import { createMetrics } from '../metrics.js';
import { createTestIssuer } from '../test-support/test-issuer.js';
import { createHttpApp } from './create-http-app.js';
import { UnsafeInputError } from './input-guard.js';

async function buildApp(options: { idleTimeoutMs?: number } = {}) {
  const issuer = await createTestIssuer();
  const app = await createHttpApp({
    title: 'Test API',
    logger: silentLogger(),
    metrics: createMetrics({ defaultMetrics: false }),
    ...options,
  });
  app.get(
    '/things/:id',
    { schema: { querystring: z.object({ q: z.string().optional() }) } },
    async (request) => ({
      id: (request.params as { id: string }).id,
      q: request.query.q,
    }),
  );
  // Like Pier One's registry: a scope that reads the raw request itself.
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, _payload, done) => done(null));
    scope.put('/raw', async (request) => {
      const chunks: Buffer[] = [];
      for await (const chunk of request.raw) chunks.push(chunk as Buffer);
      return { bytes: Buffer.concat(chunks).length };
    });
  });
  app.get('/wrapped-client-fault', async () => {
    throw new Error('upstream request failed', {
      cause: new Error('body stream failed', {
        cause: new UnsafeInputError('the JSON body is not valid UTF-8'),
      }),
    });
  });
  app.get('/data-exception', async () => {
    throw Object.assign(new Error('value "12345678901234567890123456" is out of range for type bigint'), {
      code: '22003',
    });
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

describe('the edge guard', () => {
  const expectRefused = (response: {
    statusCode: number;
    headers: Record<string, unknown>;
    json: () => unknown;
  }) => {
    expect(response.statusCode).toBe(400);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    return response.json() as { code: string; detail: string };
  };

  it('refuses NUL characters and lone surrogates in paths, queries and JSON bodies', async () => {
    const { app } = await buildApp();
    expect(expectRefused(await app.inject('/things/a%00b'))).toMatchObject({
      code: 'INPUT_UNSAFE',
      detail: 'path.id contains a NUL character (U+0000)',
    });
    expect(expectRefused(await app.inject('/things/a?q=%00')).detail).toBe(
      'query.q contains a NUL character (U+0000)',
    );
    const surrogate = await app.inject({
      method: 'POST',
      url: '/things',
      headers: { 'content-type': 'application/json' },
      payload: '{"name":"a\\ud800","size":1}',
    });
    expect(expectRefused(surrogate).detail).toBe('body.name contains a lone UTF-16 surrogate');
    const inKey = await app.inject({
      method: 'POST',
      url: '/things',
      headers: { 'content-type': 'application/json' },
      payload: '{"name":"a","size":1,"x\\u0000":1}',
    });
    expect(expectRefused(inKey).detail).toBe('a field name in body contains a NUL character (U+0000)');
    // A well-formed pair is fine.
    const pair = await app.inject({
      method: 'POST',
      url: '/things',
      payload: { name: 'a\ud83d\ude00', size: 1 },
    });
    expect(pair.json()).toEqual({ created: 'a😀', size: 1 });
  });

  it('refuses invalid UTF-8 in JSON bodies, paths and queries', async () => {
    const { app } = await buildApp();
    const body = await app.inject({
      method: 'POST',
      url: '/things',
      headers: { 'content-type': 'application/json' },
      payload: Buffer.concat([
        Buffer.from('{"name":"'),
        Buffer.from([0xff, 0xfe]),
        Buffer.from('","size":1}'),
      ]),
    });
    expect(expectRefused(body).detail).toBe('the JSON body is not valid UTF-8');
    expect(expectRefused(await app.inject('/things/a?q=%e2%82')).detail).toBe(
      'the query string is not valid percent-encoded UTF-8 near "q=%e2%82"',
    );
    expect(expectRefused(await app.inject('/things/a?q=%zz')).code).toBe('INPUT_UNSAFE');
    expect(expectRefused(await app.inject('/things/%ff'))).toMatchObject({
      code: 'FST_ERR_BAD_URL',
      detail: 'the path is not valid percent-encoded UTF-8',
      instance: '/things/%ff',
    });
    expect(expectRefused(await app.inject('/things/%ed%a0%80')).code).toBe('FST_ERR_BAD_URL');
    const long = await app.inject(`/things/${'a'.repeat(600)}`);
    expect(long.statusCode).toBe(414);
    expect(long.headers['content-type']).toMatch(/^application\/problem\+json/);
  });

  it('refuses integers beyond 2^53, non-finite numbers and hostile nesting', async () => {
    const { app } = await buildApp();
    const post = (payload: string) =>
      app.inject({
        method: 'POST',
        url: '/things',
        headers: { 'content-type': 'application/json' },
        payload,
      });
    expect(expectRefused(await post('{"name":"a","size":12345678901234567890123456}')).detail).toBe(
      'body.size is an integer out of range',
    );
    expect(expectRefused(await post('{"name":"a","size":1e400}')).detail).toBe(
      'body.size is not a finite number',
    );
    expect(
      expectRefused(await post(`{"name":"a","size":1,"deep":${'['.repeat(5000)}${']'.repeat(5000)}}`)).detail,
    ).toMatch(/^body\.deep(\[0\])+ nests deeper than 64 levels$/);
    expect((await post('{"name":"a","size":9007199254740991}')).json()).toEqual({
      created: 'a',
      size: 9007199254740991,
    });
  });

  it('leaves the body to routes that read the raw request themselves', async () => {
    const { app } = await buildApp();
    const payload = JSON.stringify({ text: 'é'.repeat(100_000) });
    const response = await app.inject({
      method: 'PUT',
      url: '/raw',
      headers: { 'content-type': 'application/json' },
      payload,
    });
    expect(response.json()).toEqual({ bytes: Buffer.byteLength(payload) });
  });

  it('accepts a multi-byte character split across chunks of a streamed JSON body', async () => {
    const { app } = await buildApp();
    await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const port = (app.server.address() as { port: number }).port;
      const bytes = Buffer.from(JSON.stringify({ name: 'aé😀', size: 1 }));
      const split = bytes.indexOf(0xf0) + 2; // inside the four bytes of 😀
      const body = new ReadableStream<Uint8Array>({
        async start(controller) {
          controller.enqueue(bytes.subarray(0, split));
          await new Promise((resolve) => setImmediate(resolve));
          controller.enqueue(bytes.subarray(split));
          controller.close();
        },
      });
      const response = await fetch(`http://127.0.0.1:${port}/things`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        duplex: 'half',
      } as RequestInit);
      expect(await response.json()).toEqual({ created: 'aé😀', size: 1 });
    } finally {
      await app.close();
    }
  });

  it('answers a client fault that a library wrapped in its own error as that client fault', async () => {
    const { app } = await buildApp();
    expect(expectRefused(await app.inject('/wrapped-client-fault'))).toMatchObject({
      code: 'INPUT_UNSAFE',
      detail: 'the JSON body is not valid UTF-8',
    });
  });

  it('answers a value the database refuses as 400, not 500', async () => {
    const { app } = await buildApp();
    const response = expectRefused(await app.inject('/data-exception'));
    expect(response).toMatchObject({ code: 'INPUT_OUT_OF_RANGE' });
    expect(response.detail).not.toContain('bigint');
  });

  it('closes a connection whose body stops arriving, and keeps one whose body progresses', async () => {
    const { app } = await buildApp({ idleTimeoutMs: 400 });
    await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const port = (app.server.address() as { port: number }).port;
      const open = (lines: string) => {
        const socket = connect(port, '127.0.0.1');
        socket.write(lines);
        const closed = new Promise<{ ms: number; data: string }>((resolve) => {
          const started = Date.now();
          let data = '';
          socket.on('data', (chunk) => (data += chunk.toString()));
          socket.on('close', () => resolve({ ms: Date.now() - started, data }));
        });
        return { socket, closed };
      };
      const stalled = open(
        'POST /things HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 40\r\n\r\n{"name":',
      );
      const { ms, data } = await stalled.closed;
      expect(ms).toBeGreaterThanOrEqual(300);
      expect(ms).toBeLessThan(5_000);
      expect(data).toBe('');

      // 10 bytes, one every 150 ms: slower in total than the idle bound, never idle that long.
      const body = '{"name":"slow-body","size":7}';
      const slow = open(
        `POST /things HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`,
      );
      for (const piece of body.match(/.{1,3}/g) ?? []) {
        await new Promise((resolve) => setTimeout(resolve, 150));
        slow.socket.write(piece);
      }
      const answered = await slow.closed;
      expect(answered.data).toMatch(/^HTTP\/1\.1 200/);
      expect(answered.data).toContain('{"created":"slow-body","size":7}');
    } finally {
      await app.close();
    }
  });
});
