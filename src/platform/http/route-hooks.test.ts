import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { addRouteHook } from './route-hooks.js';

describe('addRouteHook', () => {
  it('runs the hook on the routes it selects only, before the hooks the route has itself, like a scope hook', async () => {
    const app = Fastify();
    const seen: string[] = [];
    addRouteHook(
      app,
      'onRequest',
      (route) => route.url === '/chosen',
      (request, _reply, done) => {
        seen.push(`hook ${request.method} ${request.url}`);
        done();
      },
    );
    addRouteHook(
      app,
      'onRequest',
      (route) => route.url === '/chosen' && route.method === 'GET',
      (_request, _reply, done) => {
        seen.push('second');
        done();
      },
    );
    app.addHook('onRequest', (_request, _reply, done) => {
      seen.push('scope');
      done();
    });
    app.get(
      '/chosen',
      {
        onRequest: (_request, _reply, done) => {
          seen.push('own');
          done();
        },
      },
      async () => 'chosen',
    );
    app.get('/other', async () => 'other');

    expect((await app.inject('/chosen')).body).toBe('chosen');
    expect((await app.inject('/other')).body).toBe('other');
    // HEAD of a GET route is a route of its own, selected by the same rule.
    expect((await app.inject({ method: 'HEAD', url: '/chosen' })).statusCode).toBe(200);
    expect(seen).toEqual([
      'scope',
      'hook GET /chosen',
      'second',
      'own',
      'scope',
      'scope',
      'hook HEAD /chosen',
      'own',
    ]);
    await app.close();
  });

  it('passes an error of the hook on like a hook of the scope', async () => {
    const app = Fastify();
    addRouteHook(
      app,
      'preHandler',
      (route) => route.method !== 'GET',
      (_request, _reply, done) => done(new Error('refused')),
    );
    app.get('/read', async () => 'read');
    app.post('/write', async () => 'written');
    expect((await app.inject('/read')).statusCode).toBe(200);
    const refused = await app.inject({ method: 'POST', url: '/write' });
    expect(refused.statusCode).toBe(500);
    expect(refused.json()).toMatchObject({ message: 'refused' });
    await app.close();
  });
});
