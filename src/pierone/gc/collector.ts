import { type Kysely, type RawBuilder, sql } from 'kysely';
import { Counter, Gauge, type Registry } from 'prom-client';
import { type AuditActor, internalRequestId } from '../../platform/audit/create-audit.js';
import type { BlobStore, StoredBlob } from '../../platform/blob-store/blob-store.js';
import type { Database } from '../../platform/db/database.js';
import type { PierOneAudit } from '../access.js';

/**
 * Online garbage collection of blob bytes.
 *
 * A blob is kept while any stored manifest refers to it (`pierone_manifest_blobs`: config,
 * layers, an artifact's blobs; an index's children and a referrer's subject are manifests, which
 * are only ever removed through the audited deletion, and they keep their own blobs), while any
 * repository link to it is younger than the grace period, and while its row was touched within
 * the grace period (an upload announcing it, a link, a mount). Everything else in the blob
 * store goes: the dangling links (no manifest of their repository refers to the blob) first,
 * then the row, then the bytes.
 *
 * THE INVARIANT (why a concurrent push never ends with a manifest whose blob is gone):
 *
 *   The collector deletes a link, a `pierone_blobs` row or a blob's bytes only inside a
 *   transaction that holds that blob's `pierone_blobs` row lock FOR UPDATE (an existing row it
 *   locked, or a claim row it inserted for bytes nobody recorded), and decides with statements
 *   run after taking the lock. Every writer that makes a blob reachable takes the same row
 *   lock in its own transaction before it reads what it depends on: a link or mount creates or
 *   touches the row and then checks that the bytes exist; a manifest PUT locks its blobs' rows
 *   FOR SHARE and then checks its links, and inserts its `pierone_manifest_blobs` references
 *   in that same transaction.
 *
 * Row locks serialise the two: if the collector's transaction came first, the writer sees the
 * row, link or bytes gone and fails (`MANIFEST_BLOB_UNKNOWN`, or an upload to repeat); if the
 * writer came first, the collector skips the locked row (SKIP LOCKED) or, having waited, sees in
 * its later statements (READ COMMITTED takes a new snapshot per statement) the references and
 * the fresh `touched` the writer committed, and keeps the blob. Locks are taken in digest order
 * on both sides. Safety does not depend on the grace period (0 is safe); the grace period is
 * what lets a push that has uploaded its layers but not yet put its manifest succeed.
 */

/** What one collection run found and did. */
export interface GcResult {
  dryRun: boolean;
  /** Blobs listed in the blob store. */
  scanned: number;
  /** Blobs whose bytes were deleted (dry run: would be). */
  deleted: number;
  bytesFreed: number;
  /** Repository links removed because no manifest of their repository refers to the blob. */
  linksRemoved: number;
  /**
   * Dead manifests removed (every tag on them deleted before the grace period; see
   * `PierOneStore.collectDeadManifests`). Dry run: would be; their blobs are counted by the run
   * after the one that removes them.
   */
  manifestsDeleted: number;
  /** Blobs that could not be deleted from the blob store (left for the next run). */
  failed: number;
  durationMs: number;
  startedAt: Date;
  /** Dry run only: the blobs that would go (at most `listLimit`). */
  candidates?: Array<{ digest: string; size: number }>;
  /** Dry run only: the dead manifests that would go (at most `listLimit`). */
  manifestCandidates?: Array<{ repository: string; digest: string }>;
}

export interface GcRunOptions {
  /** Blobs (and links, and rows) younger than this are kept. */
  graceMs: number;
  /** List what would go and change nothing. */
  dryRun?: boolean;
  /** Blobs judged per transaction (default 500). */
  pageSize?: number;
  /** Dry run: at most this many candidates listed (default 1000). */
  listLimit?: number;
  /** Who runs it, for the audit log (default the job, `pierone`). */
  actor?: AuditActor;
  requestId?: string;
  /**
   * Called inside each batch's transaction once its rows are locked, before anything is decided:
   * for tests that interleave a writer at exactly that point.
   */
  afterLock?: (digests: string[]) => Promise<void>;
}

/** Prometheus metrics of the collector, registered once per registry. */
export class GcMetrics {
  readonly scanned: Counter;
  readonly deleted: Counter;
  readonly bytesFreed: Counter;
  readonly manifestsDeleted: Counter;
  readonly lastDuration: Gauge;
  readonly lastRun: Gauge;

  constructor(registry: Registry) {
    const counter = (name: string, help: string) =>
      (registry.getSingleMetric(name) as Counter | undefined) ??
      new Counter({ name, help, registers: [registry] });
    const gauge = (name: string, help: string) =>
      (registry.getSingleMetric(name) as Gauge | undefined) ??
      new Gauge({ name, help, registers: [registry] });
    this.scanned = counter(
      'pierone_gc_blobs_scanned_total',
      'Blobs the garbage collector listed in the blob store',
    );
    this.deleted = counter('pierone_gc_blobs_deleted_total', 'Blobs the garbage collector deleted');
    this.bytesFreed = counter('pierone_gc_bytes_freed_total', 'Bytes of blobs the garbage collector deleted');
    this.manifestsDeleted = counter(
      'pierone_gc_manifests_deleted_total',
      'Dead manifests (every tag deleted) the garbage collector removed',
    );
    this.lastDuration = gauge(
      'pierone_gc_last_run_duration_seconds',
      'How long the last garbage collection run (not dry) took',
    );
    this.lastRun = gauge(
      'pierone_gc_last_run_timestamp_seconds',
      'When the last garbage collection run (not dry) ended, Unix time',
    );
  }
}

