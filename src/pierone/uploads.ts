import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { internalRequestId, purgeDetails } from '../platform/audit/create-audit.js';
import type { BlobInfo, BlobStore } from '../platform/blob-store/blob-store.js';
import { ChunkedUploads, type UploadPart, type UploadState } from '../platform/blob-store/chunked-uploads.js';
import { InputError, NotFoundError } from '../platform/errors.js';
import type { Actor, PierOneAudit, PushAccess } from './access.js';
import { isDigest, type RepositoryName, repositoryOf } from './reference.js';
import { MissingBlobsError, type PierOneStore } from './store.js';

type Source = Readable | AsyncIterable<Uint8Array>;

export interface BlobUploadsDeps {
  store: PierOneStore;
  blobs: BlobStore;
  access: PushAccess;
  audit: PierOneAudit;
  /**
   * How long the upload purge lets an upload go unwritten (its `olderThanMs`): a request still
   * streaming into an upload touches it a few times per period, so it is never taken for
   * abandoned. Without it uploads are not kept alive (a purge age far longer than any request).
   */
  abandonedAfterMs?: number | undefined;
}

/** What one purge run removed. */
export interface UploadPurgeResult {
  /** Unfinished uploads not written to for the whole period (records and their chunks). */
  records: number;
  /** Chunks removed with them. */
  parts: number;
  /** Data of uploads staged on this replica's disk by a version before shared uploads. */
  sessions: number;
  /** Chunks older than the period whose upload record was already gone (orphans). */
  orphans: number;
}

/** How a purge run decides, see `BlobUploads.purgeAbandoned`. */
export interface UploadPurgeOptions {
  /** Unfinished uploads not written to this long are abandoned. */
  olderThanMs: number;
  now?: number;
}

/**
 * Getting blobs into a repository: mounts, whole uploads and resumable (chunked) uploads.
 * No HTTP here: the routes parse the request, this decides and writes, every write checks push
 * rights first, and every blob linked into a repository commits with its audit event. Upload
 * sessions themselves are bookkeeping of unfinished work, not audited. A chunked upload's state
 * is a database row and its chunks are objects in the blob store (`ChunkedUploads`), so any
 * replica continues any upload.
 */
export class BlobUploads {
  readonly #store: PierOneStore;
  readonly #blobs: BlobStore;
  readonly #access: PushAccess;
  readonly #audit: PierOneAudit;
  /**
   * Which repository an upload belongs to, remembered so that chunks do not each ask the
   * database. An upload never changes repository, so an entry can only be missing, never wrong.
   */
  readonly #owners = new Map<string, string>();
  readonly #chunks: ChunkedUploads;

