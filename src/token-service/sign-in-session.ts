import type { TokenServiceCore } from './core.js';
import type { SignInSession } from './session-store.js';

/**
 * The cookie holding the sign-in session's id; sent to every path of the token service's own host
 * (no Domain), so the browser SSO pages under `/saml` see the session the `/oauth2` login started.
 */
export const SESSION_COOKIE = 'stups_session';

/**
 * The browser's sign-in session, if it still counts: known, within its lifetime and idle timeout,
 * and its user still exists and is enabled. A disabled or deleted user's sessions are ended at once.
 */
export async function currentSession(
  core: TokenServiceCore,
  id: string | undefined,
): Promise<SignInSession | undefined> {
  const session = await core.sessions.use(id);
  if (!session) return undefined;
  const user = await core.users.getUser(session.uid);
  if (!user || user.disabled) {
    await core.sessions.endAllOf(session.uid);
    return undefined;
  }
  return session;
}

/**
 * Starts the session after a password sign-in, with its audit event in one transaction. Returns
 * the new id for the cookie (never the one the browser had) and how long the cookie may live.
 */
export async function signIn(
  core: TokenServiceCore,
  uid: string,
  previousId: string | undefined,
  meta: { requestId: string; clientId: string },
): Promise<{ id: string; session: SignInSession; maxAgeSeconds: number }> {
  return core.db.transaction().execute(async (trx) => {
    const started = await core.sessions.start(uid, previousId, trx);
    await core.audit(trx, {
      event: 'token-service.session.start',
      actor: { uid, realm: 'employees' },
      targetId: uid,
      // Never the session id: whoever reads the audit log could take over the session.
      details: { client_id: meta.clientId, expires_at: started.session.expiresAt.toISOString() },
      requestId: meta.requestId,
    });
    return { ...started, maxAgeSeconds: core.sessions.cookieMaxAge(started.session) };
  });
}

const cookieAt = (path: string, id: string, maxAgeSeconds: number, secure: boolean) =>
  `${SESSION_COOKIE}=${id}; Path=${path}; Max-Age=${maxAgeSeconds}; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`;

/**
 * The cookie was once scoped to `/oauth2`. A browser still holding such a cookie would send it
 * first at `/oauth2` paths (longer paths first), shadowing the new one, so every `Set-Cookie` of
 * the session also removes the old path's cookie.
 */
const LEGACY_PATH = '/oauth2';

/** `Set-Cookie` headers for a session id (first the cookie itself); `Secure` whenever the browser talks https to us. */
export function sessionCookie(id: string, maxAgeSeconds: number, secure: boolean): string[] {
  return [cookieAt('/', id, maxAgeSeconds, secure), cookieAt(LEGACY_PATH, '', 0, secure)];
}

/** `Set-Cookie` headers that make the browser forget the session id. */
export function clearedSessionCookie(secure: boolean): string[] {
  return sessionCookie('', 0, secure);
}
