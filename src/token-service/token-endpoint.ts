import { createHash } from 'node:crypto';
import { parseRealm, type Realm } from '../platform/auth/principal.js';
import {
  DEVICE_CODE_GRANT,
  GRANT_TYPES,
  type GrantType,
  type OAuthClient,
  type TokenResponse,
} from './contract.js';
import type { Kysely } from 'kysely';
import type { AuditActor, AuditEntry } from '../platform/audit/create-audit.js';
import { SYSTEM_ACTOR } from './audit.js';
import type { TokenServiceCore } from './core.js';
import type { TokenServiceEvent } from './events.js';
import { OAuthError } from './oauth-error.js';
import { type ClientCredentials, type OAuthParams, required } from './params.js';
import { requestedAudience } from './resources.js';
import { allowedScopes, grantScopes, parseScope } from './scopes.js';
import { safeEqual } from './secrets.js';
import type { TokenServiceTables } from './tables.js';
import type { IssueRequest, Issued, Minted } from './token-minter.js';

export interface RequestMeta {
  /** The HTTP request id, carried by every audit event of the request. */
  requestId: string;
  /** The caller's address, for throttling guesses per source. */
  source: string;
}

/** Facts about a token request gathered while handling it, for the audit event. */
interface Attempt {
  grantType: string | undefined;
  clientId: string | undefined;
  realm: Realm | undefined;
  uid: string | undefined;
  /** The scopes asked for, kept in the event when narrowing granted fewer (`unallowedScopes`). */
  requestedScope?: string[] | undefined;
  requestId: string;
}

/**
 * The token endpoint (RFC 6749 §3.2): authenticates the client, runs the grant, and audits
 * the outcome either way. Throws `OAuthError` for every protocol failure.
 */
export async function handleTokenRequest(
  core: TokenServiceCore,
  params: OAuthParams,
  credentials: ClientCredentials | undefined,
  meta: RequestMeta,
): Promise<TokenResponse> {
  const attempt: Attempt = {
    grantType: params.grant_type,
    clientId: credentials?.clientId,
    realm: undefined,
    uid: undefined,
    requestId: meta.requestId,
  };
  try {
    const grantType = required(params, 'grant_type');
    if (!(GRANT_TYPES as readonly string[]).includes(grantType)) {
      throw new OAuthError('unsupported_grant_type', `grant type "${grantType}" is not supported`);
    }
    if (!credentials) {
      throw new OAuthError('invalid_client', 'client authentication is required (Basic or client_id)');
    }
    const client = await core.clients.authenticate(credentials, meta.source);
    attempt.clientId = client.clientId;
    if (!client.grantTypes.includes(grantType as GrantType)) {
      throw new OAuthError(
        'unauthorized_client',
        `client ${client.clientId} may not use the grant "${grantType}"`,
      );
    }
    // Each grant commits its tokens together with their `token.issue` event (see `commit`).
    const issued = await runGrant(core, grantType as GrantType, params, client, attempt, meta);
    return issued.response;
  } catch (error) {
    if (error instanceof OAuthError && !['authorization_pending', 'slow_down'].includes(error.error)) {
      // A refusal changes nothing, so it is recorded on its own; the real reason stays here.
      await core.audit.standalone({
        event: 'token-service.token.issue',
        actor: actorOf(attempt),
        outcome: 'failure',
        details: {
          client_id: attempt.clientId,
          grant_type: attempt.grantType,
          realm: attempt.realm,
          error: error.error,
          reason: error.detail ?? error.message,
        },
        requestId: attempt.requestId,
      });
    }
    throw error;
  }
}

function actorOf(attempt: Attempt): { uid: string; realm?: Realm } {
  return {
    uid: attempt.uid ?? attempt.clientId ?? 'anonymous',
    ...(attempt.realm ? { realm: attempt.realm } : {}),
  };
}

function issueEvent(attempt: Attempt, minted: Minted): AuditEntry<TokenServiceEvent> {
  return {
    event: 'token-service.token.issue',
    actor: actorOf(attempt),
    targetId: minted.jti,
    details: {
      client_id: attempt.clientId,
      grant_type: attempt.grantType,
      realm: attempt.realm,
      scope: minted.response.scope,
      ...(attempt.requestedScope && attempt.requestedScope.join(' ') !== minted.response.scope
        ? { requested_scope: attempt.requestedScope.join(' ') }
        : {}),
      refresh_token: minted.response.refresh_token !== undefined,
    },
    requestId: attempt.requestId,
  };
}

