import { type Kysely, type Migration, sql } from 'kysely';

export const auditMigrations: Record<string, Migration> = {
  '001-audit-events': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('audit_events')
        .addColumn('id', 'bigserial', (c) => c.primaryKey())
        .addColumn('occurred_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addColumn('service', 'text', (c) => c.notNull())
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('actor_realm', 'text')
        .addColumn('target_type', 'text')
        .addColumn('target_id', 'text')
        .addColumn('outcome', 'text', (c) => c.notNull())
        .addColumn('details', 'jsonb')
        .addColumn('request_id', 'text')
        .execute();
      await db.schema
        .createIndex('audit_events_occurred_at')
        .on('audit_events')
        .column('occurred_at')
        .execute();
      await db.schema
        .createIndex('audit_events_target')
        .on('audit_events')
        .columns(['target_type', 'target_id'])
        .execute();
      await db.schema.createIndex('audit_events_actor').on('audit_events').column('actor').execute();
      // Append-only is enforced by the database itself, not only by the absence of routes.
      await sql`
        create function audit_events_append_only() returns trigger language plpgsql as $$
        begin
          raise exception 'audit_events is append-only';
        end $$`.execute(db);
      await sql`
        create trigger audit_events_no_change before update or delete on audit_events
        for each row execute function audit_events_append_only()`.execute(db);
    },
  },
};
