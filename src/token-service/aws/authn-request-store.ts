import type { Kysely, Migration } from 'kysely';

/**
 * AuthnRequests the IdP has answered (SAML Profiles §4.1.4.5 leaves replay detection to both
 * sides): an SP-initiated request is answered once; the same request again is refused by the
 * IdP, not only by the SP's InResponseTo check. A row is needed only while the request itself
 * would still be accepted (IssueInstant + max age + clock skew); after that the age check refuses
 * it anyway, so rows past `expires_at` are purged.
 */
export interface AnsweredAuthnRequestsTable {
  service_provider: string;
  request_id: string;
  uid: string;
  answered_at: Date;
  expires_at: Date;
}

export interface AnsweredAuthnRequestTables {
  token_saml_answered_requests: AnsweredAuthnRequestsTable;
}

/** Migration `011-saml-answered-requests` of the token service (listed in ../migrations.ts). */
export const samlAnsweredRequestsMigration: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('token_saml_answered_requests')
      .addColumn('service_provider', 'text', (c) => c.notNull())
      .addColumn('request_id', 'text', (c) => c.notNull())
      .addColumn('uid', 'text', (c) => c.notNull())
      .addColumn('answered_at', 'timestamptz', (c) => c.notNull())
      .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
      .addPrimaryKeyConstraint('token_saml_answered_requests_pk', ['service_provider', 'request_id'])
      .execute();
    await db.schema
      .createIndex('token_saml_answered_requests_expiry')
      .on('token_saml_answered_requests')
      .column('expires_at')
      .execute();
  },
};

/** Persistence of answered AuthnRequest IDs: its own table only, in the caller's transaction. */
export class AnsweredAuthnRequests {
  readonly #db: Kysely<AnsweredAuthnRequestTables>;

  /** The token service's Kysely (or a transaction of it), seen with this table only. */
  constructor(db: Kysely<never>) {
    this.#db = db as unknown as Kysely<AnsweredAuthnRequestTables>;
  }

  /** Whether the SP's request `requestId` was answered and could still be replayed at `now`. */
  async answered(serviceProvider: string, requestId: string, now: Date): Promise<boolean> {
    const row = await this.#db
      .selectFrom('token_saml_answered_requests')
      .select('request_id')
      .where('service_provider', '=', serviceProvider)
      .where('request_id', '=', requestId)
      .where('expires_at', '>', now)
      .executeTakeFirst();
    return row !== undefined;
  }

  /**
   * Records the answer; false when the request was already answered (a replay, or two tabs
   * racing: the primary key decides). Purges rows that can no longer be replayed first, so a
   * request answered long ago and expired since does not block its (refused anyway) replay.
   */
  async markAnswered(
    trx: Kysely<never>,
    input: { serviceProvider: string; requestId: string; uid: string; expiresAt: Date; now: Date },
  ): Promise<boolean> {
    const db = trx as unknown as Kysely<AnsweredAuthnRequestTables>;
    await db.deleteFrom('token_saml_answered_requests').where('expires_at', '<=', input.now).execute();
    const inserted = await db
      .insertInto('token_saml_answered_requests')
      .values({
        service_provider: input.serviceProvider,
        request_id: input.requestId,
        uid: input.uid,
        answered_at: input.now,
        expires_at: input.expiresAt,
      })
      .onConflict((oc) => oc.columns(['service_provider', 'request_id']).doNothing())
      .returning('request_id')
      .executeTakeFirst();
    return inserted !== undefined;
  }
}