  constructor(deps: BlobUploadsDeps) {
    this.#store = deps.store;
    this.#blobs = deps.blobs;
    this.#access = deps.access;
    this.#audit = deps.audit;
    const store = deps.store;
    this.#chunks = new ChunkedUploads(
      deps.blobs.parts,
      {
        state: (id) => store.uploadState(id),
        addPart: (id, part) => store.addUploadPart(id, part),
        touch: (id) => store.touchUpload(id),
      },
      { keepAliveMs: deps.abandonedAfterMs === undefined ? undefined : deps.abandonedAfterMs / 4 },
    );
  }

  /**
   * Links `digest` from repository `from` into `repo` without moving content. Mounting reads the
   * source repository, which any valid token may; undefined when there is nothing to mount (the
   * caller falls back to an ordinary upload, as the spec allows).
   */
  async mount(
    actor: Actor,
    repo: RepositoryName,
    digest: string,
    from: string,
  ): Promise<BlobInfo | undefined> {
    const repository = await this.#authorize(actor, repo);
    const size = await this.#store.linkedBlobSize(from, digest);
    if (size === undefined || !(await this.#blobs.exists(digest))) return undefined;
    try {
      await this.#link(actor, 'pierone.blob.mount', repository, { digest, size }, { from });
    } catch (error) {
      // Collected between the look and the link: nothing to mount, the client uploads instead.
      if (error instanceof MissingBlobsError) return undefined;
      throw error;
    }
    return { digest, size };
  }

  /** Stores a whole blob sent in one request, checked against its announced digest (and size). */
  async putWhole(
    actor: Actor,
    repo: RepositoryName,
    source: Source,
    expected: { digest: string; size?: number | undefined },
  ): Promise<BlobInfo> {
    const repository = await this.#authorize(actor, repo);
    await this.#store.announceBlob(expected.digest);
    const info = await this.#blobs.put(source, expected);
    await this.#link(actor, 'pierone.blob.upload', repository, info);
    return info;
  }

  /** Opens a resumable upload and returns its id. */
  async start(actor: Actor, repo: RepositoryName): Promise<string> {
    const repository = await this.#authorize(actor, repo);
    const id = randomUUID();
    await this.#store.createUpload(id, repository, actor.principal.uid);
    this.#chunks.started(id);
    this.#owners.set(id, repository);
    return id;
  }

  /** Bytes received so far. */
  async status(actor: Actor, repo: RepositoryName, id: string): Promise<number> {
    const repository = await this.#owned(actor, repo, id);
    return this.#chunks.size(id).catch((error: unknown) => {
      throw isUnknown(error) ? unknownUpload(id, repository) : error;
    });
  }

  /** Appends a chunk; `offset`, when given, must be where the upload ends now. Returns the new size. */
  async append(
    actor: Actor,
    repo: RepositoryName,
    id: string,
    source: Source,
    offset?: number,
  ): Promise<number> {
    const repository = await this.#owned(actor, repo, id);
    return this.#chunks.append(id, source, offset).catch((error: unknown) => {
      throw isUnknown(error) ? unknownUpload(id, repository) : error;
    });
  }

  /**
   * Adds an optional last chunk, checks the digest and publishes the blob into the repository.
   * A wrong digest ends the upload (its data is gone); any other failure, such as the blob store
   * being unreachable, leaves the upload as it was, so the client may retry or resume.
   */
  async finish(
    actor: Actor,
    repo: RepositoryName,
    id: string,
    digest: string,
    last?: { source: Source; offset?: number | undefined },
  ): Promise<BlobInfo> {
    const repository = await this.#owned(actor, repo, id);
    let info: BlobInfo;
    try {
      // Announced first: the collector leaves a blob alone while its upload is being published.
      // With the upload's state in the same statement: one round trip.
      let known: UploadState | undefined;
      if (isDigest(digest)) {
        known = await this.#store.announceUpload(id, digest);
        if (!known) throw unknownUpload(id, repository);
      }
      info = await this.#chunks.commit(id, digest, last, known);
    } catch (error) {
      if (isUnknown(error)) throw unknownUpload(id, repository);
      if ((error as { code?: string }).code === 'DIGEST_INVALID') {
        await this.#end(id);
        // Tried and failed, with nothing stored: an event of its own.
        await this.#audit.standalone({
          event: 'pierone.blob.upload',
          actor: actor.principal,
          targetId: `${repository}@${digest}`,
          outcome: 'failure',
          details: { reason: 'digest mismatch' },
          requestId: actor.requestId,
        });
      }
      throw error;
    }
    // The upload's record goes in the link's transaction; its chunks after the commit.
    await this.#forget(id, await this.#link(actor, 'pierone.blob.upload', repository, info, {}, id));
    return info;
  }

  /** Cancels an unfinished upload; this deletes nothing that was ever visible. */
  async cancel(actor: Actor, repo: RepositoryName, id: string): Promise<void> {
    await this.#owned(actor, repo, id);
    await this.#end(id);
  }

  /**
   * Removes uploads nobody wrote to for `olderThanMs`: their records, in batches each committed
   * with one `pierone.upload.purge` event, then their chunks. The state is shared, so one run
   * covers every replica: the job runs once per tick, whichever replica takes it. Also removes
   * what a version before shared uploads left in this replica's staging directory.
   */
  async purgeAbandoned(options: UploadPurgeOptions): Promise<UploadPurgeResult> {
    const now = options.now ?? Date.now();
    const sessions = await this.#blobs.uploads.purgeStale(options.olderThanMs, now).catch(() => 0);
    const deleted = await this.#store.deleteStaleUploads(new Date(now - options.olderThanMs), (trx, ids) =>
      this.#audit(trx, {
        event: 'pierone.upload.purge',
        actor: { uid: 'pierone' },
        details: purgeDetails(ids, { sessions }),
        requestId: internalRequestId('pierone-upload-purge'),
      }),
    );
    let parts = 0;
    for (const upload of deleted) {
      this.#owners.delete(upload.id);
      parts += upload.parts.length;
      // Chunks whose record is gone are garbage whatever happens here; an S3 lifecycle rule on
      // the uploads/ prefix catches what a crash at this point leaves.
      await this.#chunks.discard(upload.id, upload.parts).catch(() => {});
    }
    // Chunks whose record went without them (a crash just above, or while ending an upload):
    // listed in the blob store, kept while a record still names their upload.
    const orphans = await this.#chunks.sweepOrphans(new Date(now - options.olderThanMs), (ids) =>
      this.#store.existingUploads(ids),
    );
    return { records: deleted.length, parts, sessions, orphans: orphans.length };
  }

  async #authorize(actor: Actor, repo: RepositoryName): Promise<string> {
    const repository = repositoryOf(repo);
    await this.#access.assertPush(actor, repo.team, {
      event: 'pierone.repository.push',
      targetId: repository,
    });
    return repository;
  }

  /** Checks push rights and that upload `id` belongs to `repo`. */
  async #owned(actor: Actor, repo: RepositoryName, id: string): Promise<string> {
    const repository = await this.#authorize(actor, repo);
    let owner = this.#owners.get(id);
    if (owner === undefined) {
      owner = await this.#store.uploadRepository(id);
      if (owner !== undefined && this.#owners.size < 100_000) this.#owners.set(id, owner);
    }
    if (owner !== repository) throw unknownUpload(id, repository);
    return repository;
  }

  /** Ends an upload: its record first (no replica can add to it then), then its chunks. */
  async #end(id: string): Promise<void> {
    await this.#forget(id, await this.#store.deleteUpload(id).catch(() => undefined));
  }

  /** What is left of an upload whose record is gone: its owner entry, and its chunks (`parts`). */
  async #forget(id: string, parts: UploadPart[] | undefined): Promise<void> {
    this.#owners.delete(id);
    // Chunks left behind have no record any more; not worth failing the request for.
    if (parts) await this.#chunks.discard(id, parts).catch(() => {});
  }

  /** Links a blob into `repository` together with its audit event, or not at all. */
  #link(
    actor: Actor,
    event: 'pierone.blob.upload' | 'pierone.blob.mount',
    repository: string,
    blob: BlobInfo,
    details: Record<string, unknown> = {},
    /** The upload this link finishes: its record is deleted with the link (see `linkBlob`). */
    endUpload?: string,
  ): Promise<UploadPart[] | undefined> {
    return this.#store
      .linkBlob(
        repository,
        blob.digest,
        blob.size,
        actor.principal.uid,
        (trx) =>
          this.#audit(trx, {
            event,
            actor: actor.principal,
            targetId: `${repository}@${blob.digest}`,
            details: { ...details, size: blob.size },
            requestId: actor.requestId,
          }),
        () => this.#blobs.exists(blob.digest),
        endUpload,
      )
      .catch((error: unknown) => {
        if (error instanceof MissingBlobsError && event === 'pierone.blob.upload') {
          // Only with a grace period shorter than an upload: the collector took the bytes
          // between their publication and this link. Nothing is linked; the client uploads again.
          throw new InputError(
            `blob ${blob.digest} was garbage-collected while it was stored; upload it again`,
            {
              code: 'BLOB_UPLOAD_INVALID',
            },
          );
        }
        throw error;
      });
  }
}

function isUnknown(error: unknown): boolean {
  return (error as { code?: string }).code === 'BLOB_UPLOAD_UNKNOWN';
}

function unknownUpload(id: string, repository: string): NotFoundError {
  return new NotFoundError(`upload ${id} is unknown in ${repository}`, { code: 'BLOB_UPLOAD_UNKNOWN' });
}
