import { type Kysely, type Migration, sql } from 'kysely';

export const mintMigrations: Record<string, Migration> = {
  '001-apps': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('mint_apps')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('username', 'text', (c) => c.notNull())
        .addColumn('client_id', 'text', (c) => c.notNull())
        .addColumn('is_client_confidential', 'boolean', (c) => c.notNull())
        .addColumn('redirect_url', 'text')
        .addColumn('s3_buckets', 'jsonb', (c) => c.notNull())
        .addColumn('scopes', 'jsonb', (c) => c.notNull())
        .addColumn('last_password_rotation', 'timestamptz')
        .addColumn('last_client_rotation', 'timestamptz')
        .addColumn('last_modified', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addColumn('last_modified_by', 'text', (c) => c.notNull())
        .addColumn('last_synced', 'timestamptz')
        .addColumn('has_problems', 'boolean', (c) => c.notNull().defaultTo(false))
        .addColumn('message', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('s3_errors', 'integer', (c) => c.notNull().defaultTo(0))
        // Set by POST /apps/{app}/renewal: rotate both credentials on the next run.
        .addColumn('renewal_requested', 'boolean', (c) => c.notNull().defaultTo(false))
        // Whether a password / client secret has ever reached every bucket: until then a new one
        // replaces it outright (nobody holds it), afterwards rotations overlap.
        .addColumn('password_distributed', 'boolean', (c) => c.notNull().defaultTo(false))
        .addColumn('client_distributed', 'boolean', (c) => c.notNull().defaultTo(false))
        // The current client secret, sealed (see SecretSealer): proofs and new buckets need it.
        .addColumn('client_secret_sealed', 'text')
        // One replica's claim on the application while it syncs it (see MintStore.claim).
        .addColumn('claimed_until', 'timestamptz')
        .execute();
    },
  },
  '002-renewal-kinds-and-graces': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .alterTable('mint_apps')
        // Which credentials a renewal asks for (POST /apps/{app}/renewal?credentials=…); a request
        // from before this column (both false) means both, as renewal always did.
        .addColumn('renewal_password', 'boolean', (c) => c.notNull().defaultTo(false))
        .addColumn('renewal_client', 'boolean', (c) => c.notNull().defaultTo(false))
        // Until when the previous generation stays valid in the token service: the next rotation of
        // that credential waits for it (the token service keeps one previous generation only).
        .addColumn('password_previous_valid_until', 'timestamptz')
        .addColumn('client_previous_valid_until', 'timestamptz')
        .execute();
    },
  },
};