/**
 * Stores what `minted` needs (its refresh token) and its `token.issue` event in one transaction,
 * after `spend` (spending the code or refresh token it was minted for) succeeded in the same one.
 * False when `spend` lost to a concurrent redemption: then nothing is stored. A token with
 * nothing to store (no refresh token, nothing spent) is stateless: its event stands alone.
 */
async function commit(
  core: TokenServiceCore,
  minted: Minted,
  attempt: Attempt,
  spend?: (trx: Kysely<TokenServiceTables>) => Promise<boolean>,
): Promise<boolean> {
  if (!minted.refresh && !spend) {
    await core.audit.standalone(issueEvent(attempt, minted));
    return true;
  }
  return core.db.transaction().execute(async (trx) => {
    if (spend && !(await spend(trx))) return false;
    await core.minter.store(minted, trx);
    await core.audit(trx, issueEvent(attempt, minted));
    return true;
  });
}

/** Mints and commits, for grants that spend nothing. */
async function issue(core: TokenServiceCore, request: IssueRequest, attempt: Attempt): Promise<Issued> {
  const minted = await core.minter.mint(request);
  await commit(core, minted, attempt);
  return minted;
}

function runGrant(
  core: TokenServiceCore,
  grantType: GrantType,
  params: OAuthParams,
  client: OAuthClient,
  attempt: Attempt,
  meta: RequestMeta,
): Promise<Issued> {
  switch (grantType) {
    case 'password':
      return passwordGrant(core, params, client, attempt, meta.source);
    case 'client_credentials':
      return clientCredentialsGrant(core, params, client, attempt);
    case 'authorization_code':
      return authorizationCodeGrant(core, params, client, attempt);
    case 'refresh_token':
      return refreshTokenGrant(core, params, client, attempt);
    case DEVICE_CODE_GRANT:
      return deviceCodeGrant(core, params, client, attempt);
  }
}

/** `?realm=/services` or `/employees` (STUPS); employees when absent. */
export function realmParam(value: string | undefined, fallback: Realm = 'employees'): Realm {
  if (value === undefined) return fallback;
  const realm = parseRealm(value);
  if (!realm)
    throw new OAuthError('invalid_request', `unknown realm "${value}" (use /employees or /services)`);
  return realm;
}

export function requireRealm(client: OAuthClient, realm: Realm): void {
  if (!client.realms.includes(realm)) {
    throw new OAuthError(
      'unauthorized_client',
      `client ${client.clientId} may not request tokens of the /${realm} realm`,
    );
  }
}

function refreshFor(
  client: OAuthClient,
  familyGrantType: string,
  sessionIdHash: string | null = null,
): { familyGrantType: string; sessionIdHash: string | null } | false {
  return client.grantTypes.includes('refresh_token') ? { familyGrantType, sessionIdHash } : false;
}

/**
 * Holds the sign-in session that issued a code or family while `trx` issues tokens in its name,
 * so a concurrent sign-out either revokes them too or has already happened. A code whose session
 * ended is refused: the person signed out before the client redeemed it.
 */
async function holdIssuingSession(
  core: TokenServiceCore,
  sessionIdHash: string | null,
  trx: Kysely<TokenServiceTables>,
  requireLive: boolean,
): Promise<void> {
  if (sessionIdHash === null) return;
  const live = await core.sessions.hold(sessionIdHash, trx);
  if (!live && requireLive) {
    throw new OAuthError('invalid_grant', 'the sign-in session that issued the authorization code has ended');
  }
}

/**
 * RFC 6749 §4.3: STUPS service users (mint's user.json) and employees (Zign). A throttled guess
 * is answered like a wrong password, after the same work, so it confirms nothing.
 */
