import { type Generated, type Kysely, type RawBuilder, sql, type Transaction } from 'kysely';
import type { InTransaction } from '../platform/audit/create-audit.js';
import type { UploadPart, UploadState } from '../platform/blob-store/chunked-uploads.js';
import type { ChangeFeed } from '../platform/db/change-feed.js';
import type { Database } from '../platform/db/database.js';
import { childrenOf, INDEX_MEDIA_TYPES } from './manifest.js';

interface BlobLinksTable {
  repository: string;
  digest: string;
  size: string | number | bigint;
  created: Generated<Date>;
  created_by: string;
}

interface ManifestsTable {
  repository: string;
  digest: string;
  media_type: string;
  content: Uint8Array;
  /** The config blob's digest (the image id); null for an index. */
  config_digest: string | null;
  subject: string | null;
  artifact_type: string | null;
  annotations: unknown;
  scm_source: unknown;
  created: Generated<Date>;
  created_by: string;
}

interface TagsTable {
  team: string;
  artifact: string;
  name: string;
  digest: string;
  created: Generated<Date>;
  created_by: string;
  incident_id: string | null;
  production_ready_by: string | null;
  production_ready_at: Date | null;
}

interface UploadsTable {
  id: string;
  repository: string;
  created: Generated<Date>;
  created_by: string;
  /** The staging directory holding the upload's data; null for uploads started before it was kept. */
  staging: string | null;
  /** Bytes recorded so far (the sum of the parts' sizes). */
  size: Generated<string | number>;
  updated: Generated<Date>;
  /** The chunks in order (`UploadPart[]`); null for an upload staged on one replica's disk (before 006). */
  parts: unknown;
}

interface LayerScmTable {
  digest: string;
  outcome: string;
  scm_source: unknown;
}

interface DeletedTagsTable {
  team: string;
  artifact: string;
  name: string;
  digest: string;
  deleted_at: Generated<Date>;
  deleted_by: string;
  reason: string;
}

interface DeletedManifestsTable {
  repository: string;
  digest: string;
  deleted_at: Generated<Date>;
  deleted_by: string;
  reason: string;
}

/** A tag a platform admin deleted: its name is burnt for good. */
export interface DeletedTag {
  team: string;
  artifact: string;
  name: string;
  digest: string;
  deletedAt: Date;
  deletedBy: string;
  reason: string;
}

/** Who deletes, and why (mandatory). */
export interface Deletion {
  by: string;
  reason: string;
}

/** Blobs Pier One knows of; the row every writer and the garbage collector lock (see gc/collector.ts). */
interface BlobsTable {
  digest: string;
  touched: Generated<Date>;
}

/** Which blobs a manifest refers to. */
interface ManifestBlobsTable {
  repository: string;
  manifest: string;
  digest: string;
}

/** Which manifests an index lists (what quota usage follows from a dead index). */
interface ManifestChildrenTable {
  repository: string;
  manifest: string;
  child: string;
}

interface PierOneTables {
  pierone_blobs: BlobsTable;
  pierone_manifest_blobs: ManifestBlobsTable;
  pierone_manifest_children: ManifestChildrenTable;
  pierone_deleted_tags: DeletedTagsTable;
  pierone_deleted_manifests: DeletedManifestsTable;
  pierone_blob_links: BlobLinksTable;
  pierone_manifests: ManifestsTable;
  pierone_tags: TagsTable;
  pierone_uploads: UploadsTable;
  pierone_layer_scm: LayerScmTable;
}

export interface StoredManifest {
  repository: string;
  digest: string;
  mediaType: string;
  content: Buffer;
  configDigest: string | null;
  subject: string | null;
  artifactType: string | null;
  annotations: Record<string, string> | null;
  scmSource: Record<string, unknown> | null;
  created: Date;
  createdBy: string;
}

/** A manifest the collector removed (or, dry, would). */
export interface CollectedManifest {
  repository: string;
  digest: string;
}

/**
 * The dead manifests of one repository, by the rule of `collectDeadManifests`: everything not
 * reached from a live seed through an index's children or a subject's referrers.
 *
 * An index's children are read from the stored index itself, not from
 * `pierone_manifest_children` as the quota's `countedLinks` does: during a rolling upgrade a
 * replica of the previous version stores indexes without writing that table, and a child missing
 * there whose own tag was deleted would look unreached. For the quota that over-counts for a
 * while; here it would delete a manifest a live index still lists.
 */
async function deadManifestsOf(
  db: Kysely<PierOneTables>,
  team: string,
  artifact: string,
  cutoff: RawBuilder<Date>,
): Promise<string[]> {
  const repository = `${team}/${artifact}`;
  const { rows: manifests } = await sql<{
    digest: string;
    media_type: string;
    content: Uint8Array | null;
    subject: string | null;
  }>`
    select digest, media_type, subject,
           case when media_type in (${sql.join(INDEX_MEDIA_TYPES)}) then content end as content
    from pierone_manifests where repository = ${repository}`.execute(db);
  const { rows: tagged } = await sql<{ digest: string; live: boolean; recent: boolean }>`
    select digest, true as live, false as recent from pierone_tags where team = ${team} and artifact = ${artifact}
    union all
    select digest, false as live, deleted_at >= ${cutoff} as recent from pierone_deleted_tags
    where team = ${team} and artifact = ${artifact}`.execute(db);
  const everTagged = new Set(tagged.map((t) => t.digest));
  const keep = new Set(tagged.filter((t) => t.live || t.recent).map((t) => t.digest));
  const present = new Set(manifests.map((m) => m.digest));
  const children = new Map<string, string[]>();
  const listed = new Set<string>();
  const referrers = new Map<string, string[]>();
  for (const m of manifests) {
    const listedHere = m.content ? childrenOf(m.content, m.media_type) : [];
    children.set(m.digest, listedHere);
    for (const child of listedHere) listed.add(child);
    if (m.subject && present.has(m.subject)) {
      referrers.set(m.subject, [...(referrers.get(m.subject) ?? []), m.digest]);
    }
  }
  const live = new Set<string>();
  const queue: string[] = [];
  for (const m of manifests) {
    const untouched =
      !everTagged.has(m.digest) && !listed.has(m.digest) && !(m.subject && present.has(m.subject));
    if (keep.has(m.digest) || untouched) {
      live.add(m.digest);
      queue.push(m.digest);
    }
  }
  for (let next = queue.pop(); next !== undefined; next = queue.pop()) {
    for (const reached of [...(children.get(next) ?? []), ...(referrers.get(next) ?? [])]) {
      if (present.has(reached) && !live.has(reached)) {
        live.add(reached);
        queue.push(reached);
      }
    }
  }
  return manifests
    .map((m) => m.digest)
    .filter((d) => !live.has(d))
    .sort();
}

export interface NewManifest {
  repository: string;
  digest: string;
  /**
   * Blobs the manifest refers to (config, layers): each must be linked into the repository and
   * still exist when the manifest commits, else the push fails with `MissingBlobsError`.
   */
  blobs?: readonly string[] | undefined;
  /**
   * Manifests an index lists: each must still exist in the repository when the index commits
   * (their rows are locked FOR SHARE, so the collector cannot remove one under the push).
   */
  children?: readonly string[] | undefined;
  mediaType: string;
  content: Buffer;
  configDigest: string | undefined;
  subject: string | undefined;
  artifactType: string | undefined;
  annotations: Record<string, string> | undefined;
  scmSource: Record<string, unknown> | undefined;
  createdBy: string;
}

