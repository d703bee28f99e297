import { type Kysely, type Migration, sql } from 'kysely';

export const fullstopMigrations: Record<string, Migration> = {
  '001-violations': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('fullstop_violations')
        .addColumn('id', 'bigserial', (c) => c.primaryKey())
        .addColumn('version', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('event_id', 'text', (c) => c.notNull())
        .addColumn('account_id', 'text', (c) => c.notNull())
        .addColumn('region', 'text', (c) => c.notNull())
        // '' when the violation concerns no instance: the unique key must treat "none" as one value.
        .addColumn('instance_id', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('type_id', 'text', (c) => c.notNull())
        .addColumn('meta_info', 'jsonb')
        .addColumn('comment', 'text')
        // Recorded when the violation is stored (ADR 0006: ownership is never re-derived later).
        .addColumn('team_id', 'text')
        .addColumn('username', 'text')
        .addColumn('rule_id', 'bigint')
        .addColumn('application_id', 'text')
        .addColumn('application_version_id', 'text')
        .addColumn('created', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('last_modified', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addColumn('last_modified_by', 'text', (c) => c.notNull())
        .addUniqueConstraint('fullstop_violations_dedup', [
          'account_id',
          'region',
          'event_id',
          'instance_id',
          'type_id',
        ])
        .execute();
      await db.schema
        .createIndex('fullstop_violations_account_created')
        .on('fullstop_violations')
        .columns(['account_id', 'created'])
        .execute();
      await db.schema
        .createIndex('fullstop_violations_created')
        .on('fullstop_violations')
        .column('created')
        .execute();
      await db.schema
        .createIndex('fullstop_violations_team')
        .on('fullstop_violations')
        .column('team_id')
        .execute();

      // The ingestion cursor: one row per CloudTrail file done, written in the transaction that
      // stores the file's violations, so a file is done exactly when its violations are.
      await db.schema
        .createTable('fullstop_ingested_files')
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('events', 'integer', (c) => c.notNull())
        .addColumn('violations', 'integer', (c) => c.notNull())
        .addColumn('ingested_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addPrimaryKeyConstraint('fullstop_ingested_files_pk', ['source', 'key'])
        .execute();

      await db.schema
        .createTable('fullstop_instance_logs')
        .addColumn('id', 'bigserial', (c) => c.primaryKey())
        .addColumn('account_id', 'text', (c) => c.notNull())
        .addColumn('region', 'text', (c) => c.notNull())
        .addColumn('instance_id', 'text', (c) => c.notNull())
        .addColumn('instance_boot_time', 'text', (c) => c.notNull())
        .addColumn('log_type', 'text', (c) => c.notNull())
        .addColumn('log_data', 'text', (c) => c.notNull())
        .addColumn('created', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addColumn('created_by', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('fullstop_instance_logs_instance')
        .on('fullstop_instance_logs')
        .columns(['account_id', 'region', 'instance_id', 'id'])
        .execute();
    },
  },
  // When a violation was resolved (its first comment), for the trend: last_modified moves with
  // every later change (a risk acceptance, a new comment), so it cannot tell.
  '002-violation-resolved-at': {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('fullstop_violations').addColumn('resolved_at', 'timestamptz').execute();
      // Before this column, resolving was the only change after storing: last_modified is the time.
      await sql`update fullstop_violations set resolved_at = last_modified where comment is not null`.execute(
        db,
      );
      await db.schema
        .createIndex('fullstop_violations_resolved_at')
        .on('fullstop_violations')
        .column('resolved_at')
        .execute();
    },
  },
  '003-risk-acceptances': {
    async up(db: Kysely<unknown>) {
      // Risk acceptances (issue 17): immutable once created, except for ending them.
      await db.schema
        .createTable('fullstop_risk_acceptances')
        .addColumn('id', 'bigserial', (c) => c.primaryKey())
        .addColumn('criteria', 'jsonb', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('team_id', 'text', (c) => c.notNull())
        // False only for an administrator's acceptance naming accounts of any team.
        .addColumn('team_scoped', 'boolean', (c) => c.notNull())
        .addColumn('created', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('expires', 'timestamptz', (c) => c.notNull())
        .addColumn('expired_at', 'timestamptz')
        .addColumn('expired_by', 'text')
        .addColumn('expiry_reason', 'text')
        .addColumn('covered_at_expiry', 'integer')
        .execute();
      await db.schema
        .createIndex('fullstop_risk_acceptances_due')
        .on('fullstop_risk_acceptances')
        .column('expires')
        .where(sql.ref('expired_at'), 'is', null)
        .execute();
      // A violation's rule_id is the acceptance covering it: ending one finds its violations here.
      await db.schema
        .createIndex('fullstop_violations_rule')
        .on('fullstop_violations')
        .column('rule_id')
        .where(sql.ref('rule_id'), 'is not', null)
        .execute();
    },
  },
  // When the event behind a violation happened (CloudTrail eventTime, the login, the boot, the
  // periodic run), beside `created`, when fullstop stored it: a file ingested late has old events.
  // Violations stored before this column do not know it (null).
  '004-violation-event-time': {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('fullstop_violations').addColumn('event_time', 'timestamptz').execute();
    },
  },
  // The instances fullstop saw launched (RunInstances), the image their Taupage user data names
  // (USER_DATA logs) and their termination: which images run, for Pier One's retention rules.
  '005-instances': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('fullstop_instances')
        .addColumn('account_id', 'text', (c) => c.notNull())
        .addColumn('region', 'text', (c) => c.notNull())
        .addColumn('instance_id', 'text', (c) => c.notNull())
        .addColumn('launched_at', 'timestamptz')
        .addColumn('terminated_at', 'timestamptz')
        // Launched with user data (CloudTrail says so, not what): its image is unknown until
        // Taupage reports the user data.
        .addColumn('awaits_user_data', 'boolean', (c) => c.notNull().defaultTo(false))
        .addColumn('source', 'text')
        .addColumn('image_team', 'text')
        .addColumn('image_artifact', 'text')
        .addColumn('image_tag', 'text')
        .addColumn('image_digest', 'text')
        .addColumn('updated', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addPrimaryKeyConstraint('fullstop_instances_pk', ['account_id', 'region', 'instance_id'])
        .execute();
      await db.schema
        .createIndex('fullstop_instances_running_image')
        .on('fullstop_instances')
        .columns(['image_team', 'image_artifact'])
        .where(sql.ref('terminated_at'), 'is', null)
        .execute();
    },
  },
};