async function passwordGrant(
  core: TokenServiceCore,
  params: OAuthParams,
  client: OAuthClient,
  attempt: Attempt,
  source: string,
) {
  const realm = realmParam(params.realm);
  attempt.realm = realm;
  requireRealm(client, realm);
  const audience = requestedAudience(core, params);
  const username = required(params, 'username');
  attempt.uid = username;
  const password = required(params, 'password');
  const requested = parseScope(params.scope);
  attempt.requestedScope = requested;
  const account = `${realm}/${username}`;
  const throttled = (await core.logins.retryAfter(account, source)) > 0;
  let realmScopes: Iterable<string> | undefined;
  if (realm === 'employees') {
    if (await core.users.verifyPassword(username, password)) realmScopes = core.config.employeeScopes;
  } else {
    const user = await core.serviceUsers.verifyPassword(username, password);
    // Every STUPS token carries `uid`; the service user's own scopes come from YOUR TURN / mint.
    if (user) realmScopes = ['uid', ...user.scopes];
  }
  if (throttled || !realmScopes) {
    if (!throttled) await core.logins.recordFailure(account, source);
    throw new OAuthError('invalid_grant', 'wrong user name or password', {
      detail: throttled ? 'too many failed logins' : 'wrong user name or password',
    });
  }
  await core.logins.recordSuccess(account, source);
  const scopes = grantScopes(
    requested,
    allowedScopes(realmScopes, client.scopes),
    core.config.defaultScopes,
    core.config.unallowedScopes,
  );
  return issue(
    core,
    {
      uid: username,
      realm,
      scopes,
      clientId: client.clientId,
      grantType: 'password',
      refresh: refreshFor(client, 'password'),
      audience,
      idTokenAlg: client.idTokenSignedResponseAlg,
    },
    attempt,
  );
}

/** RFC 6749 §4.4: the client acts as itself, a member of the `/services` realm. */
async function clientCredentialsGrant(
  core: TokenServiceCore,
  params: OAuthParams,
  client: OAuthClient,
  attempt: Attempt,
) {
  const realm = realmParam(params.realm, 'services');
  attempt.realm = realm;
  attempt.uid = client.clientId;
  if (realm !== 'services') {
    throw new OAuthError('invalid_request', 'client_credentials tokens belong to the /services realm');
  }
  requireRealm(client, 'services');
  attempt.requestedScope = parseScope(params.scope);
  const audience = requestedAudience(core, params);
  const scopes = grantScopes(
    attempt.requestedScope,
    new Set(['uid', ...(client.scopes ?? [])]),
    core.config.defaultScopes,
    core.config.unallowedScopes,
  );
  // RFC 6749 §4.4.3: no refresh token; the client can always ask again.
  return issue(
    core,
    {
      uid: client.clientId,
      realm: 'services',
      scopes,
      clientId: client.clientId,
      grantType: 'client_credentials',
      refresh: false,
      audience,
    },
    attempt,
  );
}

const CODE_VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;

/**
 * RFC 6749 §4.1.3 with RFC 7636 (PKCE S256 is mandatory for every client). The code is checked
 * before it is spent, so a request with the wrong client or redirect_uri does not burn it; a wrong
 * verifier does (whoever sends it holds a code without its verifier).
 */