export interface TagRecord {
  team: string;
  artifact: string;
  name: string;
  /** The manifest's digest: what the tag points to. */
  digest: string;
  /**
   * The image id, as in STUPS and `docker images`: the config blob's digest, or for an index
   * (no single config) the index's own digest.
   */
  imageId: string;
  created: Date;
  createdBy: string;
  scmSource: Record<string, unknown> | null;
  scmSourceCreated: Date | null;
  incidentId: string | null;
}

export type TagWriteOutcome =
  | { kind: 'created' }
  | { kind: 'unchanged' }
  | { kind: 'replaced'; previous: string }
  | { kind: 'conflict'; existing: string };

/** A tag write that happened: what a push's audit event records. */
export type TagWritten = Exclude<TagWriteOutcome, { kind: 'conflict' }>;

/**
 * A manifest's blobs were not all there when its transaction looked under lock (not linked into
 * the repository, or collected meanwhile): the push must fail with `MANIFEST_BLOB_UNKNOWN`.
 */
export class MissingBlobsError extends Error {
  constructor(readonly digests: string[]) {
    super(`blobs not in the repository: ${digests.join(', ')}`);
    this.name = 'MissingBlobsError';
  }
}

/** Outcome of reading a layer for `scm-source.json`. */
export type LayerScmOutcome =
  { kind: 'found'; scmSource: Record<string, unknown> } | { kind: 'absent' } | { kind: 'deleted' };

/**
 * Creates or touches blob rows, in digest order (the order every locker uses). In a transaction
 * their row locks are held until it ends; outside one, each upsert commits on its own.
 */
async function touchBlobs(trx: Kysely<PierOneTables>, digests: readonly string[]): Promise<void> {
  for (const digest of [...new Set(digests)].sort()) {
    await trx
      .insertInto('pierone_blobs')
      .values({ digest })
      .onConflict((oc) => oc.column('digest').doUpdateSet({ touched: sql<Date>`now()` }))
      .execute();
  }
}

function parseJson<T>(value: unknown): T | null {
  if (value === null || value === undefined) return null;
  return (typeof value === 'string' ? JSON.parse(value) : value) as T;
}

function toManifest(row: {
  repository: string;
  digest: string;
  media_type: string;
  content: Uint8Array;
  config_digest: string | null;
  subject: string | null;
  artifact_type: string | null;
  annotations: unknown;
  scm_source: unknown;
  created: Date;
  created_by: string;
}): StoredManifest {
  return {
    repository: row.repository,
    digest: row.digest,
    mediaType: row.media_type,
    content: Buffer.isBuffer(row.content)
      ? row.content
      : Buffer.from(row.content.buffer, row.content.byteOffset, row.content.byteLength),
    configDigest: row.config_digest,
    subject: row.subject,
    artifactType: row.artifact_type,
    annotations: parseJson(row.annotations),
    scmSource: parseJson(row.scm_source),
    created: new Date(row.created),
    createdBy: row.created_by,
  };
}

async function burnTags(
  trx: Transaction<PierOneTables>,
  team: string,
  artifact: string,
  names: readonly string[],
  digest: string,
  deletion: Deletion,
): Promise<void> {
  if (names.length === 0) return;
  await trx
    .insertInto('pierone_deleted_tags')
    .values(
      names.map((name) => ({
        team,
        artifact,
        name,
        digest,
        deleted_by: deletion.by,
        reason: deletion.reason,
      })),
    )
    .onConflict((oc) => oc.columns(['team', 'artifact', 'name']).doNothing())
    .execute();
}

function toDeletedTag(row: {
  team: string;
  artifact: string;
  name: string;
  digest: string;
  deleted_at: Date;
  deleted_by: string;
  reason: string;
}): DeletedTag {
  return {
    team: row.team,
    artifact: row.artifact,
    name: row.name,
    digest: row.digest,
    deletedAt: new Date(row.deleted_at),
    deletedBy: row.deleted_by,
    reason: row.reason,
  };
}

