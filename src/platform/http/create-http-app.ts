import { randomUUID } from 'node:crypto';
import swagger from '@fastify/swagger';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
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
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import { connectionDrain, DEFAULT_SHUTDOWN_GRACE_MS } from './connection-drain.js';
import {
  assertDecodableQuery,
  assertSafeInput,
  mediaTypeOf,
  storableText,
  UnsafeInputError,
  utf8Checked,
} from './input-guard.js';
import { PROBLEM_CONTENT_TYPE, problemOf, toProblem } from './problem.js';
import { parseQueryString } from './query-string.js';

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
  /** Serve HTTPS with this PEM certificate and key. */
  tls?: { cert: string; key: string } | undefined;
  /**
   * Milliseconds a connection may go without receiving or sending a byte before it is closed
   * (default `DEFAULT_IDLE_TIMEOUT_MS`). This bounds a request whose body never completes.
   */
  idleTimeoutMs?: number | undefined;
  /**
   * Milliseconds requests in flight get to finish when the app closes, before their connections
   * are cut (default `DEFAULT_SHUTDOWN_GRACE_MS`). Idle connections are closed at once.
   */
  shutdownGraceMs?: number | undefined;
  /**
   * Protocols under a path prefix with an error shape of their own (Pier One's `/v2`): a URL
   * refused before routing (malformed percent-encoding, an overlong segment) under `prefix` is
   * answered by `answer` instead of problem+json. `rawPath` is the path as sent, undecoded.
   */
  urlErrors?: ReadonlyArray<UrlErrorShape> | undefined;
}

/** How a protocol answers a URL refused before routing, see `HttpAppOptions.urlErrors`. */
export interface UrlErrorShape {
  prefix: string;
  answer(
    rawPath: string,
    status: 400 | 414,
  ): { status: number; body: unknown; contentType: string; headers?: Record<string, string> };
}

/**
 * A connection on which nothing moved for 90 s is closed. An idle bound, not a total one: a
 * total bound on receiving the request (Node's `requestTimeout`) would also cut a slow but
 * progressing multi-gigabyte Pier One upload, while a stalled body (a client that sent headers
 * and half a body, then nothing) is exactly a connection on which nothing moves. 90 s is far
 * above the pauses of a working client and far below "forever"; it is longer than Fastify's
 * keep-alive timeout (72 s), which must itself outlast a load balancer's idle timeout (AWS: 60 s)
 * so that the balancer never reuses a connection the server is closing. The trade-off: a client
 * trickling one byte every 89 s keeps its connection, which costs one socket and no buffered
 * memory (bodies are limited by `bodyLimit` or streamed).
 */
export const DEFAULT_IDLE_TIMEOUT_MS = 90_000;

