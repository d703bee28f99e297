import { rootCertificates } from 'node:tls';
import httpProxy from '@fastify/http-proxy';
import type { HttpApp } from '../../platform/http/create-http-app.js';
import type { ServiceContext } from '../../platform/service-context.js';
import { PROXIED_SERVICES } from './console-config.js';

/** Request headers that belong to the console's origin and must not travel to a service. */
const DROPPED_HEADERS = ['cookie', 'origin', 'referer'];

/**
 * `/api/<service>/*` → `<service url>/*`. The services have no CORS; the browser only ever
 * talks to the console's origin. The Authorization header is passed through untouched and
 * never logged (the kernel's logger redacts it; the proxy's own request logging is off).
 */
export async function registerApiProxy(app: HttpApp, ctx: ServiceContext): Promise<void> {
  for (const service of PROXIED_SERVICES) {
    const upstream = ctx.urls[service];
    await app.register(httpProxy, {
      upstream,
      prefix: `/api/${service}`,
      rewritePrefix: new URL(upstream).pathname.replace(/\/$/, ''),
      // Bodies pass through as bytes: form posts to the token endpoint, JSON to Kio.
      disableRequestLogging: true,
      replyOptions: {
        rewriteRequestHeaders: (_request, headers) => {
          const forwarded = { ...headers };
          for (const name of DROPPED_HEADERS) delete forwarded[name];
          return forwarded;
        },
      },
      // reply-from turns certificate checks off unless told otherwise: turn them on, and trust
      // the platform's own (possibly self-signed) certificate besides the usual roots.
      undici: {
        connect: {
          rejectUnauthorized: true,
          ...(ctx.tls ? { ca: [...rootCertificates, ctx.tls.cert] } : {}),
        },
      },
    });
  }
}