/** A small LRU map: insertion order is recency order; entries older than `ttlMs` are read afresh. */
class Lru<K, V> {
  readonly #map = new Map<K, { value: V; until: number }>();
  constructor(
    private readonly capacity: number,
    private readonly ttlMs: number = Number.POSITIVE_INFINITY,
  ) {}
  get(key: K): V | undefined {
    const entry = this.#map.get(key);
    if (entry === undefined) return undefined;
    this.#map.delete(key);
    if (entry.until <= Date.now()) return undefined;
    this.#map.set(key, entry);
    return entry.value;
  }
  set(key: K, value: V): void {
    if (this.capacity === 0) return;
    this.#map.delete(key);
    this.#map.set(key, { value, until: Date.now() + this.ttlMs });
    if (this.#map.size > this.capacity) this.#map.delete(this.#map.keys().next().value as K);
  }
  delete(key: K): void {
    this.#map.delete(key);
  }
  deleteWhere(test: (key: K) => boolean): void {
    for (const key of [...this.#map.keys()]) if (test(key)) this.#map.delete(key);
  }
  clear(): void {
    this.#map.clear();
  }
}

/**
 * Channel of the change feed on which tag writes and deletions are announced, keyed by
 * repository (`team/artifact`): every replica drops that repository's cached manifests, tags and
 * tag list on its next request after the commit.
 */
export const PIERONE_REPOSITORY_CHANNEL = 'pierone.repository';

/** Pier One's persistence. Nothing else reads these tables. */
export class PierOneStore {
  readonly #db: Kysely<PierOneTables>;
  readonly #changes: ChangeFeed;
  /**
   * Manifests never change once stored; only an admin's deletion can end one, so entries live
   * `immutableCacheTtlMs`: other replicas stop serving a deleted manifest within that time.
   */
  readonly #manifests: Lru<string, StoredManifest>;
  /** Immutable tags never point elsewhere once written; cached like manifests (deletion, TTL). */
  readonly #immutableTags: Lru<string, string>;
  /** Sorted tag names per artifact, briefly: other replicas' pushes show up within the TTL. */
  readonly #tagLists = new Map<string, { names: string[]; until: number }>();
  readonly #tagListTtlMs: number;
  /** Bumped by every tag write, so that a list read before the write is not cached after it. */
  #tagWrites = 0;
  readonly #isMutableTag: (name: string) => boolean;

  constructor(
    database: Database,
    options: {
      manifestCacheEntries?: number;
      tagListTtlMs?: number;
      /** How long a replica may answer a manifest or immutable tag from memory (default 30 s). */
      immutableCacheTtlMs?: number;
      /** Tags that may be overwritten (never cached). */
      isMutableTag?: (name: string) => boolean;
      /**
       * Runs first in every blob link's transaction and may refuse it by throwing (the team
       * quota, see PierOneQuotas.linkGuard).
       */
      linkGuard?: (repository: string, digest: string, size: number) => InTransaction<void>;
      /**
       * Runs in every manifest write's transaction once its blobs are known to be linked, and
       * may refuse it by throwing: the quota of blobs that only deleted images held, which a
       * new manifest makes count again (see PierOneQuotas.manifestGuard). `blobs` are read
       * only when the guard needs them (a team that never deleted a tag never does).
       */
      manifestGuard?: (repository: string, blobs: () => Promise<readonly string[]>) => InTransaction<void>;
    } = {},
  ) {
    this.#db = database.kysely<PierOneTables>();
    this.#changes = database.changes;
    // The TTLs stay as the bound while the feed's connection is down (see change-feed.ts).
    this.#changes.subscribe(PIERONE_REPOSITORY_CHANNEL, (repository) => this.#dropRepository(repository));
    const ttl = options.immutableCacheTtlMs ?? 30_000;
    this.#manifests = new Lru(options.manifestCacheEntries ?? 2000, ttl);
    this.#immutableTags = new Lru(options.manifestCacheEntries ?? 2000, ttl);
    this.#tagListTtlMs = options.tagListTtlMs ?? 1000;
    this.#isMutableTag = options.isMutableTag ?? (() => false);
    this.#linkGuard = options.linkGuard;
    this.#manifestGuard = options.manifestGuard;
  }

  /** Forgets what this process cached of `repository` (of every repository when undefined). */
  #dropRepository(repository: string | undefined): void {
    // A tag list read in flight before the other replica's commit must not be cached.
    this.#tagWrites++;
    if (repository === undefined) {
      this.#manifests.clear();
      this.#immutableTags.clear();
      this.#tagLists.clear();
      return;
    }
    this.#manifests.deleteWhere((key) => key.startsWith(`${repository}@`));
    this.#immutableTags.deleteWhere((key) => key.startsWith(`${repository}:`));
    this.#tagLists.delete(repository);
  }

  /** In the transaction of a tag write or deletion: every replica drops the repository's caches on commit. */
  #repositoryChanged(trx: Transaction<PierOneTables>, team: string, artifact: string): Promise<void> {
    return this.#changes.notify(trx, PIERONE_REPOSITORY_CHANNEL, `${team}/${artifact}`);
  }

  readonly #linkGuard:
    ((repository: string, digest: string, size: number) => InTransaction<void>) | undefined;
  readonly #manifestGuard:
    ((repository: string, blobs: () => Promise<readonly string[]>) => InTransaction<void>) | undefined;

  // --- blobs ---------------------------------------------------------------------------------

  /**
   * Links a blob into `repository` and runs `inTransaction` (its audit event) in the same
   * transaction: a link whose event cannot be written is not kept.
   */
  async linkBlob(
    repository: string,
    digest: string,
    size: number,
    createdBy: string,
    inTransaction: InTransaction<void>,
    /** Whether the bytes are (still) in the blob store; asked under the blob's row lock. */
    bytesExist?: () => Promise<boolean>,
    /**
     * The upload this link finishes: its record is deleted in the same transaction (one round
     * trip fewer than a statement of its own, and a link that fails leaves the upload as it was,
     * for the client to retry). Returns that upload's chunks, undefined when it was gone.
     */
    endUpload?: string,
  ): Promise<UploadPart[] | undefined> {
    return this.#db.transaction().execute(async (trx) => {
      // The blob's row first (created or touched, locked until commit): the collector cannot
      // judge it meanwhile, and whatever it did before is visible to the check below.
      await touchBlobs(trx, [digest]);
      if (bytesExist && !(await bytesExist())) throw new MissingBlobsError([digest]);
      // The team's quota, checked under the same transaction as the link it would allow.
      await this.#linkGuard?.(repository, digest, size)(trx, undefined);
      let parts: UploadPart[] | undefined;
      if (endUpload === undefined) {
        await trx
          .insertInto('pierone_blob_links')
          .values({ repository, digest, size, created_by: createdBy })
          .onConflict((oc) => oc.columns(['repository', 'digest']).doNothing())
          .execute();
      } else {
        // The link and the upload's end in one statement (one round trip).
        const { rows } = await sql<{ parts: unknown }>`
          with linked as (
            insert into pierone_blob_links (repository, digest, size, created_by)
            values (${repository}, ${digest}, ${size}, ${createdBy})
            on conflict (repository, digest) do nothing)
          delete from pierone_uploads where id = ${endUpload} returning parts`.execute(trx);
        parts = rows[0] && partsOf(rows[0].parts);
      }
      await inTransaction(trx, undefined);
      return parts;
    });
  }

  /** The blob's size if `repository` may serve it. */
  async linkedBlobSize(repository: string, digest: string): Promise<number | undefined> {
    const row = await this.#db
      .selectFrom('pierone_blob_links')
      .select('size')
      .where('repository', '=', repository)
      .where('digest', '=', digest)
      .executeTakeFirst();
    return row ? Number(row.size) : undefined;
  }

  /** Which of `digests` are linked to `repository`. */
  async linkedBlobs(repository: string, digests: readonly string[]): Promise<Set<string>> {
    if (digests.length === 0) return new Set();
    const rows = await this.#db
      .selectFrom('pierone_blob_links')
      .select('digest')
      .where('repository', '=', repository)
      .where('digest', 'in', digests)
      .execute();
    return new Set(rows.map((r) => r.digest));
  }

  /**
   * Announces that `digest` is about to be published (an upload finishing, a monolithic PUT): its
   * row is created or touched, so the collector's grace period counts from now. This is the one
   * place that tells the collector about uploads in progress.
   */
  async announceBlob(digest: string): Promise<void> {
    // One statement, autocommitted: no BEGIN/COMMIT round trips around a single upsert.
    await touchBlobs(this.#db, [digest]);
  }

  /**
   * `announceBlob(digest)` and `uploadState(id)` in one statement (one round trip when an upload
   * finishes): a data-modifying WITH runs to completion whether or not the query reads it.
   */
  async announceUpload(id: string, digest: string): Promise<UploadState | undefined> {
    const { rows } = await sql<{ size: string | number; parts: unknown }>`
      with touched as (
        insert into pierone_blobs (digest) values (${digest})
        on conflict (digest) do update set touched = now())
      select size, parts from pierone_uploads where id = ${id} and parts is not null`.execute(this.#db);
    const [row] = rows;
    return row && { size: Number(row.size), parts: partsOf(row.parts) };
  }

  // --- uploads -------------------------------------------------------------------------------

  async createUpload(id: string, repository: string, createdBy: string): Promise<void> {
    await this.#db
      .insertInto('pierone_uploads')
      .values({ id, repository, created_by: createdBy, parts: sql`'[]'::jsonb` })
      .execute();
  }

  /** The repository of a shared upload (one recorded with parts), else undefined. */
  /** Which of `ids` still have an upload record (for the purge of orphaned chunks). */
  async existingUploads(ids: readonly string[]): Promise<Set<string>> {
    const found = new Set<string>();
    for (let i = 0; i < ids.length; i += 1000) {
      const rows = await this.#db
        .selectFrom('pierone_uploads')
        .select('id')
        .where('id', 'in', ids.slice(i, i + 1000))
        .execute();
      for (const row of rows) found.add(row.id);
    }
    return found;
  }

  async uploadRepository(id: string): Promise<string | undefined> {
    const row = await this.#db
      .selectFrom('pierone_uploads')
      .select('repository')
      .where('id', '=', id)
      .where('parts', 'is not', null)
      .executeTakeFirst();
    return row?.repository;
  }

  /** Size and chunks of a shared upload. */
  async uploadState(id: string): Promise<UploadState | undefined> {
    const row = await this.#db
      .selectFrom('pierone_uploads')
      .select(['size', 'parts'])
      .where('id', '=', id)
      .where('parts', 'is not', null)
      .executeTakeFirst();
    return row && { size: Number(row.size), parts: partsOf(row.parts) };
  }

  /**
   * Records a chunk if the upload still ends where it starts: one statement, so of two requests
   * racing at one offset exactly one updates the row.
   */
  async addUploadPart(
    id: string,
    part: UploadPart,
  ): Promise<{ ok: true; size: number } | { ok: false; size: number | undefined }> {
    const entry = JSON.stringify([{ key: part.key, start: part.start, size: part.size }]);
    const { rows } = await sql<{ size: string | number }>`
      update pierone_uploads
      set size = size + ${part.size}, updated = now(), parts = parts || ${entry}::jsonb
      where id = ${id} and size = ${part.start} and parts is not null
      returning size`.execute(this.#db);
    const [row] = rows;
    if (row) return { ok: true, size: Number(row.size) };
    return { ok: false, size: (await this.uploadState(id))?.size };
  }

  /** Marks an upload as written to now (a chunk still streaming in): the purge counts from here. */
  async touchUpload(id: string): Promise<void> {
    await this.#db
      .updateTable('pierone_uploads')
      .set({ updated: sql`now()` })
      .where('id', '=', id)
      .where('parts', 'is not', null)
      .execute();
  }

  /** Deletes an upload's record and returns its chunks (undefined when it was gone already). */
  async deleteUpload(id: string): Promise<UploadPart[] | undefined> {
    const row = await this.#db
      .deleteFrom('pierone_uploads')
      .where('id', '=', id)
      .returning('parts')
      .executeTakeFirst();
    return row && partsOf(row.parts);
  }

  /**
   * Deletes, in batches, uploads not written to since `before`, each batch together with what
   * `inTransaction` writes (the purge's audit event); returns the deleted ids and their chunks.
   * A chunk recorded meanwhile moves `updated` on, so a live upload is never taken.
   */
  async deleteStaleUploads(
    before: Date,
    inTransaction: InTransaction<string[]>,
    batch = 500,
  ): Promise<Array<{ id: string; parts: UploadPart[] }>> {
    const deleted: Array<{ id: string; parts: UploadPart[] }> = [];
    for (;;) {
      const rows = await this.#db.transaction().execute(async (trx) => {
        const gone = await trx
          .deleteFrom('pierone_uploads')
          .where(
            'id',
            'in',
            trx
              .selectFrom('pierone_uploads')
              .select('id')
              .where('updated', '<', before)
              .orderBy('updated')
              .limit(batch),
          )
          .where('updated', '<', before)
          .returning(['id', 'parts'])
          .execute();
        if (gone.length > 0)
          await inTransaction(
            trx,
            gone.map((r) => r.id),
          );
        return gone;
      });
      deleted.push(...rows.map((r) => ({ id: r.id, parts: partsOf(r.parts) })));
      if (rows.length < batch) return deleted;
    }
  }

  /**
   * Chunk keys of every unfinished upload, in pages after `after`: what blob garbage collection
   * or a sweep of the `uploads/` prefix must leave alone.
   */
  async uploadPartKeys(after: string | undefined, limit: number): Promise<{ ids: string[]; keys: string[] }> {
    let q = this.#db.selectFrom('pierone_uploads').select(['id', 'parts']).where('parts', 'is not', null);
    if (after !== undefined) q = q.where('id', '>', after);
    const rows = await q.orderBy('id').limit(limit).execute();
    return { ids: rows.map((r) => r.id), keys: rows.flatMap((r) => partsOf(r.parts).map((p) => p.key)) };
  }

  // --- manifests -----------------------------------------------------------------------------

  async getManifest(repository: string, digest: string): Promise<StoredManifest | undefined> {
    const key = `${repository}@${digest}`;
    const cached = this.#manifests.get(key);
    if (cached) return cached;
    const writes = this.#tagWrites;
    const row = await this.#db
      .selectFrom('pierone_manifests')
      .selectAll()
      .where('repository', '=', repository)
      .where('digest', '=', digest)
      .executeTakeFirst();
    if (!row) return undefined;
    const manifest = toManifest(row);
    // A deletion announced while this read was under way may postdate it: not cached then.
    if (writes === this.#tagWrites) this.#manifests.set(key, manifest);
    return manifest;
  }

  async existingManifests(repository: string, digests: readonly string[]): Promise<Set<string>> {
    if (digests.length === 0) return new Set();
    const rows = await this.#db
      .selectFrom('pierone_manifests')
      .select('digest')
      .where('repository', '=', repository)
      .where('digest', 'in', digests)
      .execute();
    return new Set(rows.map((r) => r.digest));
  }

  async repositoryExists(repository: string): Promise<boolean> {
    const row = await this.#db
      .selectFrom('pierone_manifests')
      .select('digest')
      .where('repository', '=', repository)
      .limit(1)
      .executeTakeFirst();
    return row !== undefined;
  }

  /**
   * Stores a manifest and, when `tag` is given, points the tag at it, in one transaction with
   * `inTransaction` (the push's audit event): if the tag or the event cannot be written, nothing
   * is kept (a manifest that was there before stays). A conflict with an immutable tag runs no
   * `inTransaction` and writes nothing.
   */
  async putManifest(
    manifest: NewManifest,
    tag: { team: string; artifact: string; name: string; mutable: boolean } | undefined,
    inTransaction: InTransaction<TagWritten | undefined>,
  ): Promise<TagWriteOutcome | undefined> {
    const outcome = await this.#writeManifest(manifest, tag, inTransaction);
    // This process's list shows the push at once; other replicas drop theirs on the feed's notification.
    if (tag) {
      this.#tagWrites++;
      this.#tagLists.delete(`${tag.team}/${tag.artifact}`);
    }
    return outcome;
  }

  /**
   * Stores a manifest and points several tags at it (`PUT …/manifests/<digest>?tag=a&tag=b`) in
   * one transaction: one immutable tag already pointing elsewhere fails the whole push.
   */
  async putManifestWithTags(
    manifest: NewManifest,
    tags: ReadonlyArray<{ team: string; artifact: string; name: string; mutable: boolean }>,
    inTransaction: InTransaction<TagWritten[]>,
  ): Promise<
    { kind: 'written'; written: TagWritten[] } | { kind: 'conflict'; tag: string; existing: string }
  > {
    try {
      const written = await this.#db.transaction().execute(async (trx) => {
        const outcomes: TagWritten[] = [];
        for (const tag of tags) {
          try {
            const outcome = await this.#writeManifestIn(trx, manifest, tag);
            if (outcome) outcomes.push(outcome);
          } catch (error) {
            if (error instanceof TagConflict) throw new TagConflict(error.existing, tag.name);
            throw error;
          }
        }
        await inTransaction(trx, outcomes);
        return outcomes;
      });
      return { kind: 'written', written };
    } catch (error) {
      if (error instanceof TagConflict)
        return { kind: 'conflict', tag: error.tag ?? '', existing: error.existing };
      throw error;
    } finally {
      for (const tag of tags) this.#tagLists.delete(`${tag.team}/${tag.artifact}`);
      this.#tagWrites++;
    }
  }

  #writeManifest(
    manifest: NewManifest,
    tag: { team: string; artifact: string; name: string; mutable: boolean } | undefined,
    inTransaction: InTransaction<TagWritten | undefined>,
  ): Promise<TagWriteOutcome | undefined> {
    return this.#db
      .transaction()
      .execute(async (trx) => {
        const outcome = await this.#writeManifestIn(trx, manifest, tag);
        await inTransaction(trx, outcome);
        return outcome;
      })
      .catch((error: unknown) => {
        if (error instanceof TagConflict) return { kind: 'conflict', existing: error.existing } as const;
        throw error;
      });
  }

  async #writeManifestIn(
    trx: Transaction<PierOneTables>,
    manifest: NewManifest,
    tag: { team: string; artifact: string; name: string; mutable: boolean } | undefined,
  ): Promise<TagWritten | undefined> {
    const blobs = [...new Set(manifest.blobs ?? [])].sort();
    if (blobs.length > 0) {
      // The GC invariant, writer's side: the blobs' rows are locked FOR SHARE (in digest order,
      // as the collector locks them) before the links are read in a later statement. The
      // collector deletes a link or a blob only while holding that row FOR UPDATE, so either
      // it finished first (row or link gone: the push fails) or it waits for this commit and
      // then sees the manifest's references.
      const rows = await trx
        .selectFrom('pierone_blobs')
        .select('digest')
        .where('digest', 'in', blobs)
        .orderBy('digest')
        .forShare()
        .execute();
      const linked = await trx
        .selectFrom('pierone_blob_links')
        .select('digest')
        .where('repository', '=', manifest.repository)
        .where('digest', 'in', blobs)
        .execute();
      const present = new Set(rows.map((r) => r.digest));
      const inRepository = new Set(linked.map((r) => r.digest));
      const missing = blobs.filter((d) => !present.has(d) || !inRepository.has(d));
      if (missing.length > 0) throw new MissingBlobsError(missing);
    }
    const children = [...new Set(manifest.children ?? [])].sort();
    if (children.length > 0) {
      // The dead-manifest collector deletes manifest rows under their row locks: either it went
      // first (a child is gone and the push fails, to be repeated) or it waits for this commit
      // and then sees the index live.
      const present = await trx
        .selectFrom('pierone_manifests')
        .select('digest')
        .where('repository', '=', manifest.repository)
        .where('digest', 'in', children)
        .orderBy('digest')
        .forShare()
        .execute();
      const found = new Set(present.map((r) => r.digest));
      const missing = children.filter((d) => !found.has(d));
      if (missing.length > 0) throw new MissingBlobsError(missing);
    }
    if (this.#manifestGuard) {
      const claimed = async () => [
        ...new Set([...blobs, ...(await this.#revivedBlobs(trx, manifest, children))]),
      ];
      await this.#manifestGuard(manifest.repository, claimed)(trx, undefined);
    }
    await trx
      .insertInto('pierone_manifests')
      .values({
        repository: manifest.repository,
        digest: manifest.digest,
        media_type: manifest.mediaType,
        content: manifest.content,
        config_digest: manifest.configDigest ?? null,
        subject: manifest.subject ?? null,
        artifact_type: manifest.artifactType ?? null,
        annotations: manifest.annotations ? JSON.stringify(manifest.annotations) : null,
        scm_source: manifest.scmSource ? JSON.stringify(manifest.scmSource) : null,
        created_by: manifest.createdBy,
      })
      .onConflict((oc) => oc.columns(['repository', 'digest']).doNothing())
      .execute();
    if (blobs.length > 0) {
      await trx
        .insertInto('pierone_manifest_blobs')
        .values(
          blobs.map((digest) => ({ repository: manifest.repository, manifest: manifest.digest, digest })),
        )
        .onConflict((oc) => oc.columns(['repository', 'manifest', 'digest']).doNothing())
        .execute();
    }
    if (children.length > 0) {
      await trx
        .insertInto('pierone_manifest_children')
        .values(
          children.map((child) => ({ repository: manifest.repository, manifest: manifest.digest, child })),
        )
        .onConflict((oc) => oc.columns(['repository', 'manifest', 'child']).doNothing())
        .execute();
    }
    if (!tag) return undefined;
    const burnt = await trx
      .selectFrom('pierone_deleted_tags')
      .select('digest')
      .where('team', '=', tag.team)
      .where('artifact', '=', tag.artifact)
      .where('name', '=', tag.name)
      .executeTakeFirst();
    if (burnt) throw new TagConflict(burnt.digest, tag.name);
    const inserted = await trx
      .insertInto('pierone_tags')
      .values({
        team: tag.team,
        artifact: tag.artifact,
        name: tag.name,
        digest: manifest.digest,
        created_by: manifest.createdBy,
      })
      .onConflict((oc) => oc.columns(['team', 'artifact', 'name']).doNothing())
      .returning('name')
      .executeTakeFirst();
    if (inserted) {
      await this.#repositoryChanged(trx, tag.team, tag.artifact);
      return { kind: 'created' } as const;
    }
    const existing = await trx
      .selectFrom('pierone_tags')
      .select('digest')
      .where('team', '=', tag.team)
      .where('artifact', '=', tag.artifact)
      .where('name', '=', tag.name)
      .forUpdate()
      .executeTakeFirstOrThrow();
    if (existing.digest === manifest.digest) return { kind: 'unchanged' } as const;
    if (!tag.mutable) {
      // Undo the manifest insert too: the push failed as a whole.
      throw new TagConflict(existing.digest);
    }
    await trx
      .updateTable('pierone_tags')
      .set({ digest: manifest.digest, created: sql<Date>`now()`, created_by: manifest.createdBy })
      .where('team', '=', tag.team)
      .where('artifact', '=', tag.artifact)
      .where('name', '=', tag.name)
      .execute();
    await this.#repositoryChanged(trx, tag.team, tag.artifact);
    return { kind: 'replaced', previous: existing.digest } as const;
  }

  /**
   * Blobs a manifest push makes count for quota again besides its own: those of the children
   * an index lists and of the referrers whose subject it is, which a dead manifest of the same
   * digest may have taken out of the count (see quotas.ts `countedLinks`). One level deep: the
   * grandchildren of a revived index of indexes count again unchecked (rare, and bounded by them).
   */
  async #revivedBlobs(
    trx: Transaction<PierOneTables>,
    manifest: NewManifest,
    children: readonly string[],
  ): Promise<string[]> {
    const rows = await trx
      .selectFrom('pierone_manifest_blobs')
      .select('digest')
      .distinct()
      .where('repository', '=', manifest.repository)
      .where((eb) =>
        eb.or([
          ...(children.length > 0 ? [eb('manifest', 'in', children)] : []),
          eb(
            'manifest',
            'in',
            eb
              .selectFrom('pierone_manifests')
              .select('digest')
              .where('repository', '=', manifest.repository)
              .where('subject', '=', manifest.digest),
          ),
        ]),
      )
      .execute();
    return rows.map((r) => r.digest);
  }

  /**
   * Referrers of `subject` in `repository`, oldest first (ties by digest), optionally only of
   * one artifact type, at most `limit`, after the referrer `after` (a digest: the key of the
   * previous page's last entry; an unknown one gives an empty page, never a restart that
   * could send a client round in circles).
   */
  async referrers(
    repository: string,
    subject: string,
    page: {
      artifactType?: string | undefined;
      limit?: number | undefined;
      after?: string | undefined;
      /** `subject` is the start of the subject digest (a sha512 referrers tag holds only half). */
      subjectPrefix?: boolean | undefined;
    } = {},
  ): Promise<StoredManifest[]> {
    let q = this.#db
      .selectFrom('pierone_manifests')
      .selectAll()
      .where('repository', '=', repository)
      // A digest is `<alg>:<hex>`: no LIKE wildcard can be in it.
      .where('subject', page.subjectPrefix ? 'like' : '=', page.subjectPrefix ? `${subject}%` : subject);
    if (page.artifactType !== undefined) q = q.where('artifact_type', '=', page.artifactType);
    if (page.after !== undefined) {
      const after = page.after;
      q = q.where(
        sql<boolean>`(created, digest) > (select m.created, m.digest from pierone_manifests m
          where m.repository = ${repository} and m.digest = ${after})`,
      );
    }
    q = q.orderBy('created').orderBy('digest');
    if (page.limit !== undefined) q = q.limit(page.limit);
    return (await q.execute()).map(toManifest);
  }

  /**
   * Stores an artifact Pier One made itself (an attestation): links its blobs into `repository`
   * and writes its manifest, with `inTransaction` (the audit event) in the same transaction.
   */
  async putArtifact(
    manifest: NewManifest,
    blobs: ReadonlyArray<{ digest: string; size: number }>,
    inTransaction: InTransaction<void>,
  ): Promise<void> {
    await this.#db.transaction().execute(async (trx) => {
      await touchBlobs(
        trx,
        blobs.map((b) => b.digest),
      );
      for (const blob of blobs) {
        await trx
          .insertInto('pierone_blob_links')
          .values({
            repository: manifest.repository,
            digest: blob.digest,
            size: blob.size,
            created_by: manifest.createdBy,
          })
          .onConflict((oc) => oc.columns(['repository', 'digest']).doNothing())
          .execute();
      }
      await this.#writeManifestIn(trx, { ...manifest, blobs: blobs.map((b) => b.digest) }, undefined);
      await inTransaction(trx, undefined);
    });
  }

  async catalog(n: number | undefined, last: string | undefined): Promise<string[]> {
    let q = this.#db
      .selectFrom('pierone_manifests')
      .select(sql<string>`repository collate "C"`.as('repository'))
      .distinct();
    if (last !== undefined) q = q.where(sql`repository collate "C"`, '>', last);
    q = q.orderBy(sql`repository collate "C"`);
    if (n !== undefined) q = q.limit(n);
    return (await q.execute()).map((r) => r.repository);
  }

  // --- deletion (platform admins only; see Manifests.deleteTag) -----------------------------

  async deletedTag(team: string, artifact: string, name: string): Promise<DeletedTag | undefined> {
    const row = await this.#db
      .selectFrom('pierone_deleted_tags')
      .selectAll()
      .where('team', '=', team)
      .where('artifact', '=', artifact)
      .where('name', '=', name)
      .executeTakeFirst();
    return row ? toDeletedTag(row) : undefined;
  }

  /** Deleted tags of an artifact, newest deletion first. */
  async deletedTags(team: string, artifact: string): Promise<DeletedTag[]> {
    const rows = await this.#db
      .selectFrom('pierone_deleted_tags')
      .selectAll()
      .where('team', '=', team)
      .where('artifact', '=', artifact)
      .orderBy('deleted_at', 'desc')
      .orderBy('name')
      .execute();
    return rows.map(toDeletedTag);
  }

  /**
   * Deletes a tag, burning its name, and runs `inTransaction` (the audit event, given the digest
   * it pointed to) in the same transaction. Undefined when there is no such tag.
   */
  async deleteTag(
    team: string,
    artifact: string,
    name: string,
    deletion: Deletion,
    inTransaction: InTransaction<string>,
  ): Promise<string | undefined> {
    const digest = await this.#db.transaction().execute(async (trx) => {
      const row = await trx
        .deleteFrom('pierone_tags')
        .where('team', '=', team)
        .where('artifact', '=', artifact)
        .where('name', '=', name)
        .returning('digest')
        .executeTakeFirst();
      if (!row) return undefined;
      await burnTags(trx, team, artifact, [name], row.digest, deletion);
      await this.#repositoryChanged(trx, team, artifact);
      await inTransaction(trx, row.digest);
      return row.digest;
    });
    this.#forgetTags(team, artifact, [name]);
    return digest;
  }

  /**
   * Deletes a manifest and every tag pointing at it (burning their names), unlinks from the
   * repository the blobs (`blobsOf`) no other manifest there refers to, so they cannot be pulled
   * through it any more, and runs `inTransaction` (the audit event) in the same transaction.
   * Undefined when the repository holds no such manifest.
   */
  async deleteManifest(
    team: string,
    artifact: string,
    digest: string,
    deletion: Deletion,
    blobsOf: (content: Buffer, mediaType: string) => string[],
    inTransaction: InTransaction<{ tags: string[]; unlinkedBlobs: string[] }>,
  ): Promise<{ tags: string[]; unlinkedBlobs: string[] } | undefined> {
    const repository = `${team}/${artifact}`;
    const result = await this.#db.transaction().execute(async (trx) => {
      const outcome = await this.#deleteManifestIn(trx, team, artifact, digest, deletion, blobsOf);
      if (outcome) await inTransaction(trx, outcome);
      return outcome;
    });
    this.#manifests.delete(`${repository}@${digest}`);
    if (result) this.#forgetTags(team, artifact, result.tags);
    return result;
  }

  /**
   * Manifests whose every tag was deleted (issue 24: deleting tags must free storage), and what
   * only they kept. A repository's manifest is **live** when a live tag points to it; when a tag
   * on it was deleted within the grace period; when nothing refers to it and it was never tagged
   * (a push by digest: kept, as the registry spec promises); when a live index lists it; or when
   * it refers (as a referrer) to a live subject. Everything else in a repository that holds a
   * manifest whose tags were all deleted before the grace period is **dead**: such manifests, the
   * untagged children of a dead index and the referrers of a dead subject.
   *
   * Each repository's dead manifests go in one transaction, as the audited deletion by digest
   * removes them (tags burnt, blobs unlinked, `pierone_deleted_manifests` answering pulls by
   * digest), with `inTransaction` (the audit event). The writer's side of the lock protocol: the
   * manifests' blob rows and the manifest rows are locked FOR UPDATE first (digest order) and
   * liveness is decided again after, so a push that tags one of them again either committed
   * first (it is kept) or waits and then finds it gone (the push fails and is repeated). The blob
   * collector frees the bytes later, under its own rules.
   */
  async collectDeadManifests(options: {
    graceSeconds: number;
    /** Repositories handled per call (the rest wait for the next run). */
    repositories: number;
    dryRun: boolean;
    deletion: Deletion;
    blobsOf: (content: Buffer, mediaType: string) => string[];
    inTransaction: InTransaction<CollectedManifest[]>;
  }): Promise<CollectedManifest[]> {
    const cutoff = sql<Date>`now() - make_interval(secs => ${options.graceSeconds})`;
    const { rows: repositories } = await sql<{ repository: string }>`
      select distinct m.repository from pierone_manifests m
      join pierone_deleted_tags d on d.team || '/' || d.artifact = m.repository and d.digest = m.digest
      where not exists (select 1 from pierone_tags t
                        where t.team || '/' || t.artifact = m.repository and t.digest = m.digest)
      group by m.repository, m.digest
      having max(d.deleted_at) < ${cutoff}
      order by m.repository
      limit ${options.repositories}`.execute(this.#db);
    const collected: CollectedManifest[] = [];
    for (const { repository } of repositories) {
      const slash = repository.indexOf('/');
      const team = repository.slice(0, slash);
      const artifact = repository.slice(slash + 1);
      const planned = await deadManifestsOf(this.#db, team, artifact, cutoff);
      if (planned.length === 0) continue;
      if (options.dryRun) {
        collected.push(...planned.map((digest) => ({ repository, digest })));
        continue;
      }
      const done = await this.#db.transaction().execute(async (trx) => {
        await sql`select b.digest from pierone_blobs b
          where b.digest in (select r.digest from pierone_manifest_blobs r
                             where r.repository = ${repository}
                               and r.manifest in (${sql.join(planned)}))
          order by b.digest for update`.execute(trx);
        await sql`select digest from pierone_manifests
          where repository = ${repository} and digest in (${sql.join(planned)})
          order by digest for update`.execute(trx);
        // Decided again now that writers of these rows are done: what they tagged stays.
        const dead = new Set(await deadManifestsOf(trx, team, artifact, cutoff));
        const gone: CollectedManifest[] = [];
        for (const digest of planned.filter((d) => dead.has(d))) {
          const outcome = await this.#deleteManifestIn(
            trx,
            team,
            artifact,
            digest,
            options.deletion,
            options.blobsOf,
          );
          if (outcome) gone.push({ repository, digest });
        }
        if (gone.length > 0) await options.inTransaction(trx, gone);
        return gone;
      });
      for (const { digest } of done) this.#manifests.delete(`${repository}@${digest}`);
      if (done.length > 0) this.#forgetTags(team, artifact, []);
      collected.push(...done);
    }
    return collected;
  }

  /** `deleteManifest`'s work inside `trx`; see there. */
  async #deleteManifestIn(
    trx: Transaction<PierOneTables>,
    team: string,
    artifact: string,
    digest: string,
    deletion: Deletion,
    blobsOf: (content: Buffer, mediaType: string) => string[],
  ): Promise<{ tags: string[]; unlinkedBlobs: string[] } | undefined> {
    const repository = `${team}/${artifact}`;
    const gone = await trx
      .deleteFrom('pierone_manifests')
      .where('repository', '=', repository)
      .where('digest', '=', digest)
      .returning(['content', 'media_type'])
      .executeTakeFirst();
    if (!gone) return undefined;
    const refs = await trx
      .deleteFrom('pierone_manifest_blobs')
      .where('repository', '=', repository)
      .where('manifest', '=', digest)
      .returning('digest')
      .execute();
    await trx
      .deleteFrom('pierone_manifest_children')
      .where('repository', '=', repository)
      .where('manifest', '=', digest)
      .execute();
    const candidates = [
      ...new Set([...refs.map((r) => r.digest), ...blobsOf(Buffer.from(gone.content), gone.media_type)]),
    ].sort();
    let unlinkedBlobs: string[] = [];
    if (candidates.length > 0) {
      // Unlinking is the collector's kind of write: under the blobs' row locks (digest order),
      // so that a push of another manifest referring to them either committed before (and the
      // check below sees its references) or waits and then finds the links gone.
      await trx
        .selectFrom('pierone_blobs')
        .select('digest')
        .where('digest', 'in', candidates)
        .orderBy('digest')
        .forUpdate()
        .execute();
      unlinkedBlobs = (
        await trx
          .deleteFrom('pierone_blob_links')
          .where('repository', '=', repository)
          .where('digest', 'in', candidates)
          .where((eb) =>
            eb.not(
              eb.exists(
                eb
                  .selectFrom('pierone_manifest_blobs as r')
                  .select('r.digest')
                  .whereRef('r.digest', '=', 'pierone_blob_links.digest')
                  .where('r.repository', '=', repository),
              ),
            ),
          )
          .returning('digest')
          .execute()
      )
        .map((r) => r.digest)
        .sort();
    }
    const names = (
      await trx
        .deleteFrom('pierone_tags')
        .where('team', '=', team)
        .where('artifact', '=', artifact)
        .where('digest', '=', digest)
        .returning('name')
        .execute()
    )
      .map((r) => r.name)
      .sort();
    await burnTags(trx, team, artifact, names, digest, deletion);
    await this.#repositoryChanged(trx, team, artifact);
    await trx
      .insertInto('pierone_deleted_manifests')
      .values({ repository, digest, deleted_by: deletion.by, reason: deletion.reason })
      .onConflict((oc) => oc.columns(['repository', 'digest']).doUpdateSet({ deleted_at: sql<Date>`now()` }))
      .execute();
    return { tags: names, unlinkedBlobs };
  }

  /**
   * Drops this process's cached answers for deleted tags at once; other replicas drop theirs on the
   * change feed's notification (at worst their entries expire
   * within `immutableCacheTtlMs`).
   */
  #forgetTags(team: string, artifact: string, names: readonly string[]): void {
    for (const name of names) this.#immutableTags.delete(`${team}/${artifact}:${name}`);
    this.#tagLists.delete(`${team}/${artifact}`);
    this.#tagWrites++;
  }

  // --- tags ----------------------------------------------------------------------------------

  async tagDigest(team: string, artifact: string, name: string): Promise<string | undefined> {
    const key = `${team}/${artifact}:${name}`;
    const cached = this.#immutableTags.get(key);
    if (cached !== undefined) return cached;
    const writes = this.#tagWrites;
    const row = await this.#db
      .selectFrom('pierone_tags')
      .select('digest')
      .where('team', '=', team)
      .where('artifact', '=', artifact)
      .where('name', '=', name)
      .executeTakeFirst();
    if (row && !this.#isMutableTag(name) && writes === this.#tagWrites)
      this.#immutableTags.set(key, row.digest);
    return row?.digest;
  }

  /** The tag pushed last, which is what `latest` means in Pier One. */
  async newestTagDigest(team: string, artifact: string): Promise<string | undefined> {
    const row = await this.#db
      .selectFrom('pierone_tags')
      .select('digest')
      .where('team', '=', team)
      .where('artifact', '=', artifact)
      .orderBy('created', 'desc')
      .orderBy('name', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row?.digest;
  }

  /** Tag names in ASCII order, after `last`, at most `n`. */
  async tagNames(
    team: string,
    artifact: string,
    n: number | undefined,
    last: string | undefined,
  ): Promise<string[]> {
    const key = `${team}/${artifact}`;
    const now = Date.now();
    let entry = this.#tagLists.get(key);
    if (!entry || entry.until <= now) {
      const writes = this.#tagWrites;
      const rows = await this.#db
        .selectFrom('pierone_tags')
        .select('name')
        .where('team', '=', team)
        .where('artifact', '=', artifact)
        .orderBy(sql`name collate "C"`)
        .execute();
      entry = { names: rows.map((r) => r.name), until: now + this.#tagListTtlMs };
      if (this.#tagListTtlMs > 0 && writes === this.#tagWrites) {
        if (this.#tagLists.size >= 10_000) this.#tagLists.clear();
        this.#tagLists.set(key, entry);
      }
    }
    let names = entry.names;
    if (last !== undefined) {
      // Byte order, as the database's "C" collation sorts.
      const after = Buffer.from(last);
      const start = names.findIndex((name) => Buffer.compare(Buffer.from(name), after) > 0);
      names = start < 0 ? [] : names.slice(start);
    }
    return n === undefined ? names : names.slice(0, n);
  }

  #tagQuery() {
    return this.#db
      .selectFrom('pierone_tags as t')
      .leftJoin('pierone_manifests as m', (join) =>
        join.on(sql`m.repository`, '=', sql`t.team || '/' || t.artifact`).onRef('m.digest', '=', 't.digest'),
      )
      .select([
        't.team',
        't.artifact',
        't.name',
        't.digest',
        't.created',
        't.created_by',
        't.incident_id',
        'm.config_digest',
        'm.scm_source',
        'm.created as manifest_created',
      ]);
  }

  static #toTag(row: {
    team: string;
    artifact: string;
    name: string;
    digest: string;
    created: Date;
    created_by: string;
    incident_id: string | null;
    config_digest: string | null;
    scm_source: unknown;
    manifest_created: Date | null;
  }): TagRecord {
    return {
      team: row.team,
      artifact: row.artifact,
      name: row.name,
      digest: row.digest,
      imageId: row.config_digest ?? row.digest,
      created: new Date(row.created),
      createdBy: row.created_by,
      scmSource: parseJson(row.scm_source),
      scmSourceCreated: row.manifest_created ? new Date(row.manifest_created) : null,
      incidentId: row.incident_id,
    };
  }

  /** Tags of one artifact, oldest first. */
  async tags(team: string, artifact: string): Promise<TagRecord[]> {
    const rows = await this.#tagQuery()
      .where('t.team', '=', team)
      .where('t.artifact', '=', artifact)
      .orderBy('t.created')
      .orderBy('t.name')
      .execute();
    return rows.map(PierOneStore.#toTag);
  }

  async tag(team: string, artifact: string, name: string): Promise<TagRecord | undefined> {
    const row = await this.#tagQuery()
      .where('t.team', '=', team)
      .where('t.artifact', '=', artifact)
      .where('t.name', '=', name)
      .executeTakeFirst();
    return row ? PierOneStore.#toTag(row) : undefined;
  }

  /**
   * Readiness: the tables answer. One indexed row at most, whatever the registry holds, so a
   * health probe never grows with the number of tags.
   */
  async probe(): Promise<void> {
    await this.#db.selectFrom('pierone_tags').select('name').limit(1).execute();
    await this.#db.selectFrom('pierone_uploads').select('id').limit(1).execute();
  }

  async teams(): Promise<string[]> {
    const rows = await this.#db
      .selectFrom('pierone_tags')
      .select('team')
      .distinct()
      .orderBy('team')
      .execute();
    return rows.map((r) => r.team);
  }

  async artifacts(team: string): Promise<string[]> {
    const rows = await this.#db
      .selectFrom('pierone_tags')
      .select('artifact')
      .distinct()
      .where('team', '=', team)
      .orderBy('artifact')
      .execute();
    return rows.map((r) => r.artifact);
  }

  /**
   * Tags whose image id (config digest) or manifest digest starts with `prefix` (`sha256:…`),
   * at most `limit` of each kind. Two indexed prefix scans rather than one `or`, which could
   * use neither index.
   */
  async tagsByDigestPrefix(prefix: string, limit: number): Promise<TagRecord[]> {
    const pattern = `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    const byManifest = await this.#tagQuery()
      .where('t.digest', 'like', pattern)
      .orderBy('t.digest')
      .orderBy('t.team')
      .orderBy('t.artifact')
      .orderBy('t.name')
      .limit(limit)
      .execute();
    const byConfig = await this.#tagQuery()
      .where('m.config_digest', 'like', pattern)
      .orderBy('m.config_digest')
      .orderBy('t.team')
      .orderBy('t.artifact')
      .orderBy('t.name')
      .limit(limit)
      .execute();
    const seen = new Set<string>();
    const tags: TagRecord[] = [];
    for (const row of [...byManifest, ...byConfig]) {
      const key = `${row.team}/${row.artifact}:${row.name}`;
      if (seen.has(key)) continue;
      seen.add(key);
      tags.push(PierOneStore.#toTag(row));
    }
    return tags;
  }

  /**
   * Marks a tag production-ready and runs `inTransaction` (the mark's audit event) in the same
   * transaction; false, with nothing written, when there is no such tag.
   */
  async markProductionReady(
    team: string,
    artifact: string,
    name: string,
    mark: { incidentId: string; by: string },
    inTransaction: InTransaction<void>,
  ): Promise<boolean> {
    return this.#db.transaction().execute(async (trx) => {
      const result = await trx
        .updateTable('pierone_tags')
        .set({
          incident_id: mark.incidentId,
          production_ready_by: mark.by,
          production_ready_at: sql<Date>`now()`,
        })
        .where('team', '=', team)
        .where('artifact', '=', artifact)
        .where('name', '=', name)
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) === 0) return false;
      await inTransaction(trx, undefined);
      return true;
    });
  }

  // --- scm-source scan cache -----------------------------------------------------------------

  async layerScm(digest: string): Promise<LayerScmOutcome | undefined> {
    const row = await this.#db
      .selectFrom('pierone_layer_scm')
      .selectAll()
      .where('digest', '=', digest)
      .executeTakeFirst();
    if (!row) return undefined;
    if (row.outcome === 'found') {
      return { kind: 'found', scmSource: parseJson<Record<string, unknown>>(row.scm_source) ?? {} };
    }
    return { kind: row.outcome === 'deleted' ? 'deleted' : 'absent' };
  }

  async rememberLayerScm(digest: string, outcome: LayerScmOutcome): Promise<void> {
    await this.#db
      .insertInto('pierone_layer_scm')
      .values({
        digest,
        outcome: outcome.kind,
        scm_source: outcome.kind === 'found' ? JSON.stringify(outcome.scmSource) : null,
      })
      .onConflict((oc) => oc.column('digest').doNothing())
      .execute();
  }
}

class TagConflict extends Error {
  constructor(
    readonly existing: string,
    readonly tag?: string,
  ) {
    super(`tag points to ${existing}`);
  }
}

/** The `parts` column as stored (jsonb arrives parsed, or as text from some drivers). */
function partsOf(value: unknown): UploadPart[] {
  const parsed: unknown = typeof value === 'string' ? JSON.parse(value) : value;
  if (!Array.isArray(parsed)) return [];
  return parsed.map((p: { key: string; start: number | string; size: number | string }) => ({
    key: p.key,
    start: Number(p.start),
    size: Number(p.size),
  }));
}
