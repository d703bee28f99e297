/**
 * Error codes of RFC 6749 §5.2, RFC 8628 §3.5, RFC 6750 §3.1, RFC 7009 §2.2.1, RFC 8707 §2 and, for
 * the authorization endpoint, OIDC Core §3.1.2.6.
 */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'access_denied'
  | 'unsupported_response_type'
  | 'server_error'
  | 'authorization_pending'
  | 'slow_down'
  | 'expired_token'
  | 'invalid_token'
  | 'insufficient_scope'
  | 'unsupported_token_type'
  | 'login_required'
  | 'request_not_supported'
  | 'request_uri_not_supported'
  | 'invalid_target';

/**
 * A protocol error. Protocol endpoints answer it as `{error, error_description}` (not problem+json),
 * because OAuth clients parse exactly that shape.
 */
export class OAuthError extends Error {
  readonly error: OAuthErrorCode;
  readonly status: number;
  readonly headers: Record<string, string>;
  /** The real reason when the description is kept vague on purpose; for the audit trail only. */
  readonly detail: string | undefined;

  constructor(
    error: OAuthErrorCode,
    description: string,
    options?: { status?: number; headers?: Record<string, string>; detail?: string },
  ) {
    super(description);
    this.name = 'OAuthError';
    this.error = error;
    this.status = options?.status ?? defaultStatus(error);
    this.headers = options?.headers ?? {};
    this.detail = options?.detail;
  }

  toJSON(): { error: OAuthErrorCode; error_description: string } {
    return { error: this.error, error_description: this.message };
  }
}

function defaultStatus(error: OAuthErrorCode): number {
  if (error === 'invalid_client' || error === 'invalid_token') return 401;
  if (error === 'insufficient_scope') return 403;
  if (error === 'server_error') return 500;
  return 400;
}