async function authorizationCodeGrant(
  core: TokenServiceCore,
  params: OAuthParams,
  client: OAuthClient,
  attempt: Attempt,
) {
  attempt.realm = 'employees';
  const requestedAtToken = requestedAudience(core, params);
  const code = required(params, 'code');
  const verifier = required(params, 'code_verifier');
  const stored = await core.codes.find(code);
  if (!stored) throw new OAuthError('invalid_grant', 'unknown authorization code');
  const { grant, codeHash } = stored;
  attempt.uid = grant.uid;
  if (stored.used) return codeReused(core, codeHash, attempt.requestId);
  if (stored.expired) throw new OAuthError('invalid_grant', 'the authorization code has expired');
  if (grant.clientId !== client.clientId) {
    throw new OAuthError('invalid_grant', 'the authorization code was issued to another client');
  }
  if (grant.redirectUri !== null && params.redirect_uri !== grant.redirectUri) {
    throw new OAuthError('invalid_grant', 'redirect_uri differs from the authorization request');
  }
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  if (!CODE_VERIFIER.test(verifier) || !safeEqual(challenge, grant.codeChallenge)) {
    await core.db.transaction().execute(async (trx) => {
      const spent = await core.codes.spend(
        codeHash,
        { familyId: null, accessJti: null, accessExpiresAt: null },
        trx,
      );
      if (spent) {
        await core.audit(trx, {
          event: 'token-service.authorization_code.spend',
          actor: actorOf(attempt),
          targetId: client.clientId,
          details: { reason: 'PKCE verification failed' },
          requestId: attempt.requestId,
        });
      }
    });
    throw new OAuthError('invalid_grant', 'PKCE verification failed: the code_verifier does not match');
  }
  await requireActiveEmployee(core, grant.uid);
  // RFC 8707 §2.2: resources named at the authorization endpoint bound what the token request may name.
  const outside = grant.resources
    ? (requestedAtToken ?? []).filter((r) => !grant.resources!.includes(r))
    : [];
  if (outside.length > 0) {
    throw new OAuthError('invalid_target', `resource not in the authorization request: ${outside.join(' ')}`);
  }
  const audience = requestedAtToken ?? grant.resources ?? undefined;
  const minted = await core.minter.mint({
    uid: grant.uid,
    realm: 'employees',
    scopes: grant.scopes,
    clientId: client.clientId,
    grantType: 'authorization_code',
    refresh: refreshFor(client, 'authorization_code', grant.sessionIdHash),
    nonce: grant.nonce,
    authTime: grant.authTime,
    audience,
    idTokenAlg: client.idTokenSignedResponseAlg,
  });
  const won = await commit(core, minted, attempt, async (trx) => {
    await holdIssuingSession(core, grant.sessionIdHash, trx, true);
    return core.codes.spend(
      codeHash,
      { familyId: minted.familyId ?? null, accessJti: minted.jti, accessExpiresAt: minted.expiresAt },
      trx,
    );
  });
  // Lost to a concurrent redemption of the same code: both holders lose what the code gave.
  if (!won) return codeReused(core, codeHash, attempt.requestId);
  return minted;
}

/** RFC 6749 §4.1.2: a code used twice may be stolen; what was issued for it is withdrawn. */
async function codeReused(core: TokenServiceCore, codeHash: string, requestId: string): Promise<never> {
  const issued = await core.codes.issuedFor(codeHash);
  const { accessJti, accessExpiresAt } = issued;
  if (issued.familyId || (accessJti && accessExpiresAt)) {
    await core.db.transaction().execute(async (trx) => {
      const accessTokens =
        accessJti && accessExpiresAt ? [{ jti: accessJti, expiresAt: accessExpiresAt }] : [];
      if (issued.familyId)
        accessTokens.push(...(await core.refreshTokens.revokeFamily(issued.familyId, trx)));
      await core.revocations.revokeMany(accessTokens, trx);
      await core.audit(trx, {
        event: 'token-service.token_family.revoke',
        actor: SYSTEM_ACTOR,
        targetId: issued.familyId ?? accessJti ?? undefined,
        details: { reason: 'authorization code used twice', access_tokens: accessTokens.length },
        requestId,
      });
    });
  }
  throw new OAuthError('invalid_grant', 'the authorization code was already used');
}

/**
 * RFC 6749 §6 with rotation: the old refresh token is spent, a new one of the same family returned.
 * Spending the old and storing the new happen in one transaction, so a concurrent second use of the
 * old token finds the new one in the family it revokes.
 */
async function refreshTokenGrant(
  core: TokenServiceCore,
  params: OAuthParams,
  client: OAuthClient,
  attempt: Attempt,
) {
  const token = required(params, 'refresh_token');
  const requested = parseScope(params.scope);
  const audience = requestedAudience(core, params);
  const known = await core.refreshTokens.find(token);
  // Checked before redeeming, so another client cannot spend someone else's token.
  if (!known || known.grant.clientId !== client.clientId)
    throw new OAuthError('invalid_grant', 'unknown refresh token');
  const { grant } = known;
  attempt.uid = grant.uid;
  attempt.realm = grant.realm;
  const widened = (requested ?? []).filter((s) => !grant.scopes.includes(s));
  if (widened.length > 0)
    throw new OAuthError('invalid_scope', `scope not in the original grant: ${widened.join(' ')}`);
  if (known.status === 'reused') return refreshReused(core, grant.familyId, attempt.requestId);
  if (known.status !== 'active')
    throw new OAuthError('invalid_grant', `the refresh token is ${known.status}`);
  if (grant.realm === 'employees') await requireActiveEmployee(core, grant.uid);
  else {
    const user = await core.serviceUsers.getServiceUser(grant.uid);
    if (!user || user.disabled)
      throw new OAuthError('invalid_grant', `service user ${grant.uid} is disabled`);
  }
  const minted = await core.minter.mint({
    uid: grant.uid,
    realm: grant.realm,
    scopes: requested ?? grant.scopes,
    clientId: client.clientId,
    grantType: 'refresh_token',
    // The new refresh token keeps the whole grant: narrowing applies to this access token only.
    refresh: {
      familyId: grant.familyId,
      familyGrantType: grant.grantType,
      scopes: grant.scopes,
      sessionIdHash: grant.sessionIdHash,
    },
    audience,
    idTokenAlg: client.idTokenSignedResponseAlg,
  });
  const won = await commit(core, minted, attempt, async (trx) => {
    // A family outlives its session's natural end; only sign-out revokes it (and `redeem` then fails).
    await holdIssuingSession(core, grant.sessionIdHash, trx, false);
    return (await core.refreshTokens.redeem(token, trx)) !== undefined;
  });
  if (won) return minted;
  const now = await core.refreshTokens.find(token);
  if (now?.status === 'reused') return refreshReused(core, grant.familyId, attempt.requestId);
  throw new OAuthError('invalid_grant', `the refresh token is ${now?.status ?? 'unknown'}`);
}

