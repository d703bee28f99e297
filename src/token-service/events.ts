/**
 * The token service's audit vocabulary. Every event that records a stored change is written in
 * the transaction of that change; refusals and failures (`outcome: 'failure'`) are written on
 * their own and keep the real reason in `details.reason`, never a secret, password or token.
 */
export const TOKEN_SERVICE_EVENTS = [
  /** An access token was issued (with its refresh token, when one was stored), or refused. */
  'token-service.token.issue',
  /** An access token or refresh token family was revoked by the client it was issued to. */
  'token-service.token.revoke',
  /** A refresh token family was withdrawn because a code or refresh token was used twice. */
  'token-service.token_family.revoke',
  /** An authorization code was issued after an employee logged in and consented. */
  'token-service.authorization_code.issue',
  /** An authorization code was spent without issuing tokens (a wrong PKCE verifier). */
  'token-service.authorization_code.spend',
  /** A device asked for a device code and a user code (RFC 8628). */
  'token-service.device_code.issue',
  'token-service.device_code.approve',
  'token-service.device_code.deny',
  /** An employee signed in with the password at the authorization endpoint: a sign-in session began. */
  'token-service.session.start',
  /** A sign-in session ended: signed out at the end-session endpoint (or refused there). */
  'token-service.session.end',
  /** A wrong or throttled password on the login pages (no change; recorded on its own). */
  'token-service.login.fail',
  /** A web-identity token for AWS STS was issued for one role (details: account, role), or refused. */
  'token-service.aws.web_identity_token',
  /** A SAML assertion for AWS was issued for one role (details: account, role, reason, assertion id), or refused. */
  'token-service.aws.saml_assertion',
  /** An employee asked for a role that needs a second approver (details: account, role, team, reason), or was refused. */
  'token-service.aws_access_request.create',
  /** Another person approved an access request (details: requester, account, role, valid_until), or was refused. */
  'token-service.aws_access_request.approve',
  'token-service.aws_access_request.reject',
  'token-service.client.create',
  'token-service.client.update',
  /** A confidential client got a new generated secret (never recorded). */
  'token-service.client.rotate',
  /** The previous secret of an overlapping rotation is retired (at once or at a given time). */
  'token-service.client.retire_previous',
  'token-service.client.disable',
  'token-service.client.delete',
  'token-service.service_user.create',
  'token-service.service_user.update',
  /** A service user got a new generated password (never recorded). */
  'token-service.service_user.rotate',
  /** The previous password of an overlapping rotation is retired (at once or at a given time). */
  'token-service.service_user.retire_previous',
  'token-service.service_user.disable',
  'token-service.service_user.delete',
  'token-service.signing_key.create',
  /** Retired keys whose every token has expired were deleted by the maintenance job (`details.ids`: kids). */
  'token-service.signing_key.delete',
  /**
   * The maintenance job deleted expired rows: one event per run and kind, with the exact `count`
   * and the first ids (`purgeDetails`). Codes are named by `client/uid` (their own key is a code
   * hash), refresh tokens by family, revocations by the revoked token's `jti`.
   */
  'token-service.authorization_code.purge',
  'token-service.device_code.purge',
  'token-service.refresh_token.purge',
  'token-service.revocation.purge',
  /** Expired or idle sign-in sessions, named by user. */
  'token-service.session.purge',
] as const;
export type TokenServiceEvent = (typeof TOKEN_SERVICE_EVENTS)[number];