/** Removes (or, dry, lists) dead manifests, audited as `actor`; `PierOneStore.collectDeadManifests`. */
export type DeadManifestCollector = (options: {
  graceSeconds: number;
  dryRun: boolean;
  actor: AuditActor;
  requestId: string;
}) => Promise<Array<{ repository: string; digest: string }>>;

export interface BlobCollectorDeps {
  database: Database;
  /** Dead manifests go first, so that the blob pass can free what only they kept. */
  deadManifests?: DeadManifestCollector | undefined;
  blobs: BlobStore;
  audit: PierOneAudit;
  metrics?: GcMetrics | undefined;
}

/** Pier One's tables as the collector reads them. */
type Tables = Record<string, never>;

/** See the invariant above. One instance per service; runs are not meant to overlap (the job runner). */
export class BlobCollector {
  readonly #db: Kysely<Tables>;
  readonly #blobs: BlobStore;
  readonly #audit: PierOneAudit;
  readonly #metrics: GcMetrics | undefined;
  readonly #deadManifests: DeadManifestCollector | undefined;

  constructor(deps: BlobCollectorDeps) {
    this.#deadManifests = deps.deadManifests;
    this.#db = deps.database.kysely<Tables>();
    this.#blobs = deps.blobs;
    this.#audit = deps.audit;
    this.#metrics = deps.metrics;
  }

