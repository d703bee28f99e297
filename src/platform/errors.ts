/**
 * One error model for every component. Domain code throws these; exactly one function
 * (`http/problem.ts`) maps them to HTTP, and the CLIs map them to one-line messages.
 * `code` is stable and meant for machines; `message` is for people.
 */
export class StupsError extends Error {
  readonly code: string;
  /** Extra machine-readable facts, e.g. the list of validation problems. */
  readonly details: Record<string, unknown> | undefined;

  constructor(
    code: string,
    message: string,
    options?: { cause?: unknown; details?: Record<string, unknown> },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.details = options?.details;
  }
}

/** The request was malformed or violates a rule of the domain (400). */
export class InputError extends StupsError {
  constructor(
    message: string,
    options?: { code?: string; cause?: unknown; details?: Record<string, unknown> },
  ) {
    super(options?.code ?? 'INPUT_INVALID', message, options);
  }
}

/** No valid credentials were presented (401). */
export class NotAuthenticatedError extends StupsError {
  /** RFC 6750 error code for the `WWW-Authenticate` header. */
  readonly bearerError: 'invalid_request' | 'invalid_token' | undefined;
  constructor(
    message: string,
    options?: { code?: string; bearerError?: 'invalid_request' | 'invalid_token'; cause?: unknown },
  ) {
    super(options?.code ?? 'NOT_AUTHENTICATED', message, options);
    this.bearerError = options?.bearerError;
  }
}

/** Credentials are valid but do not allow this action (403). */
export class NotAllowedError extends StupsError {
  /** Scopes that would have allowed the action, for RFC 6750 `insufficient_scope`. */
  readonly requiredScopes: readonly string[] | undefined;
  constructor(
    message: string,
    options?: { code?: string; requiredScopes?: readonly string[]; cause?: unknown },
  ) {
    super(options?.code ?? 'NOT_ALLOWED', message, options);
    this.requiredScopes = options?.requiredScopes;
  }
}

/** The addressed thing does not exist (404). */
export class NotFoundError extends StupsError {
  constructor(message: string, options?: { code?: string; cause?: unknown }) {
    super(options?.code ?? 'NOT_FOUND', message, options);
  }
}

/** The request conflicts with the current state, e.g. an existing id or an immutable tag (409). */
export class ConflictError extends StupsError {
  constructor(
    message: string,
    options?: { code?: string; cause?: unknown; details?: Record<string, unknown> },
  ) {
    super(options?.code ?? 'CONFLICT', message, options);
  }
}

/** The method is not supported on this resource by design (405), e.g. deleting an immutable image. */
export class MethodNotAllowedError extends StupsError {
  constructor(message: string, options?: { code?: string }) {
    super(options?.code ?? 'METHOD_NOT_ALLOWED', message);
  }
}

/** A precondition of the request does not hold (412), e.g. an ambiguous digest prefix. */
export class PreconditionFailedError extends StupsError {
  constructor(message: string, options?: { code?: string }) {
    super(options?.code ?? 'PRECONDITION_FAILED', message);
  }
}

/** A feature that exists in the interface but cannot run in this configuration (501). Never pretends. */
export class NotImplementedError extends StupsError {
  constructor(message: string) {
    super('NOT_IMPLEMENTED', message);
  }
}

/**
 * A system this call depends on (AWS, another service) could not be read (502): not the caller's
 * fault and not a fault of this server's code; the message says which system and why.
 */
export class UpstreamUnavailableError extends StupsError {
  constructor(message: string, options?: { code?: string; cause?: unknown }) {
    super(options?.code ?? 'UPSTREAM_UNAVAILABLE', message, options);
  }
}

/** Configuration is invalid; `problems` lists every problem as `path: message`. */
export class ConfigError extends StupsError {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super('CONFIG_INVALID', `invalid configuration:\n  ${problems.join('\n  ')}`);
    this.problems = problems;
  }
}

/** HTTP status for a domain error; anything unknown is a server fault. */
export function statusOf(error: unknown): number {
  if (error instanceof InputError) return 400;
  if (error instanceof NotAuthenticatedError) return 401;
  if (error instanceof NotAllowedError) return 403;
  if (error instanceof NotFoundError) return 404;
  if (error instanceof MethodNotAllowedError) return 405;
  if (error instanceof ConflictError) return 409;
  if (error instanceof PreconditionFailedError) return 412;
  if (error instanceof NotImplementedError) return 501;
  if (error instanceof UpstreamUnavailableError) return 502;
  return 500;
}
