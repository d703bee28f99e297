import { compactVerify, decodeProtectedHeader } from 'jose';
import { redirectUriMatches } from './authorization.js';
import type { OAuthClient } from './contract.js';
import type { TokenServiceCore } from './core.js';
import type { OAuthParams } from './params.js';

/** The end-session endpoint (OIDC RP-Initiated Logout 1.0), on the authorization endpoint's path. */
export const END_SESSION_PATH = '/oauth2/logout';

/** A sign-out request that cannot be honoured as asked: shown on a page, never redirected. */
export class LogoutRefusedError extends Error {}

/** A checked sign-out request (RP-Initiated Logout 1.0 §2). */
export interface LogoutRequest {
  /** The client named by `id_token_hint` or `client_id`. */
  client: OAuthClient | undefined;
  /** Only a redirect URI registered for that client. */
  postLogoutRedirectUri: string | undefined;
  state: string | undefined;
  /** The user an `id_token_hint` of ours names: the client asking is the one they signed in to. */
  hintedUid: string | undefined;
}

/**
 * Checks a sign-out request. An `id_token_hint` must be an ID token this service signed (expired
 * ones included: §2 expects them); `post_logout_redirect_uri` must be registered for the client,
 * or the request is refused instead of becoming an open redirect.
 */
export async function validateLogoutRequest(
  core: TokenServiceCore,
  params: OAuthParams,
): Promise<LogoutRequest> {
  let hinted: { uid: string; audience: string[] } | undefined;
  if (params.id_token_hint !== undefined) {
    hinted = await verifiedIdTokenHint(core, params.id_token_hint);
    if (!hinted)
      throw new LogoutRefusedError('The sign-out request carries an ID token this service did not issue.');
  }
  const clientId = params.client_id ?? (hinted?.audience.length === 1 ? hinted.audience[0] : undefined);
  if (hinted && clientId !== undefined && !hinted.audience.includes(clientId)) {
    throw new LogoutRefusedError('The ID token was not issued to the client named in the sign-out request.');
  }
  const client = clientId === undefined ? undefined : await core.clients.getClient(clientId);
  if (clientId !== undefined && (!client || client.disabled)) {
    throw new LogoutRefusedError(`Unknown client "${clientId}".`);
  }
  const uri = params.post_logout_redirect_uri;
  if (uri !== undefined) {
    if (!client) {
      throw new LogoutRefusedError(
        'A post_logout_redirect_uri needs the client: send id_token_hint or client_id.',
      );
    }
    if (!client.redirectUris.some((registered) => redirectUriMatches(registered, uri))) {
      throw new LogoutRefusedError(
        `The post_logout_redirect_uri is not registered for client "${client.clientId}".`,
      );
    }
  }
  return { client, postLogoutRedirectUri: uri, state: params.state, hintedUid: hinted?.uid };
}

/** The ID token's user and audience when we signed it as an ID token; undefined otherwise. */
async function verifiedIdTokenHint(
  core: TokenServiceCore,
  token: string,
): Promise<{ uid: string; audience: string[] } | undefined> {
  try {
    // An access token (`at+jwt`, same keys) is not an ID token.
    if (decodeProtectedHeader(token).typ !== 'JWT') return undefined;
    const { payload } = await compactVerify(token, core.keys.getKey);
    const claims = JSON.parse(new TextDecoder().decode(payload)) as {
      iss?: unknown;
      sub?: unknown;
      aud?: unknown;
    };
    if (claims.iss !== core.issuer || typeof claims.sub !== 'string') return undefined;
    const audience =
      typeof claims.aud === 'string'
        ? [claims.aud]
        : Array.isArray(claims.aud)
          ? claims.aud.filter((a): a is string => typeof a === 'string')
          : [];
    return { uid: claims.sub, audience };
  } catch {
    return undefined;
  }
}

/**
 * Ends the session of this id and revokes what it issued (the refresh-token families its codes
 * started, and the access tokens issued with them and for its codes), with their audit events,
 * in one transaction. Returns the user the session belonged to.
 */
export async function endSession(
  core: TokenServiceCore,
  request: LogoutRequest,
  sessionId: string | undefined,
  requestId: string,
): Promise<string | undefined> {
  return core.db.transaction().execute(async (trx) => {
    const ended = await core.sessions.end(sessionId, trx);
    if (ended === undefined) return undefined;
    const { uid, idHash } = ended;
    const actor = { uid, realm: 'employees' } as const;
    const families = await core.refreshTokens.revokeSessionFamilies(idHash, trx);
    const codeAccessTokens = await core.codes.accessTokensOfSession(idHash, trx);
    await core.revocations.revokeMany([...[...families.values()].flat(), ...codeAccessTokens], trx);
    for (const [familyId, accessTokens] of families) {
      await core.audit(trx, {
        event: 'token-service.token_family.revoke',
        actor,
        targetId: familyId,
        details: { reason: 'signed out', access_tokens: accessTokens.length },
        requestId,
      });
    }
    await core.audit(trx, {
      event: 'token-service.session.end',
      actor,
      targetId: uid,
      details: {
        client_id: request.client?.clientId,
        revoked_families: families.size,
        revoked_access_tokens: new Set(
          [...[...families.values()].flat(), ...codeAccessTokens].map((t) => t.jti),
        ).size,
      },
      requestId,
    });
    return uid;
  });
}

/** Records a refused sign-out (nothing changed). */
export async function recordRefusedLogout(
  core: TokenServiceCore,
  reason: string,
  requestId: string,
): Promise<void> {
  await core.audit.standalone({
    event: 'token-service.session.end',
    actor: { uid: 'anonymous' },
    outcome: 'refused',
    details: { reason },
    requestId,
  });
}

/** Where the browser goes after signing out: the client's URI with its `state`, if it named one. */
export function logoutRedirect(request: LogoutRequest): string | undefined {
  if (request.postLogoutRedirectUri === undefined) return undefined;
  const url = new URL(request.postLogoutRedirectUri);
  if (request.state !== undefined) url.searchParams.set('state', request.state);
  return url.toString();
}
