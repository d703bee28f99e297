import type { Kysely } from 'kysely';
import { auditPurge, type TokenServiceAudit } from './audit.js';
import { digest, randomToken } from './secrets.js';
import type { TokenServiceTables } from './tables.js';

/** A sign-in session of an employee at the token service (single sign-on for its clients). */
export interface SignInSession {
  uid: string;
  /** Digest of the session's id, as stored: links what the session issues to it (never the id). */
  idHash: string;
  /** When the password was checked: `auth_time` of every ID token issued through this session. */
  authTime: Date;
  expiresAt: Date;
}

export interface SessionLimits {
  /** Absolute lifetime from the sign-in. */
  lifetimeMs: number;
  /** A session unused this long ends. */
  idleMs: number;
}

/** Writing `last_used_at` on every request would make each authorization a write; a minute is precise enough. */
const TOUCH_AFTER_MS = 60_000;

/**
 * Sign-in sessions. The browser holds a random opaque id in a cookie; only its digest is stored,
 * so a database leak gives no usable session. The id is never logged or audited.
 */
export class SessionStore {
  constructor(
    private readonly db: Kysely<TokenServiceTables>,
    private readonly limits: SessionLimits,
    private readonly now: () => number,
  ) {}

  /**
   * Starts a session through `db` (the transaction that writes its audit event) and returns its
   * id for the cookie. A new id on every sign-in: the one the browser had before (possibly planted
   * by someone else: session fixation) is deleted, never reused.
   */
  async start(
    uid: string,
    previousId: string | undefined,
    db: Kysely<TokenServiceTables> = this.db,
  ): Promise<{ id: string; session: SignInSession }> {
    const id = randomToken();
    const idHash = digest(id);
    if (previousId) {
      const previous = await db
        .deleteFrom('token_sessions')
        .where('id_hash', '=', digest(previousId))
        .returning(['id_hash', 'uid'])
        .executeTakeFirst();
      // The same person signing in again (prompt=login, max_age): what the old session issued now
      // belongs to the new one, so signing out still revokes it.
      if (previous?.uid === uid) await this.#relink(previous.id_hash, idHash, db);
    }
    const now = new Date(this.now());
    const expiresAt = new Date(now.getTime() + this.limits.lifetimeMs);
    await db
      .insertInto('token_sessions')
      .values({ id_hash: idHash, uid, auth_time: now, last_used_at: now, expires_at: expiresAt })
      .execute();
    return { id, session: { uid, idHash, authTime: now, expiresAt } };
  }

  async #relink(from: string, to: string, db: Kysely<TokenServiceTables>): Promise<void> {
    await db
      .updateTable('token_refresh_tokens')
      .set({ session_id_hash: to })
      .where('session_id_hash', '=', from)
      .execute();
    await db
      .updateTable('token_authorization_codes')
      .set({ session_id_hash: to })
      .where('session_id_hash', '=', from)
      .execute();
  }

  /** The live session of this id, marking it used; undefined when unknown, expired or idle too long. */
  async use(id: string | undefined): Promise<SignInSession | undefined> {
    if (!id) return undefined;
    const idHash = digest(id);
    const row = await this.db
      .selectFrom('token_sessions')
      .selectAll()
      .where('id_hash', '=', idHash)
      .executeTakeFirst();
    if (!row) return undefined;
    const now = this.now();
    if (row.expires_at.getTime() <= now || row.last_used_at.getTime() + this.limits.idleMs <= now) {
      await this.db.deleteFrom('token_sessions').where('id_hash', '=', idHash).execute();
      return undefined;
    }
    if (now - row.last_used_at.getTime() >= TOUCH_AFTER_MS) {
      await this.db
        .updateTable('token_sessions')
        .set({ last_used_at: new Date(now) })
        .where('id_hash', '=', idHash)
        .execute();
    }
    return { uid: row.uid, idHash, authTime: row.auth_time, expiresAt: row.expires_at };
  }

  /**
   * Ends the session of this id through `db`; returns its user and id digest (to revoke what it
   * issued), undefined when there was none.
   */
  async end(
    id: string | undefined,
    db: Kysely<TokenServiceTables> = this.db,
  ): Promise<{ uid: string; idHash: string } | undefined> {
    if (!id) return undefined;
    const idHash = digest(id);
    const row = await db
      .deleteFrom('token_sessions')
      .where('id_hash', '=', idHash)
      .returning('uid')
      .executeTakeFirst();
    return row ? { uid: row.uid, idHash } : undefined;
  }

  /**
   * Holds the session row (if it still exists) until `db`'s transaction ends, so a sign-out
   * running meanwhile waits and then sees the tokens this transaction issues in the session's
   * name, or this transaction waits for the sign-out and then finds no session. False: gone.
   */
  async hold(idHash: string, db: Kysely<TokenServiceTables>): Promise<boolean> {
    const row = await db
      .selectFrom('token_sessions')
      .select('id_hash')
      .where('id_hash', '=', idHash)
      .forShare()
      .executeTakeFirst();
    return row !== undefined;
  }

  /** Ends every session of a user (a disabled or deleted account). */
  async endAllOf(uid: string): Promise<void> {
    await this.db.deleteFrom('token_sessions').where('uid', '=', uid).execute();
  }

  /** Seconds the cookie may live: what is left of the absolute lifetime. */
  cookieMaxAge(session: SignInSession): number {
    return Math.max(0, Math.floor((session.expiresAt.getTime() - this.now()) / 1000));
  }

  async deleteExpired(audit: TokenServiceAudit): Promise<number> {
    return this.db.transaction().execute(async (trx) => {
      const now = this.now();
      const rows = await trx
        .deleteFrom('token_sessions')
        .where((eb) =>
          eb.or([
            eb('expires_at', '<=', new Date(now)),
            eb('last_used_at', '<=', new Date(now - this.limits.idleMs)),
          ]),
        )
        .returning('uid')
        .execute();
      // Named by user: the session id is a secret, its digest means nothing to a reader.
      await auditPurge(
        audit,
        trx,
        'token-service.session.purge',
        rows.map((r) => r.uid),
      );
      return rows.length;
    });
  }
}