  async run(options: GcRunOptions): Promise<GcResult> {
    const list = this.#blobs.list?.bind(this.#blobs);
    if (!list || !this.#blobs.delete)
      throw new Error(`the ${this.#blobs.kind} blob store cannot be collected`);
    const startedAt = new Date();
    const dryRun = options.dryRun ?? false;
    const listLimit = options.listLimit ?? 1000;
    const actor = options.actor ?? { uid: 'pierone' };
    const requestId = options.requestId ?? internalRequestId('pierone-gc');
    const result: GcResult = {
      dryRun,
      scanned: 0,
      deleted: 0,
      bytesFreed: 0,
      linksRemoved: 0,
      manifestsDeleted: 0,
      failed: 0,
      durationMs: 0,
      startedAt,
      ...(dryRun ? { candidates: [], manifestCandidates: [] } : {}),
    };
    const graceSeconds = Math.max(0, options.graceMs) / 1000;
    if (this.#deadManifests) {
      const dead = await this.#deadManifests({ graceSeconds, dryRun, actor, requestId });
      result.manifestsDeleted = dead.length;
      if (dryRun) result.manifestCandidates = dead.slice(0, listLimit);
      else this.#metrics?.manifestsDeleted.inc(dead.length);
    }
    for await (const page of list(options.pageSize ?? 500)) {
      result.scanned += page.length;
      this.#metrics?.scanned.inc(page.length);
      // Bytes nobody recorded are judged by when they were written (the app's clock); rows and
      // links by the database's clock.
      const writtenBefore = new Date(Date.now() - options.graceMs);
      if (dryRun) {
        const judged = await this.#judge(page, writtenBefore, graceSeconds);
        result.deleted += judged.blobs.length;
        result.bytesFreed += judged.blobs.reduce((sum, b) => sum + b.size, 0);
        result.linksRemoved += judged.links;
        for (const blob of judged.blobs) {
          if (result.candidates!.length < listLimit) result.candidates!.push(blob);
        }
      } else {
        const done = await this.#collect(
          page,
          writtenBefore,
          graceSeconds,
          actor,
          requestId,
          options.afterLock,
        );
        result.deleted += done.deleted.length;
        result.bytesFreed += done.bytes;
        result.linksRemoved += done.links;
        result.failed += done.failed;
        this.#metrics?.deleted.inc(done.deleted.length);
        this.#metrics?.bytesFreed.inc(done.bytes);
      }
    }
    result.durationMs = Date.now() - startedAt.getTime();
    if (!dryRun) {
      this.#metrics?.lastDuration.set(result.durationMs / 1000);
      this.#metrics?.lastRun.set(Date.now() / 1000);
    }
    await this.#audit.standalone({
      event: 'pierone.gc.run',
      actor,
      details: {
        dry_run: dryRun,
        grace_seconds: graceSeconds,
        scanned: result.scanned,
        deleted: result.deleted,
        bytes_freed: result.bytesFreed,
        links_removed: result.linksRemoved,
        manifests_deleted: result.manifestsDeleted,
        failed: result.failed,
        duration_ms: result.durationMs,
      },
      requestId,
    });
    return result;
  }

  /** One page, for real: lock, decide, delete links, rows and bytes, commit with its audit event. */
  async #collect(
    page: StoredBlob[],
    writtenBefore: Date,
    graceSeconds: number,
    actor: AuditActor,
    requestId: string,
    afterLock: GcRunOptions['afterLock'],
  ): Promise<{ deleted: string[]; bytes: number; links: number; failed: number }> {
    const sizes = new Map(page.map((b) => [b.digest, b.size]));
    return this.#db.transaction().execute(async (trx) => {
      const cutoff = sql`now() - make_interval(secs => ${graceSeconds})`;
      // Bytes without a row (published, never linked, or older than the rows): claim them with a
      // row of our own, locked by its insert until commit, if they are old enough.
      const unrecorded = page.filter((b) => b.modified < writtenBefore);
      if (unrecorded.length > 0) {
        await sql`insert into pierone_blobs (digest, touched)
          values ${sql.join(unrecorded.map((b) => sql`(${b.digest}, ${b.modified})`))}
          on conflict (digest) do nothing`.execute(trx);
      }
      // The lock. Rows a writer holds are skipped: they are in use right now.
      const { rows: locked } = await sql<{ digest: string }>`
        select digest from pierone_blobs
        where digest in (${digestList(page)}) and touched < ${cutoff}
        order by digest for update skip locked`.execute(trx);
      if (locked.length === 0) return { deleted: [], bytes: 0, links: 0, failed: 0 };
      await afterLock?.(locked.map((r) => r.digest));
      const mine = digestList(locked);
      // From here on, new statements: they see every writer that held these rows before us.
      const { rows: links } = await sql<{ digest: string }>`
        delete from pierone_blob_links l
        where l.digest in (${mine}) and l.created < ${cutoff}
          and not exists (select 1 from pierone_manifest_blobs r
                          where r.digest = l.digest and r.repository = l.repository)
        returning l.digest`.execute(trx);
      const { rows: gone } = await sql<{ digest: string }>`
        delete from pierone_blobs b
        where b.digest in (${mine})
          and not exists (select 1 from pierone_manifest_blobs r where r.digest = b.digest)
          and not exists (select 1 from pierone_blob_links l where l.digest = b.digest)
        returning b.digest`.execute(trx);
      const doomed = gone.map((r) => r.digest).sort();
      // The bytes go while the rows are still locked. A blob the store failed to delete stays,
      // without a row, for the next run; its row's deletion still commits.
      const deleted = doomed.length > 0 ? await this.#blobs.delete!(doomed).catch(() => [] as string[]) : [];
      const bytes = deleted.reduce((sum, d) => sum + (sizes.get(d) ?? 0), 0);
      if (deleted.length > 0 || links.length > 0) {
        await this.#audit(trx, {
          event: 'pierone.blob.collect',
          actor,
          details: {
            blobs: deleted.length,
            bytes,
            links: links.length,
            failed: doomed.length - deleted.length,
          },
          requestId,
        });
      }
      return { deleted, bytes, links: links.length, failed: doomed.length - deleted.length };
    });
  }

  /** One page, dry: what `#collect` would remove now, without locks or writes. */
  async #judge(
    page: StoredBlob[],
    writtenBefore: Date,
    graceSeconds: number,
  ): Promise<{ blobs: Array<{ digest: string; size: number }>; links: number }> {
    const cutoff = sql`now() - make_interval(secs => ${graceSeconds})`;
    const values = sql.join(page.map((b) => sql`(${b.digest}, ${b.modified}::timestamptz)`));
    const { rows } = await sql<{ digest: string }>`
      select p.digest from (values ${values}) as p(digest, modified)
      left join pierone_blobs b on b.digest = p.digest
      where (case when b.digest is null then p.modified < ${writtenBefore}::timestamptz
                  else b.touched < ${cutoff} end)
        and not exists (select 1 from pierone_manifest_blobs r where r.digest = p.digest)
        and not exists (select 1 from pierone_blob_links l where l.digest = p.digest and l.created >= ${cutoff})
      order by p.digest`.execute(this.#db);
    const { rows: links } = await sql<{ n: string | number }>`
      select count(*) as n from pierone_blob_links l
      join pierone_blobs b on b.digest = l.digest
      where l.digest in (${digestList(page)}) and b.touched < ${cutoff} and l.created < ${cutoff}
        and not exists (select 1 from pierone_manifest_blobs r
                        where r.digest = l.digest and r.repository = l.repository)`.execute(this.#db);
    const sizes = new Map(page.map((b) => [b.digest, b.size]));
    return {
      blobs: rows.map((r) => ({ digest: r.digest, size: sizes.get(r.digest) ?? 0 })),
      links: Number(links[0]?.n ?? 0),
    };
  }
}

function digestList(rows: ReadonlyArray<{ digest: string }>): RawBuilder<unknown> {
  return sql.join(rows.map((r) => sql`${r.digest}`));
}
