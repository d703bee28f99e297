import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createHttpApp } from './http/create-http-app.js';
import { createLogger, redactUrl } from './logger.js';
import { createMetrics } from './metrics.js';

describe('logging', () => {
  it('removes secret query parameters from URLs, keeping their names', () => {
    expect(redactUrl('/oauth2/tokeninfo?access_token=abc.def&x=1')).toBe(
      '/oauth2/tokeninfo?access_token=%5Bredacted%5D&x=1',
    );
    expect(redactUrl('/token?client_secret=s&password=p&code=c&refresh_token=r')).not.toMatch(
      /=s|=p|=c\b|=r\b/,
    );
    expect(redactUrl('/apps/kio')).toBe('/apps/kio');
  });

  it('never writes tokens, passwords or secrets of real requests to the log', async () => {
    const sink = new PassThrough();
    let written = '';
    sink.on('data', (c: Buffer) => (written += c.toString()));
    const logger = createLogger({ level: 'trace', destination: sink });
    const app = await createHttpApp({
      title: 'Log test',
      logger,
      metrics: createMetrics({ defaultMetrics: false }),
    });
    app.post('/login', { schema: { body: z.object({ password: z.string() }) } }, async (request) => {
      request.log.info({ body: request.body }, 'login attempt');
      throw new Error('boom');
    });
    await app.inject({
      method: 'POST',
      url: '/login?access_token=SECRET-QUERY-TOKEN',
      headers: { authorization: 'Bearer SECRET-HEADER-TOKEN', cookie: 'session=SECRET-COOKIE' },
      payload: { password: 'SECRET-PASSWORD' },
    });
    await app.close();
    expect(written).toContain('unhandled error');
    expect(written).toContain('login attempt');
    expect(written).not.toMatch(/SECRET-(QUERY-TOKEN|HEADER-TOKEN|COOKIE|PASSWORD)/);
  });
});
