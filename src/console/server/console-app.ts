import type { FastifyReply, FastifyRequest } from 'fastify';
import Negotiator from 'negotiator';
import { createHttpApp, type HttpApp } from '../../platform/http/create-http-app.js';
import type { ServiceContext } from '../../platform/service-context.js';
import { registerApiProxy } from './api-proxy.js';
import {
  CALLBACK_PATH,
  CONSOLE_CLIENT_ID,
  type ConsoleClientConfig,
  type ConsoleConfig,
  DEFAULT_SCOPES,
  DEFAULT_STATIC_DIR,
  PROXIED_SERVICES,
  type ProxiedService,
} from './console-config.js';
import { securityHeaders } from './security-headers.js';
import { loadStaticFiles, type StaticFile } from './static-files.js';

const NOT_BUILT_PAGE = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>STUPS console</title></head>
<body><h1>The console is not built</h1><p>Run <code>npm run build:console</code> and restart the platform.</p></body></html>`;

/** The console's server: the built SPA, its `/config.json`, and the same-origin API proxy. */
export async function createConsoleApp(ctx: ServiceContext, config: ConsoleConfig = {}): Promise<HttpApp> {
  const app = await createHttpApp({
    title: 'STUPS console',
    description: 'The developer console (YOUR TURN) and its same-origin API proxy',
    logger: ctx.logger.child({ service: 'console' }),
    metrics: ctx.metrics,
    tls: ctx.tls,
    idleTimeoutMs: ctx.idleTimeoutMs,
    shutdownGraceMs: ctx.shutdownGraceMs,
  });
  // The AWS sign-in buttons post to the token service (its browser SSO to AWS).
  const SECURITY_HEADERS = securityHeaders([new URL(ctx.urls['token-service']).origin]);
  const files = await loadStaticFiles(config.staticDir ?? DEFAULT_STATIC_DIR);
  if (!files) ctx.logger.warn('console: the web app is not built (npm run build:console)');

  const clientConfig: ConsoleClientConfig = {
    clientId: CONSOLE_CLIENT_ID,
    tokenServiceUrl: ctx.urls['token-service'],
    redirectPath: CALLBACK_PATH,
    scopes: config.scopes ?? DEFAULT_SCOPES,
    services: Object.fromEntries(PROXIED_SERVICES.map((s) => [s, `/api/${s}`])) as Record<
      ProxiedService,
      string
    >,
    serviceUrls: Object.fromEntries(PROXIED_SERVICES.map((s) => [s, ctx.urls[s]])) as Record<
      ProxiedService,
      string
    >,
  };

  app.get('/config.json', { schema: { hide: true } }, async (_request, reply) => {
    reply.header('cache-control', 'no-cache');
    return clientConfig;
  });

  await registerApiProxy(app, ctx);

  const send = (request: FastifyRequest, reply: FastifyReply, file: StaticFile) => {
    reply
      .headers(SECURITY_HEADERS)
      .header('cache-control', file.immutable ? 'public, max-age=31536000, immutable' : 'no-cache')
      .type(file.contentType);
    if (!file.compressed) return reply.send(file.body);
    // Caches must keep one copy per encoding; brotli is smaller, gzip what every client takes.
    reply.header('vary', 'Accept-Encoding');
    const encoding = new Negotiator(request.raw).encoding(['br', 'gzip', 'identity'], {
      preferred: ['br', 'gzip', 'identity'],
    });
    if (encoding === 'br' || encoding === 'gzip') {
      return reply.header('content-encoding', encoding).send(file.compressed[encoding]);
    }
    return reply.send(file.body);
  };

  // Every other GET is either a built file or a deep link into the app, answered with index.html.
  app.get('/*', { schema: { hide: true } }, async (request, reply) => {
    const path = decodeURIComponent(request.url.split('?')[0]!);
    if (!files) {
      return reply
        .status(503)
        .headers(SECURITY_HEADERS)
        .type('text/html; charset=utf-8')
        .send(NOT_BUILT_PAGE);
    }
    const file = files.get(path);
    if (file) return send(request, reply, file);
    // A missing hashed asset or API path is a real 404: an HTML page there would hide the mistake.
    if (path.startsWith('/assets/') || path.startsWith('/api/') || /\.[a-z0-9]{1,5}$/i.test(path)) {
      return reply.callNotFound();
    }
    return send(request, reply, files.get('/index.html')!);
  });

  return app;
}
