import { brotliCompressSync, brotliDecompressSync, constants as zlib, gunzipSync, gzipSync } from 'node:zlib';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditLog } from '../../platform/audit/audit-log.js';
import type { TokenVerifier } from '../../platform/auth/token-verifier.js';
import type { Database } from '../../platform/db/database.js';
import type { HttpApp } from '../../platform/http/create-http-app.js';
import { createLogger } from '../../platform/logger.js';
import { createMetrics } from '../../platform/metrics.js';
import { SERVICE_NAMES, type ServiceContext, type ServiceName } from '../../platform/service-context.js';
import { loadOrCreateCertificate } from '../../stups/tls.js';
import { createConsoleService } from '../index.js';
import { contentSecurityPolicy } from './security-headers.js';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** One loopback server standing in for every service: it answers what it was asked. */
async function startEchoUpstream(): Promise<{ url: string; seen: Seen[]; server: Server }> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => {
      body += chunk.toString();
    });
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      if (req.url === '/apps/missing') {
        res.writeHead(404, { 'content-type': 'application/problem+json' });
        res.end(JSON.stringify({ status: 404, detail: 'application missing does not exist' }));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json', 'x-upstream': 'yes' });
      res.end(JSON.stringify({ method: req.method, url: req.url }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, server };
}

function contextWith(urls: Partial<Record<ServiceName, string>>, logs: string[]): ServiceContext {
  const logger = createLogger({
    level: 'trace',
    destination: new Writable({
      write(chunk: Buffer, _encoding, done) {
        logs.push(chunk.toString());
        done();
      },
    }),
  });
  const defaults = Object.fromEntries(SERVICE_NAMES.map((n, i) => [n, `http://127.0.0.1:${9 + i}`]));
  // The console keeps no data and verifies no token itself: the services behind the proxy do.
  const unused = {} as Database;
  return {
    logger,
    metrics: createMetrics({ defaultMetrics: false }),
    database: unused,
    verifier: {} as TokenVerifier,
    auditLog: {} as AuditLog,
    adminPolicy: { adminUids: new Set(), adminScope: 'stups.admin' },
    urls: { ...defaults, ...urls } as Record<ServiceName, string>,
  };
}

const BIG_SCRIPT = Array.from(
  { length: 400 },
  (_, i) => `export const value${i} = "${'x'.repeat(i % 40)}";`,
).join('\n');

// Weaker than the server's own settings, so the bytes tell whose copy was sent.
const BUILT_BR = brotliCompressSync(BIG_SCRIPT, { params: { [zlib.BROTLI_PARAM_QUALITY]: 1 } });
const BUILT_GZ = gzipSync(BIG_SCRIPT, { level: 1 });

describe('console server', () => {
  let dir: string;
  let upstream: Awaited<ReturnType<typeof startEchoUpstream>>;
  let app: HttpApp;
  const logs: string[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'console-static-'));
    await mkdir(join(dir, 'assets'));
    await writeFile(
      join(dir, 'index.html'),
      '<!doctype html><title>STUPS console</title><div id="root"></div>',
    );
    await writeFile(join(dir, 'assets', 'index-AbC123.js'), 'console.log("app")');
    await writeFile(join(dir, 'assets', 'big-XyZ789.js'), BIG_SCRIPT);
    // A file the build compressed already (scripts/build.mjs writes .br and .gz beside it).
    await writeFile(join(dir, 'assets', 'built-Pq4.js'), BIG_SCRIPT);
    await writeFile(join(dir, 'assets', 'built-Pq4.js.br'), BUILT_BR);
    await writeFile(join(dir, 'assets', 'built-Pq4.js.gz'), BUILT_GZ);
    upstream = await startEchoUpstream();
    const ctx = contextWith(
      {
        console: 'http://localhost:4000',
        'token-service': upstream.url,
        kio: upstream.url,
        pierone: upstream.url,
      },
      logs,
    );
    app = await createConsoleService(ctx, { staticDir: dir }).createApp();
  });

  afterAll(async () => {
    await app?.close();
    await new Promise((resolve) => upstream?.server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  it('hands the app its settings at /config.json', async () => {
    const response = await app.inject({ url: '/config.json' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      clientId: 'console',
      tokenServiceUrl: upstream.url,
      redirectPath: '/auth/callback',
      scopes: ['uid', 'openid', 'profile', 'email', 'offline_access'],
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
      serviceUrls: expect.objectContaining({ kio: upstream.url, pierone: upstream.url }),
    });
  });

  it('answers deep links with the app, uncached and under a strict CSP', async () => {
    for (const url of [
      '/',
      '/applications/hello-world',
      '/resource-types/x/scopes/y?tab=1',
      '/auth/callback?code=c',
    ]) {
      const response = await app.inject({ url });
      expect(response.statusCode, url).toBe(200);
      expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(response.headers['cache-control']).toBe('no-cache');
      // Forms may post to the token service too: the AWS sign-in buttons.
      expect(response.headers['content-security-policy']).toBe(
        contentSecurityPolicy([new URL(upstream.url).origin]),
      );
      expect(response.headers['content-security-policy']).toContain(
        `form-action 'self' ${new URL(upstream.url).origin};`,
      );
      expect(response.body).toContain('<div id="root">');
    }
    expect(contentSecurityPolicy()).toContain("script-src 'self'");
    expect(contentSecurityPolicy()).not.toContain('unsafe');
  });

  it('caches hashed assets for a year and answers missing ones with 404, not the app', async () => {
    const asset = await app.inject({ url: '/assets/index-AbC123.js' });
    expect(asset.statusCode).toBe(200);
    expect(asset.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(asset.body).toBe('console.log("app")');

    const missing = await app.inject({ url: '/assets/index-gone.js' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ code: 'ROUTE_NOT_FOUND' });
    expect((await app.inject({ url: '/favicon.ico' })).statusCode).toBe(404);
    // Files are served from memory by exact path: a dot-dot path can only ever reach the app page.
    expect((await app.inject({ url: '/assets/../../../etc/passwd' })).body).not.toContain('root:');
    expect((await app.inject({ url: '/index.html' })).headers['cache-control']).toBe('no-cache');
  });

  it('serves text files brotli- or gzip-compressed to clients that accept it', async () => {
    const cases: Array<[string | undefined, string | undefined]> = [
      ['gzip, deflate, br, zstd', 'br'],
      ['gzip', 'gzip'],
      ['br;q=0.5, gzip', 'gzip'],
      ['identity', undefined],
      [undefined, undefined],
    ];
    for (const [accept, expected] of cases) {
      const response = await app.inject({
        url: '/assets/big-XyZ789.js',
        headers: accept === undefined ? {} : { 'accept-encoding': accept },
      });
      expect(response.statusCode, accept).toBe(200);
      expect(response.headers['content-encoding'], accept).toBe(expected);
      expect(response.headers.vary, accept).toBe('Accept-Encoding');
      const bytes = response.rawPayload;
      const decoded =
        expected === 'br' ? brotliDecompressSync(bytes) : expected === 'gzip' ? gunzipSync(bytes) : bytes;
      expect(decoded.toString(), accept).toBe(BIG_SCRIPT);
      if (expected) expect(bytes.length, accept).toBeLessThan(BIG_SCRIPT.length / 4);
    }
    // The build's compressed copies are sent as they are, and are no files of their own.
    const built = async (accept: string) =>
      (await app.inject({ url: '/assets/built-Pq4.js', headers: { 'accept-encoding': accept } })).rawPayload;
    expect((await built('br')).equals(BUILT_BR)).toBe(true);
    expect((await built('gzip')).equals(BUILT_GZ)).toBe(true);
    expect(brotliDecompressSync(await built('br')).toString()).toBe(BIG_SCRIPT);
    expect((await app.inject({ url: '/assets/built-Pq4.js.br' })).statusCode).toBe(404);
    // Too small to gain anything: sent as it is.
    const small = await app.inject({ url: '/assets/index-AbC123.js', headers: { 'accept-encoding': 'br' } });
    expect(small.headers['content-encoding']).toBeUndefined();
  });

  it('proxies /api/<service>/* to the service with the bearer token and without cookies', async () => {
    upstream.seen.length = 0;
    const response = await app.inject({
      url: '/api/kio/apps?search=hello%20world&limit=5',
      headers: { authorization: 'Bearer secret-token-123', cookie: 'a=b', accept: 'application/json' },
    });
    expect(response.statusCode).toBe(200);
    expect(response.headers['x-upstream']).toBe('yes');
    expect(response.json()).toEqual({ method: 'GET', url: '/apps?search=hello%20world&limit=5' });
    expect(upstream.seen).toHaveLength(1);
    expect(upstream.seen[0]!.headers.authorization).toBe('Bearer secret-token-123');
    expect(upstream.seen[0]!.headers.cookie).toBeUndefined();
  });

  it('passes bodies through untouched: forms to the token endpoint, JSON to Kio', async () => {
    upstream.seen.length = 0;
    const form = 'grant_type=authorization_code&code=abc&client_id=console&code_verifier=v';
    const token = await app.inject({
      method: 'POST',
      url: '/api/token-service/oauth2/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: form,
    });
    expect(token.statusCode).toBe(200);
    const put = await app.inject({
      method: 'PUT',
      url: '/api/kio/apps/hello',
      headers: { 'content-type': 'application/json', authorization: 'Bearer secret-token-123' },
      payload: { name: 'Hello', team_id: 'demo', active: true },
    });
    expect(put.statusCode).toBe(200);
    expect(upstream.seen.map((s) => [s.method, s.url, s.headers['content-type'], s.body])).toEqual([
      ['POST', '/oauth2/token', 'application/x-www-form-urlencoded', form],
      [
        'PUT',
        '/apps/hello',
        'application/json',
        JSON.stringify({ name: 'Hello', team_id: 'demo', active: true }),
      ],
    ]);
  });

  it("passes the service's errors back as they are", async () => {
    const response = await app.inject({ url: '/api/kio/apps/missing' });
    expect(response.statusCode).toBe(404);
    expect(response.headers['content-type']).toBe('application/problem+json');
    expect(response.json()).toEqual({ status: 404, detail: 'application missing does not exist' });
  });

  it('answers 503 when a service is down, and unknown API paths with 404', async () => {
    // essentials points at a closed port in this context.
    const down = await app.inject({ url: '/api/essentials/resource-types' });
    expect(down.statusCode).toBeGreaterThanOrEqual(500);
    expect((await app.inject({ url: '/api/nope/x' })).statusCode).toBe(404);
  });

  it('never logs the bearer token or the code verifier', () => {
    const all = logs.join('');
    expect(all.length).toBeGreaterThan(0);
    expect(all).not.toContain('secret-token-123');
    expect(all).not.toContain('code_verifier=v');
  });

  it('explains itself when the web app is not built', async () => {
    const notBuilt = await createConsoleService(contextWith({}, []), {
      staticDir: join(dir, 'does-not-exist'),
    }).createApp();
    try {
      const page = await notBuilt.inject({ url: '/applications' });
      expect(page.statusCode).toBe(503);
      expect(page.body).toContain('npm run build:console');
      expect((await notBuilt.inject({ url: '/config.json' })).statusCode).toBe(200);
    } finally {
      await notBuilt.close();
    }
  });
});

describe('console server on a self-signed HTTPS platform', () => {
  it('trusts the platform certificate when proxying, and nothing else', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'console-tls-'));
    const tls = await loadOrCreateCertificate({ dataDir: dir, hostNames: ['127.0.0.1'] });
    const upstream = createHttpsServer({ cert: tls.cert, key: tls.key }, (req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ url: req.url }));
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const url = `https://localhost:${(upstream.address() as AddressInfo).port}`;
    const trusting = await createConsoleService(
      { ...contextWith({ kio: url }, []), tls: { cert: tls.cert, key: tls.key } },
      { staticDir: dir },
    ).createApp();
    const plain = await createConsoleService(contextWith({ kio: url }, []), { staticDir: dir }).createApp();
    try {
      const ok = await trusting.inject({ url: '/api/kio/apps/hello' });
      expect(ok.statusCode).toBe(200);
      expect(ok.json()).toEqual({ url: '/apps/hello' });
      expect((await plain.inject({ url: '/api/kio/apps/hello' })).statusCode).toBeGreaterThanOrEqual(500);
    } finally {
      await trusting.close();
      await plain.close();
      await new Promise((resolve) => upstream.close(resolve));
      await rm(dir, { recursive: true, force: true });
    }
  });
});
