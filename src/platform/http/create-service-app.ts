import { sql } from 'kysely';
import type { ServiceContext } from '../service-context.js';
import { createHttpApp, type HttpApp, type UrlErrorShape } from './create-http-app.js';

export interface ServiceAppOptions {
  /** Short name for logs, e.g. `kio`. */
  service: string;
  /** OpenAPI title; clients may check it (Pier One's must contain "Pier One API"). */
  title: string;
  description?: string;
  /** Readiness beyond the database ping. */
  healthCheck?: () => Promise<void>;
  bodyLimit?: number;
  /** Idle bound of a connection in milliseconds, overriding the platform's `ctx.idleTimeoutMs`. */
  idleTimeoutMs?: number;
  /** Path prefixes answering malformed URLs in their protocol's shape (see `createHttpApp`). */
  urlErrors?: ReadonlyArray<UrlErrorShape>;
}

/**
 * The HTTP app of one platform service, with everything the context decides filled in:
 * a logger named after the service, the process metrics, TLS, the idle bound of connections, the
 * shutdown grace,
 * and a health check that pings the database.
 */
export function createServiceApp(ctx: ServiceContext, options: ServiceAppOptions): Promise<HttpApp> {
  return createHttpApp({
    title: options.title,
    description: options.description,
    logger: ctx.logger.child({ service: options.service }),
    metrics: ctx.metrics,
    tls: ctx.tls,
    bodyLimit: options.bodyLimit,
    idleTimeoutMs: options.idleTimeoutMs ?? ctx.idleTimeoutMs,
    shutdownGraceMs: ctx.shutdownGraceMs,
    urlErrors: options.urlErrors,
    healthCheck: async () => {
      await sql`select 1`.execute(ctx.database.kysely());
      await options.healthCheck?.();
    },
  });
}