/** The one answer of a failing `/health`, whatever failed; the reason is in the log. */
export const HEALTH_DOWN = { status: 'DOWN', detail: 'a dependency of this service is unavailable' } as const;

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
    connectionTimeout: options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS,
    // Malformed percent-encoding in the path and overlong path parameters are refused before
    // routing; without this they get Fastify's own `{error, statusCode}` shape.
    frameworkErrors: (error, request, reply) => {
      const rawPath = (request.raw.url ?? '/').split('?')[0] ?? '/';
      const status: 400 | 414 = error.statusCode === 414 ? 414 : 400;
      const shape = options.urlErrors?.find(
        (s) => rawPath === s.prefix || rawPath.startsWith(`${s.prefix}/`),
      );
      if (shape) {
        const answer = shape.answer(rawPath, status);
        (reply as FastifyReply)
          .status(answer.status)
          .headers(answer.headers ?? {})
          .header('x-request-id', request.id)
          .type(answer.contentType)
          .send(answer.body);
        return;
      }
      const path = storableText(safePath(request.raw.url ?? '/'));
      const detail =
        status === 414 ? 'a path parameter is too long' : 'the path is not valid percent-encoded UTF-8';
      // The option's reply type is generic over a schema it never has; a plain reply it is.
      (reply as FastifyReply)
        .status(status)
        .header('x-request-id', request.id)
        .type(PROBLEM_CONTENT_TYPE)
        .send(problemOf(status, error.code, detail, path));
    },
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && /^[\w.-]{1,64}$/.test(given) ? given : randomUUID();
    },
    // Our onResponse hook logs requests once, with secrets stripped from the URL.
    logController: new LogController({ disableRequestLogging: true }),
    ajv: { customOptions: { removeAdditional: false } },
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 500, querystringParser: parseQueryString },
  }).withTypeProvider<ZodTypeProvider>() as unknown as HttpApp;

  const drain = connectionDrain(app.server, {
    tls: options.tls !== undefined,
    graceMs: options.shutdownGraceMs ?? DEFAULT_SHUTDOWN_GRACE_MS,
  });
  app.addHook('preClose', async () => drain.beginDrain());
  // The per-request hooks below take Fastify's `done` callback instead of being async: each async
  // hook costs a promise and a microtask turn on every request of every service (issue 23).
  app.addHook('onSend', (_request, reply, payload, done) => {
    // The connection is destroyed once this answer is out; the client must not reuse it.
    if (drain.draining) reply.header('connection', 'close');
    done(null, payload);
  });

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

  // The edge guard: text that PostgreSQL cannot store (NUL, lone surrogates), undecodable
  // percent-encoding and integers beyond 2^53 are refused here, once for every route of every
  // service, before authentication and before any handler could write half of a change.
  // Errors thrown here reach the error handler of the route's own scope, so OAuth and OCI
  // routes answer in their protocol's shape.
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    try {
      const queryAt = request.url.indexOf('?');
      if (queryAt >= 0) assertDecodableQuery(request.url.slice(queryAt + 1));
      assertSafeInput(request.params, 'path');
      assertSafeInput(request.query, 'query');
    } catch (error) {
      done(error as Error);
      return;
    }
    done();
  });
  app.addHook('preValidation', (request, _reply, done) => {
    try {
      if (typeof request.body === 'object' || typeof request.body === 'string') {
        if (!Buffer.isBuffer(request.body)) assertSafeInput(request.body, 'body');
      }
    } catch (error) {
      done(error as Error);
      return;
    }
    done();
  });

  // JSON bodies are checked as bytes, as they stream in: decoding first would turn invalid
  // UTF-8 into U+FFFD and store text the client never sent. A hook rather than a parser of our
  // own, because plugins (the console's proxy) add their own JSON parser in their scope, which
  // Fastify allows only while the built-in one is in place.
  app.addHook('preParsing', (request, _reply, payload, done) => {
    if (mediaTypeOf(request.headers['content-type']) !== 'application/json') done(null, payload);
    else
      done(
        null,
        utf8Checked(payload, () => new UnsafeInputError('the JSON body is not valid UTF-8')),
      );
  });

  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    options.metrics.httpDuration.observe(
      options.title,
      request.method,
      route,
      reply.statusCode,
      reply.elapsedTime / 1000,
    );
    if (reply.statusCode >= 500) {
      request.log.error({ req: request, status: reply.statusCode }, 'request failed');
    } else {
      request.log.debug({ req: request, status: reply.statusCode, ms: reply.elapsedTime }, 'request');
    }
    done();
  });

  app.setErrorHandler((error, request, reply) => {
    const { status, problem, headers } = toProblem(error, request.url.split('?')[0]);
    if (status >= 500) request.log.error({ err: error, req: request }, 'unhandled error');
    else if (problem.code === 'INPUT_OUT_OF_RANGE') {
      // Visible, because it means a contract lets through what the database refuses.
      request.log.warn({ err: error, req: request }, 'database refused a value of the request');
    }
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

  app.get('/health', { schema: { hide: true } }, async (request, reply) => {
    try {
      await options.healthCheck?.();
      return { status: 'UP' };
    } catch (error) {
      // /health answers anyone (load balancers, strangers): a database error names hosts,
      // schemas and users. The cause goes to the log; the answer is the same for every failure.
      request.log.error({ err: error }, 'health check failed');
      reply.status(503);
      return HEALTH_DOWN;
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

/** The path of a raw URL, for problem details; the query may hold secrets. */
function safePath(url: string): string {
  const path = url.split('?')[0] ?? '/';
  return path.length > 200 ? `${path.slice(0, 200)}…` : path;
}
