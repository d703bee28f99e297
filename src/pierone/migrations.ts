import { type Kysely, type Migration, type RawBuilder, sql } from 'kysely';
import type { ComponentMigrations } from '../platform/db/migrate.js';
import { childrenOf, INDEX_MEDIA_TYPES } from './manifest.js';
import { isDigest } from './reference.js';

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
  '002-config-digest': {
    async up(db: Kysely<unknown>) {
      // The image id STUPS clients and `docker images` show is the config blob's digest, not the
      // manifest's; kept per manifest so that `GET /tags/{prefix}` can search it by prefix.
      await db.schema.alterTable('pierone_manifests').addColumn('config_digest', 'text').execute();
      await sql`create index pierone_manifests_config_digest on pierone_manifests (config_digest text_pattern_ops) where config_digest is not null`.execute(
        db,
      );
      await backfillConfigDigests(db);
    },
  },
  '003-upload-staging': {
    async up(db: Kysely<unknown>) {
      // Which staging directory holds an upload's data (its id, see UploadSessions.stagingId):
      // replicas with directories of their own purge only their own uploads. Null for uploads
      // started before: any replica may purge those, as a single replica did.
      await db.schema.alterTable('pierone_uploads').addColumn('staging', 'text').execute();
    },
  },
  '004-attestation-keys': {
    async up(db: Kysely<unknown>) {
      // Keys Pier One signs provenance attestations with. Unlike token keys they are never
      // deleted: an attestation must verify as long as its image is kept, which is forever.
      await db.schema
        .createTable('pierone_attestation_keys')
        .addColumn('kid', 'text', (c) => c.primaryKey())
        .addColumn('alg', 'text', (c) => c.notNull())
        .addColumn('public_jwk', 'text', (c) => c.notNull())
        .addColumn('private_jwk', 'text', (c) => c.notNull())
        .addColumn('created_at', 'timestamptz', (c) => c.notNull())
        .addColumn('retired_at', 'timestamptz')
        .execute();
    },
  },
  '005-deletions': {
    async up(db: Kysely<unknown>) {
      // Deleted tags stay here for good: the name is burnt (never pushed again for other content)
      // and the API shows who deleted it, when and why.
      await db.schema
        .createTable('pierone_deleted_tags')
        .addColumn('team', 'text', (c) => c.notNull())
        .addColumn('artifact', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('digest', 'text', (c) => c.notNull())
        .addColumn('deleted_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addColumn('deleted_by', 'text', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('pierone_deleted_tags_pk', ['team', 'artifact', 'name'])
        .execute();
      await db.schema
        .createTable('pierone_deleted_manifests')
        .addColumn('repository', 'text', (c) => c.notNull())
        .addColumn('digest', 'text', (c) => c.notNull())
        .addColumn('deleted_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addColumn('deleted_by', 'text', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('pierone_deleted_manifests_pk', ['repository', 'digest'])
        .execute();
    },
  },
  '006-shared-uploads': {
    async up(db: Kysely<unknown>) {
      // Upload state for replicas: the size so far and the chunks (objects in the blob store,
      // see ChunkedUploads), so that any replica continues any upload. The offset check is a
      // conditional update of this row. Expand only: a replica of the version before ignores
      // the columns; its uploads keep `parts` null, which this version treats as unknown (the
      // client starts that blob again), and the purge removes them.
      await db.schema
        .alterTable('pierone_uploads')
        .addColumn('size', 'bigint', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema
        .alterTable('pierone_uploads')
        .addColumn('updated', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .execute();
      await db.schema.alterTable('pierone_uploads').addColumn('parts', 'jsonb').execute();
      await db.schema
        .createIndex('pierone_uploads_updated')
        .on('pierone_uploads')
        .column('updated')
        .execute();
    },
  },
  '007-blob-gc': {
    async up(db: Kysely<unknown>) {
      // One row per blob Pier One knows of: the row the garbage collector and every writer lock
      // (see src/pierone/gc/collector.ts for the protocol). `touched` is when a writer last made
      // the blob reachable (or announced that it is about to); the grace period counts from it.
      await db.schema
        .createTable('pierone_blobs')
        .addColumn('digest', 'text', (c) => c.primaryKey())
        .addColumn('touched', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .execute();
      // Which blobs each manifest refers to (layers, config, an artifact's blobs): what keeps a blob.
      await db.schema
        .createTable('pierone_manifest_blobs')
        .addColumn('repository', 'text', (c) => c.notNull())
        .addColumn('manifest', 'text', (c) => c.notNull())
        .addColumn('digest', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('pierone_manifest_blobs_pk', ['repository', 'manifest', 'digest'])
        .execute();
      await db.schema
        .createIndex('pierone_manifest_blobs_digest')
        .on('pierone_manifest_blobs')
        .columns(['digest', 'repository'])
        .execute();
      await db.schema
        .createIndex('pierone_blob_links_digest')
        .on('pierone_blob_links')
        .columns(['digest'])
        .execute();
      await backfillManifestBlobs(db);
      await sql`insert into pierone_blobs (digest)
        select digest from pierone_blob_links union select digest from pierone_manifest_blobs
        on conflict do nothing`.execute(db);
    },
  },
  '008-retention-quotas': {
    async up(db: Kysely<unknown>) {
      // Retention rules: one per team (artifact '') and one per repository, which replaces the
      // team's rule for that repository. Nothing in them deletes by itself: the retention job
      // deletes through the audited deletion path.
      await db.schema
        .createTable('pierone_retention_rules')
        .addColumn('team', 'text', (c) => c.notNull())
        .addColumn('artifact', 'text', (c) => c.notNull())
        .addColumn('keep_last', 'integer')
        .addColumn('keep_patterns', 'text')
        .addColumn('keep_running', 'boolean', (c) => c.notNull().defaultTo(false))
        .addColumn('snapshot_days', 'integer')
        .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addColumn('updated_by', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('pierone_retention_rules_pk', ['team', 'artifact'])
        .execute();
      // Storage quotas per team, in bytes; a team without a row has none.
      await db.schema
        .createTable('pierone_quotas')
        .addColumn('team', 'text', (c) => c.primaryKey())
        .addColumn('bytes', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addColumn('updated_by', 'text', (c) => c.notNull())
        .execute();
      // A team's usage sums its repositories' blob links: found by repository prefix.
      await sql`create index pierone_blob_links_repository_prefix on pierone_blob_links (repository text_pattern_ops)`.execute(
        db,
      );
    },
  },
  '009-manifest-children': {
    async up(db: Kysely<unknown>) {
      // Which manifests an index lists, as rows: quota usage follows a dead index to its children
      // in SQL (a recursive query) instead of parsing every index's JSON on each blob link. An
      // index pushed by a replica of the version before has no rows: its children look unlisted
      // and keep counting, as they did before.
      await db.schema
        .createTable('pierone_manifest_children')
        .addColumn('repository', 'text', (c) => c.notNull())
        .addColumn('manifest', 'text', (c) => c.notNull())
        .addColumn('child', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('pierone_manifest_children_pk', ['repository', 'manifest', 'child'])
        .execute();
      // Usage reads a team's rows by repository prefix (`team/%`): without a pattern index
      // each quota-checked link read these tables whole, every team's rows (see quotas.ts).
      await sql`create index pierone_manifest_children_child on pierone_manifest_children (repository text_pattern_ops, child)`.execute(
        db,
      );
      await sql`create index pierone_manifests_repository_prefix on pierone_manifests (repository text_pattern_ops)`.execute(
        db,
      );
      await sql`create index pierone_manifest_blobs_repository_prefix on pierone_manifest_blobs (repository text_pattern_ops)`.execute(
        db,
      );
      await backfillManifestChildren(db);
    },
  },
};

/** A stored manifest as the backfills read it. */
interface StoredRow {
  repository: string;
  digest: string;
  media_type: string;
  content: Uint8Array;
}

/**
 * Hands the stored manifests that match `filter` to `handle`, in batches of `BACKFILL_BATCH`
 * in key order: bounded memory whatever the registry holds.
 */
async function forEachManifestBatch(
  db: Kysely<unknown>,
  filter: RawBuilder<unknown>,
  handle: (rows: StoredRow[]) => Promise<void>,
): Promise<void> {
  let after: { repository: string; digest: string } | undefined;
  for (;;) {
    const { rows } = await sql<StoredRow>`
      select repository, digest, media_type, content from pierone_manifests
      where ${filter}
        and ${after ? sql`(repository, digest) > (${after.repository}, ${after.digest})` : sql`true`}
      order by repository, digest
      limit ${BACKFILL_BATCH}`.execute(db);
    await handle(rows);
    if (rows.length < BACKFILL_BATCH) return;
    const last = rows[rows.length - 1]!;
    after = { repository: last.repository, digest: last.digest };
  }
}

/** Inserts `(repository, manifest, <what it refers to>)` rows, 1000 a statement. */
async function insertRefs(
  db: Kysely<unknown>,
  table: 'pierone_manifest_blobs' | 'pierone_manifest_children',
  refs: RawBuilder<unknown>[],
): Promise<void> {
  const referred = table === 'pierone_manifest_blobs' ? 'digest' : 'child';
  for (let i = 0; i < refs.length; i += 1000) {
    await sql`insert into ${sql.table(table)} (repository, manifest, ${sql.ref(referred)})
      values ${sql.join(refs.slice(i, i + 1000))} on conflict do nothing`.execute(db);
  }
}

/** Fills `pierone_manifest_children` from the stored indexes, parsed in TypeScript. */
async function backfillManifestChildren(db: Kysely<unknown>): Promise<void> {
  await forEachManifestBatch(db, sql`media_type in (${sql.join(INDEX_MEDIA_TYPES)})`, (rows) =>
    insertRefs(
      db,
      'pierone_manifest_children',
      rows.flatMap((row) =>
        [...new Set(childrenOf(row.content, row.media_type))].map(
          (child) => sql`(${row.repository}, ${row.digest}, ${child})`,
        ),
      ),
    ),
  );
}

/**
 * Fills `pierone_manifest_blobs` from the stored manifests, parsed in TypeScript as
 * `backfillConfigDigests` does.
 */
async function backfillManifestBlobs(db: Kysely<unknown>): Promise<void> {
  await forEachManifestBatch(db, sql`true`, (rows) =>
    insertRefs(
      db,
      'pierone_manifest_blobs',
      rows.flatMap((row) =>
        blobDigestsOf(row.content).map((blob) => sql`(${row.repository}, ${row.digest}, ${blob})`),
      ),
    ),
  );
}

/** Digests of the blobs a stored manifest refers to: config, layers and an artifact's `blobs`. */
function blobDigestsOf(content: Uint8Array): string[] {
  try {
    const manifest = JSON.parse(Buffer.from(content).toString('utf8')) as Record<string, unknown>;
    const list = (value: unknown): unknown[] => (Array.isArray(value) ? (value as unknown[]) : []);
    const descriptors: unknown[] = [
      manifest.config,
      ...list(manifest.layers),
      ...list(manifest.blobs),
      ...list(manifest.fsLayers),
    ];
    const digests = descriptors.flatMap((d) => {
      const { digest, blobSum } = (d ?? {}) as { digest?: unknown; blobSum?: unknown };
      const value = typeof digest === 'string' ? digest : blobSum;
      return typeof value === 'string' && isDigest(value) ? [value] : [];
    });
    return [...new Set(digests)];
  } catch {
    return [];
  }
}

/** Manifests read per round of the backfill: bounded memory whatever the registry holds. */
const BACKFILL_BATCH = 500;

/**
 * Fills `config_digest` of the manifests stored before the column existed, from their stored
 * bytes, here rather than lazily: the search by prefix needs every row filled, and reading
 * each manifest once at upgrade is cheap next to checking on every search. Parsed in
 * TypeScript, not with PostgreSQL's JSON functions, which refuse some JSON (`\u0000`) that the
 * push accepted: one odd manifest must not stop the upgrade. An index has no config and stays null.
 */
async function backfillConfigDigests(db: Kysely<unknown>): Promise<void> {
  await forEachManifestBatch(db, sql`true`, async (rows) => {
    const filled = rows.flatMap((row) => {
      const config = configDigestOf(row.content);
      return config === undefined ? [] : [sql`(${row.repository}, ${row.digest}, ${config})`];
    });
    if (filled.length === 0) return;
    await sql`update pierone_manifests m set config_digest = v.config
      from (values ${sql.join(filled)}) as v(repository, digest, config)
      where m.repository = v.repository and m.digest = v.digest`.execute(db);
  });
}

/** `config.digest` of a stored image manifest; undefined for an index or anything unreadable. */
function configDigestOf(content: Uint8Array): string | undefined {
  try {
    const manifest = JSON.parse(Buffer.from(content).toString('utf8')) as { config?: { digest?: unknown } };
    const digest = manifest.config?.digest;
    return typeof digest === 'string' && isDigest(digest) ? digest : undefined;
  } catch {
    return undefined;
  }
}

/** Pier One's tables, for `migrateToLatest`. */
export const pieroneMigrations: ComponentMigrations = { component: 'pierone', migrations };