/** RFC 9700 §4.14.2: one of the two holders of a used refresh token is a thief; the grant ends. */
async function refreshReused(core: TokenServiceCore, familyId: string, requestId: string): Promise<never> {
  await revokeFamily(core, familyId, requestId, 'refresh token used twice');
  throw new OAuthError('invalid_grant', 'the refresh token was already used; its grant is revoked');
}

/** RFC 8628 §3.4: the device polls until a person approved or denied its user code. */
async function deviceCodeGrant(
  core: TokenServiceCore,
  params: OAuthParams,
  client: OAuthClient,
  attempt: Attempt,
) {
  attempt.realm = 'employees';
  const audience = requestedAudience(core, params);
  const deviceCode = required(params, 'device_code');
  const poll = await core.devices.poll(deviceCode, client.clientId);
  switch (poll.status) {
    case 'unknown':
      throw new OAuthError('invalid_grant', 'unknown device code');
    case 'consumed':
      throw new OAuthError('invalid_grant', 'the device code was already used');
    case 'authorization_pending':
      throw new OAuthError('authorization_pending', 'the user has not yet approved the request');
    case 'slow_down':
      throw new OAuthError('slow_down', 'polling too fast; the interval was increased by 5 seconds');
    case 'access_denied':
      throw new OAuthError('access_denied', 'the user denied the request');
    case 'expired_token':
      throw new OAuthError('expired_token', 'the device code has expired');
    case 'approved': {
      attempt.uid = poll.uid;
      await requireActiveEmployee(core, poll.uid);
      const minted = await core.minter.mint({
        uid: poll.uid,
        realm: 'employees',
        scopes: poll.scopes,
        clientId: client.clientId,
        grantType: DEVICE_CODE_GRANT,
        refresh: refreshFor(client, DEVICE_CODE_GRANT),
        audience,
        idTokenAlg: client.idTokenSignedResponseAlg,
      });
      // Handed out once: of two concurrent polls, one gets the tokens, the other `consumed`.
      if (!(await commit(core, minted, attempt, (trx) => core.devices.claim(deviceCode, trx))))
        throw new OAuthError('invalid_grant', 'the device code was already used');
      return minted;
    }
  }
}

async function requireActiveEmployee(core: TokenServiceCore, uid: string): Promise<void> {
  const user = await core.users.getUser(uid);
  if (!user || user.disabled) throw new OAuthError('invalid_grant', `user ${uid} is disabled or unknown`);
}

/** Revokes a refresh token family and the access tokens issued with it, with its audit event. */
async function revokeFamily(
  core: TokenServiceCore,
  familyId: string,
  requestId: string,
  reason: string,
  actor: AuditActor = SYSTEM_ACTOR,
): Promise<void> {
  await core.db.transaction().execute(async (trx) => {
    const accessTokens = await core.refreshTokens.revokeFamily(familyId, trx);
    await core.revocations.revokeMany(accessTokens, trx);
    await core.audit(trx, {
      event: 'token-service.token_family.revoke',
      actor,
      targetId: familyId,
      details: { reason, access_tokens: accessTokens.length },
      requestId,
    });
  });
}
