import { randomUUID } from 'node:crypto';
import swagger from '@fastify/swagger';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  LogController,
  type RawReplyDefaultExpression,
  type RawRequestDefaultExpression,
  type RawServerDefault,
} from 'fastify';
import {
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import type { AuditLog } from '../audit/audit-log.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import { PROBLEM_CONTENT_TYPE, toProblem } from './problem.js';

export type HttpApp = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  ZodTypeProvider
>;

export interface HttpAppOptions {
  /** Shown in the OpenAPI document and used as the `service` metrics label. */
  title: string;
  version?: string;
  description?: string;
  logger: Logger;
  metrics: Metrics;
  /** Maximum request body in bytes (default 1 MiB). Streaming routes set their own. */
  bodyLimit?: number;
  /** Extra readiness check for `/health`, e.g. a database ping. */
  healthCheck?: () => Promise<void>;
  /**
   * Records every mutating call (POST, PUT, PATCH, DELETE) to a matched route: who, which
   * route and target, when, and the resulting status. Handlers add facts with `auditDetails`.
   */
  audit?: { log: AuditLog; service: string };
  /** Serve HTTPS with this PEM certificate and key. */
  tls?: { cert: string; key: string } | undefined;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Facts a handler wants in this call's audit event; never secrets. */
    auditDetails?: Record<string, unknown>;
  }
}

const MUTATING_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Builds the Fastify app every service starts from: Zod validation, OpenAPI from the
 * schemas, one error mapping to problem+json, `/health`, `/metrics`, request ids.
 * It does not listen: tests inject requests, `main` decides ports.
 */
export async function createHttpApp(options: HttpAppOptions): Promise<HttpApp> {
  const app = Fastify({
    ...(options.tls ? { https: { cert: options.tls.cert, key: options.tls.key } } : {}),
    loggerInstance: options.logger,
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && /^[\w.-]{1,64}$/.test(given) ? given : randomUUID();
    },
    // Our onResponse hook logs requests once, with secrets stripped from the URL.
    logController: new LogController({ disableRequestLogging: true }),
    ajv: { customOptions: { removeAdditional: false } },
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 500 },
  }).withTypeProvider<ZodTypeProvider>() as unknown as HttpApp;

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  // Awaited so that its onRoute hook sees every route the caller adds afterwards.
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: options.title, version: options.version ?? '1.0.0', description: options.description },
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      },
    },
    transform: jsonSchemaTransform,
  });

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });

  // Audited before the answer leaves: a client that saw success can rely on the event being
  // stored, even if the process dies a moment later.
  const audit = options.audit;
  if (audit) {
    app.addHook('onSend', async (request, reply, payload) => {
      if (MUTATING_METHODS.has(request.method) && request.routeOptions.url) {
        const route = request.routeOptions.url;
        const params = (request.params ?? {}) as Record<string, string>;
        await audit.log.record({
          service: audit.service,
          action: `${request.method} ${route}`,
          actor: request.principal ?? { uid: 'anonymous' },
          target: { type: route, id: Object.values(params).join('/') },
          outcome: reply.statusCode < 400 ? 'success' : 'failure',
          details: { status: reply.statusCode, ...request.auditDetails },
          requestId: request.id,
        });
      }
      return payload;
    });
  }

  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    options.metrics.httpDuration.observe(
      { service: options.title, method: request.method, route, status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
    if (reply.statusCode >= 500) {
      request.log.error({ req: request, status: reply.statusCode }, 'request failed');
    } else {
      request.log.debug({ req: request, status: reply.statusCode, ms: reply.elapsedTime }, 'request');
    }
  });

  app.setErrorHandler((error, request, reply) => {
    const { status, problem, headers } = toProblem(error, request.url.split('?')[0]);
    if (status >= 500) request.log.error({ err: error, req: request }, 'unhandled error');
    reply.status(status).headers(headers).type(PROBLEM_CONTENT_TYPE).send(problem);
  });

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0];
    reply
      .status(404)
      .type(PROBLEM_CONTENT_TYPE)
      .send({
        type: 'about:blank',
        title: 'Not Found',
        status: 404,
        detail: `no route for ${request.method} ${path}`,
        message: `no route for ${request.method} ${path}`,
        code: 'ROUTE_NOT_FOUND',
        instance: path,
      });
  });

  app.get('/health', { schema: { hide: true } }, async (_request, reply) => {
    try {
      await options.healthCheck?.();
      return { status: 'UP' };
    } catch (error) {
      reply.status(503);
      return { status: 'DOWN', detail: error instanceof Error ? error.message : String(error) };
    }
  });

  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    reply.type(options.metrics.registry.contentType);
    return options.metrics.registry.metrics();
  });

  const openapi = async () => app.swagger();
  app.get('/openapi.json', { schema: { hide: true } }, openapi);
  app.get('/swagger.json', { schema: { hide: true } }, openapi);

  return app;
}
