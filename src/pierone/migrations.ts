import { type Kysely, type Migration, sql } from 'kysely';
import type { ComponentMigrations } from '../platform/db/migrate.js';

const migrations: Record<string, Migration> = {
  '001-registry': {
    async up(db: Kysely<unknown>) {
      // Which repository may serve which blob: blobs are shared by content, visibility is per repository.
      await db.schema
        .createTable('pierone_blob_links')
        .addColumn('repository', 'text', (c) => c.notNull())
        .addColumn('digest', 'text', (c) => c.notNull())
        .addColumn('size', 'bigint', (c) => c.notNull())
        .addColumn('created', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('pierone_blob_links_pk', ['repository', 'digest'])
        .execute();
      // Manifests keep the exact bytes pushed; their digest is over those bytes.
      await db.schema
        .createTable('pierone_manifests')
        .addColumn('repository', 'text', (c) => c.notNull())
        .addColumn('digest', 'text', (c) => c.notNull())
        .addColumn('media_type', 'text', (c) => c.notNull())
        .addColumn('content', 'bytea', (c) => c.notNull())
        .addColumn('subject', 'text')
        .addColumn('artifact_type', 'text')
        .addColumn('annotations', 'jsonb')
        .addColumn('scm_source', 'jsonb')
        .addColumn('created', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('pierone_manifests_pk', ['repository', 'digest'])
        .execute();
      await db.schema
        .createIndex('pierone_manifests_subject')
        .on('pierone_manifests')
        .columns(['repository', 'subject'])
        .where(sql.ref('subject'), 'is not', null)
        .execute();
      // The primary key is what makes a tag immutable under concurrent pushes: one insert wins.
      await db.schema
        .createTable('pierone_tags')
        .addColumn('team', 'text', (c) => c.notNull())
        .addColumn('artifact', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('digest', 'text', (c) => c.notNull())
        .addColumn('created', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('incident_id', 'text')
        .addColumn('production_ready_by', 'text')
        .addColumn('production_ready_at', 'timestamptz')
        .addPrimaryKeyConstraint('pierone_tags_pk', ['team', 'artifact', 'name'])
        .execute();
      await sql`create index pierone_tags_digest on pierone_tags (digest text_pattern_ops)`.execute(db);
      await db.schema
        .createTable('pierone_uploads')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('repository', 'text', (c) => c.notNull())
        .addColumn('created', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addColumn('created_by', 'text', (c) => c.notNull())
        .execute();
      // What a layer says about scm-source.json, so that shared base layers are read only once.
      await db.schema
        .createTable('pierone_layer_scm')
        .addColumn('digest', 'text', (c) => c.primaryKey())
        .addColumn('outcome', 'text', (c) => c.notNull())
        .addColumn('scm_source', 'jsonb')
        .execute();
    },
  },
};

/** Pier One's tables, for `migrateToLatest`. */
export const pieroneMigrations: ComponentMigrations = { component: 'pierone', migrations };
