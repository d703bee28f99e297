import { type Kysely, type Migration, sql } from 'kysely';
import { awsAccessRequestsMigration } from './aws/access-approvals-store.js';
import { samlAnsweredRequestsMigration } from './aws/authn-request-store.js';

/** Migrations of the token service; run them with `migrateToLatest` under component `token-service`. */
export const tokenServiceMigrations: Record<string, Migration> = {
  '001-token-service': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('token_signing_keys')
        .addColumn('kid', 'text', (c) => c.primaryKey())
        .addColumn('alg', 'text', (c) => c.notNull())
        .addColumn('public_jwk', 'jsonb', (c) => c.notNull())
        .addColumn('private_jwk', 'text', (c) => c.notNull())
        .addColumn('created_at', 'timestamptz', (c) => c.notNull())
        .addColumn('retired_at', 'timestamptz')
        .execute();

      await db.schema
        .createTable('token_clients')
        .addColumn('client_id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('secret_hash', 'text')
        .addColumn('realms', 'jsonb', (c) => c.notNull())
        .addColumn('grant_types', 'jsonb', (c) => c.notNull())
        .addColumn('redirect_uris', 'jsonb', (c) => c.notNull())
        .addColumn('scopes', 'jsonb')
        .addColumn('disabled', 'boolean', (c) => c.notNull().defaultTo(false))
        .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('token_service_users')
        .addColumn('username', 'text', (c) => c.primaryKey())
        .addColumn('password_hash', 'text', (c) => c.notNull())
        .addColumn('scopes', 'jsonb', (c) => c.notNull())
        .addColumn('application_id', 'text')
        .addColumn('team_id', 'text')
        .addColumn('disabled', 'boolean', (c) => c.notNull().defaultTo(false))
        .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('token_authorization_codes')
        .addColumn('code_hash', 'text', (c) => c.primaryKey())
        .addColumn('client_id', 'text', (c) => c.notNull())
        .addColumn('redirect_uri', 'text')
        .addColumn('uid', 'text', (c) => c.notNull())
        .addColumn('scopes', 'jsonb', (c) => c.notNull())
        .addColumn('code_challenge', 'text', (c) => c.notNull())
        .addColumn('nonce', 'text')
        .addColumn('auth_time', 'timestamptz', (c) => c.notNull())
        .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
        .addColumn('used_at', 'timestamptz')
        .addColumn('family_id', 'text')
        .execute();

      await db.schema
        .createTable('token_device_codes')
        .addColumn('device_code_hash', 'text', (c) => c.primaryKey())
        .addColumn('user_code', 'text', (c) => c.notNull().unique())
        .addColumn('client_id', 'text', (c) => c.notNull())
        .addColumn('scopes', 'jsonb', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('uid', 'text')
        .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
        .addColumn('interval_seconds', 'integer', (c) => c.notNull())
        .addColumn('last_polled_at', 'timestamptz')
        .execute();

      await db.schema
        .createTable('token_refresh_tokens')
        .addColumn('token_hash', 'text', (c) => c.primaryKey())
        .addColumn('family_id', 'text', (c) => c.notNull())
        .addColumn('client_id', 'text', (c) => c.notNull())
        .addColumn('uid', 'text', (c) => c.notNull())
        .addColumn('realm', 'text', (c) => c.notNull())
        .addColumn('scopes', 'jsonb', (c) => c.notNull())
        .addColumn('grant_type', 'text', (c) => c.notNull())
        .addColumn('access_jti', 'text', (c) => c.notNull())
        .addColumn('access_expires_at', 'timestamptz', (c) => c.notNull())
        .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
        .addColumn('used_at', 'timestamptz')
        .addColumn('revoked_at', 'timestamptz')
        .addColumn('created_at', 'timestamptz', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('token_refresh_tokens_family')
        .on('token_refresh_tokens')
        .column('family_id')
        .execute();

      await db.schema
        .createTable('token_revocations')
        .addColumn('jti', 'text', (c) => c.primaryKey())
        .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
        .addColumn('revoked_at', 'timestamptz', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('token_revocations_revoked_at')
        .on('token_revocations')
        .column('revoked_at')
        .execute();
    },
  },
  '002-code-access-token': {
    // A code redeemed twice withdraws the access token it produced even when no refresh family exists.
    async up(db: Kysely<unknown>) {
      await db.schema
        .alterTable('token_authorization_codes')
        .addColumn('access_jti', 'text')
        .addColumn('access_expires_at', 'timestamptz')
        .execute();
    },
  },
  '003-zign-implicit-grant': {
    // The built-in zign client is now created with the legacy implicit flow STUPS-era clients log in
    // with; one created by an earlier version gains it once (an operator may remove it afterwards).
    async up(db: Kysely<unknown>) {
      await sql`
        update token_clients
           set grant_types = grant_types || '["implicit"]'::jsonb
         where client_id = 'zign'
           and secret_hash is null
           and not (grant_types @> '["implicit"]'::jsonb)`.execute(db);
    },
  },
  '004-id-token-alg': {
    // Per client ID token algorithm; RS256 is OIDC's default for clients that name none.
    async up(db: Kysely<unknown>) {
      await db.schema
        .alterTable('token_clients')
        .addColumn('id_token_signed_response_alg', 'text', (c) => c.notNull().defaultTo('RS256'))
        .execute();
    },
  },
  '005-code-resources': {
    // RFC 8707 resources named at the authorization endpoint travel with the code.
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('token_authorization_codes').addColumn('resources', 'jsonb').execute();
    },
  },
  '006-previous-credentials': {
    // Rotation with overlap (mint): the previous password or secret stays valid beside the current
    // one until `*_valid_until` (null while the rotation is not finished: valid until retired).
    async up(db: Kysely<unknown>) {
      await db.schema
        .alterTable('token_service_users')
        .addColumn('previous_password_hash', 'text')
        .addColumn('previous_password_valid_until', 'timestamptz')
        .execute();
      await db.schema
        .alterTable('token_clients')
        .addColumn('previous_secret_hash', 'text')
        .addColumn('previous_secret_valid_until', 'timestamptz')
        .execute();
    },
  },
  '007-sign-in-sessions': {
    // Single sign-on: an employee's sign-in at the token service, found again by the digest of the
    // random id in the browser's cookie.
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('token_sessions')
        .addColumn('id_hash', 'text', (c) => c.primaryKey())
        .addColumn('uid', 'text', (c) => c.notNull())
        .addColumn('auth_time', 'timestamptz', (c) => c.notNull())
        .addColumn('last_used_at', 'timestamptz', (c) => c.notNull())
        .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('token_sessions_uid').on('token_sessions').column('uid').execute();
    },
  },
  '008-session-issued-tokens': {
    // Sign-out revokes what the session issued: codes and refresh-token families remember the
    // session by the digest of its id (never the id). Null: issued without a session.
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('token_authorization_codes').addColumn('session_id_hash', 'text').execute();
      await db.schema.alterTable('token_refresh_tokens').addColumn('session_id_hash', 'text').execute();
      await db.schema
        .createIndex('token_refresh_tokens_session')
        .on('token_refresh_tokens')
        .column('session_id_hash')
        .execute();
    },
  },
  '009-saml-certificates': {
    // SAML metadata carries keys as X.509 certificates: one self-signed certificate per RS256
    // signing key (token_signing_keys), made once and kept so every replica publishes the same one.
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('token_saml_certificates')
        .addColumn('kid', 'text', (c) => c.primaryKey())
        .addColumn('certificate_pem', 'text', (c) => c.notNull())
        .addColumn('created_at', 'timestamptz', (c) => c.notNull())
        .execute();
    },
  },
  // Second approver for listed AWS accounts (aws/access-approvals-store.ts).
  '010-aws-access-requests': awsAccessRequestsMigration,
  '011-saml-answered-requests': samlAnsweredRequestsMigration,
};
