import { ConfigError, NotAllowedError, NotAuthenticatedError, StupsError, statusOf } from '../errors.js';

/**
 * RFC 9457 problem details. `message` repeats `detail` because STUPS clients read
 * `{message, details}` from error bodies.
 */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  message: string;
  code: string;
  instance?: string;
  errors?: unknown;
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  409: 'Conflict',
  411: 'Length Required',
  412: 'Precondition Failed',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  416: 'Range Not Satisfiable',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  503: 'Service Unavailable',
};

export function titleOf(status: number): string {
  return TITLES[status] ?? (status >= 500 ? 'Server Error' : 'Client Error');
}

interface FastifyLikeError {
  statusCode?: number;
  code?: string;
  message: string;
  validation?: unknown;
  validationContext?: string;
}

/**
 * PostgreSQL's "data exception" class (SQLSTATE 22xxx: value out of range, invalid text
 * representation, character not in repertoire, …). The edge guard refuses such input before it
 * reaches the database; this is the net for whatever a contract still lets through, so that a
 * value the database cannot hold is the client's 400, not the server's 500.
 */
function isDataException(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return error instanceof Error && typeof code === 'string' && /^22[0-9A-Z]{3}$/.test(code);
}

function isFastifyLikeError(error: unknown): error is FastifyLikeError {
  return error instanceof Error && typeof (error as FastifyLikeError).statusCode === 'number';
}

/** Maps any thrown value to a status, a problem body and the headers it needs. */
export function toProblem(
  error: unknown,
  instance?: string,
): { status: number; problem: Problem; headers: Record<string, string> } {
  const wrapped = clientFaultInside(error);
  if (wrapped !== undefined) return toProblem(wrapped, instance);
  const headers: Record<string, string> = {};
  let status: number;
  let code: string;
  let detail: string;
  let errors: unknown;

  if (error instanceof StupsError && !(error instanceof ConfigError)) {
    status = statusOf(error);
    code = error.code;
    detail = error.message;
    errors = error.details?.errors;
    if (error instanceof NotAuthenticatedError) {
      headers['www-authenticate'] = bearerChallenge(error.bearerError, error.message);
    } else if (error instanceof NotAllowedError && error.requiredScopes?.length) {
      headers['www-authenticate'] = bearerChallenge(
        'insufficient_scope',
        error.message,
        error.requiredScopes,
      );
    }
  } else if (isFastifyLikeError(error) && error.statusCode! >= 400 && error.statusCode! < 500) {
    // Fastify's own client errors: invalid JSON, body too large, unsupported media type, validation.
    status = error.statusCode!;
    code = error.validation ? 'INPUT_INVALID' : (error.code ?? 'BAD_REQUEST');
    detail = error.message;
    errors = error.validation;
  } else if (isDataException(error)) {
    status = 400;
    code = 'INPUT_OUT_OF_RANGE';
    // The database's own message names internals (types, columns); this one does not.
    detail = 'a value of this request cannot be stored (out of range or not representable)';
  } else {
    status = 500;
    code = 'INTERNAL';
    detail = 'The server failed to handle this request. The failure was logged.';
  }
  return { status, problem: problemOf(status, code, detail, instance, errors), headers };
}

/**
 * A domain client error (4xx) that a library wrapped in a server error of its own, e.g. the
 * console's proxy failing because the edge guard refused the body it was streaming on. The
 * request was still the client's fault; answering 500 would blame the server.
 */
function clientFaultInside(error: unknown): StupsError | undefined {
  if (error instanceof StupsError) return undefined;
  let cause = error instanceof Error ? error.cause : undefined;
  for (let depth = 0; depth < 5 && cause instanceof Error; depth += 1, cause = cause.cause) {
    if (cause instanceof StupsError && statusOf(cause) < 500) return cause;
  }
  return undefined;
}

/** A problem body with `message` repeating `detail`. */
export function problemOf(
  status: number,
  code: string,
  detail: string,
  instance?: string,
  errors?: unknown,
): Problem {
  return {
    type: 'about:blank',
    title: titleOf(status),
    status,
    detail,
    message: detail,
    code,
    ...(instance ? { instance } : {}),
    ...(errors !== undefined ? { errors } : {}),
  };
}

function quote(value: string): string {
  return `"${value.replace(/["\\]/g, "'")}"`;
}

/** RFC 6750 section 3 challenge. */
export function bearerChallenge(error?: string, description?: string, scopes?: readonly string[]): string {
  const parts = ['Bearer realm="stups"'];
  if (error) parts.push(`error=${quote(error)}`);
  if (error && description) parts.push(`error_description=${quote(description)}`);
  if (scopes?.length) parts.push(`scope=${quote(scopes.join(' '))}`);
  return parts.join(', ');
}
