import type { Readable } from 'node:stream';
import { internalRequestId, purgeDetails } from '../platform/audit/create-audit.js';
import type { BlobInfo, BlobStore } from '../platform/blob-store/blob-store.js';
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
}

/** What one purge run removed. */
export interface UploadPurgeResult {
  /** Unfinished upload data untouched for the whole period. */
  sessions: number;
  /** Upload records older than the period whose data is gone. */
  records: number;
}

/** How a purge run decides, see `BlobUploads.purgeAbandoned`. */
export interface UploadPurgeOptions {
  /** Unfinished uploads untouched this long are abandoned. */
  olderThanMs: number;
  /**
   * Records of uploads staged in another directory (another replica's) are deleted once they
   * are this old, whatever that replica still has: it is gone, or the upload was abandoned long
   * ago. Its own data is that replica's to purge.
   */
  othersOlderThanMs: number;
  now?: number;
}

/**
 * Getting blobs into a repository: mounts, whole uploads and resumable (chunked) uploads.
 * No HTTP here: the routes parse the request, this decides and writes, every write checks push
 * rights first, and every blob linked into a repository commits with its audit event. Upload
 * sessions themselves are bookkeeping of unfinished work, not audited.
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

  constructor(deps: BlobUploadsDeps) {
    this.#store = deps.store;
    this.#blobs = deps.blobs;
    this.#access = deps.access;
    this.#audit = deps.audit;
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
    const id = await this.#blobs.uploads.create();
    await this.#store.createUpload(
      id,
      repository,
      actor.principal.uid,
      await this.#blobs.uploads.stagingId(),
    );
    this.#owners.set(id, repository);
    return id;
  }

  /** Bytes received so far. */
  async status(actor: Actor, repo: RepositoryName, id: string): Promise<number> {
    await this.#owned(actor, repo, id);
    const size = await this.#blobs.uploads.size(id);
    if (size === undefined) throw unknownUpload(id, repositoryOf(repo));
    return size;
  }

  /** Appends a chunk; `offset`, when given, must be where the upload ends now. Returns the new size. */
  async append(
    actor: Actor,
    repo: RepositoryName,
    id: string,
    source: Source,
    offset?: number,
  ): Promise<number> {
    await this.#owned(actor, repo, id);
    return this.#blobs.uploads.append(id, source, offset);
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
      if (isDigest(digest)) await this.#store.announceBlob(digest);
      info = await this.#blobs.uploads.commit(id, digest, last);
    } catch (error) {
      if ((error as { code?: string }).code === 'DIGEST_INVALID') {
        await this.#forget(id);
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
    await this.#link(actor, 'pierone.blob.upload', repository, info);
    await this.#forget(id);
    return info;
  }

  /** Cancels an unfinished upload; this deletes nothing that was ever visible. */
  async cancel(actor: Actor, repo: RepositoryName, id: string): Promise<void> {
    await this.#owned(actor, repo, id);
    await this.#blobs.uploads.cancel(id).catch(() => {});
    await this.#forget(id);
  }

  /**
   * Removes uploads abandoned for `olderThanMs` from this replica's staging directory: first
   * their data (untouched for that long), then the records older than that whose data is gone.
   * An old record whose data is still being written to stays. Records of other staging
   * directories (replicas that each have their own) are left to their replica, unless older than
   * `othersOlderThanMs`. Replicas sharing one directory share its id, so the job named after it
   * runs once for all of them; one with its own directory runs its own job. The deleted records
   * commit with one `pierone.upload.purge` event.
   */
  async purgeAbandoned(options: UploadPurgeOptions): Promise<UploadPurgeResult> {
    const now = options.now ?? Date.now();
    const staging = await this.#blobs.uploads.stagingId();
    const sessions = await this.#blobs.uploads.purgeStale(options.olderThanMs, now);
    const query = {
      before: new Date(now - options.olderThanMs),
      staging,
      othersBefore: new Date(now - options.othersOlderThanMs),
    };
    const gone: string[] = [];
    let after: string | undefined;
    for (;;) {
      const rows = await this.#store.uploadsCreatedBefore(query, after, 500);
      const last = rows.at(-1);
      if (!last) break;
      after = last.id;
      for (const row of rows) {
        const foreign = row.staging !== null && row.staging !== staging;
        if (foreign || (await this.#blobs.uploads.size(row.id).catch(() => undefined)) === undefined)
          gone.push(row.id);
      }
    }
    const deleted = await this.#store.deleteUploads(gone, (trx, ids) =>
      this.#audit(trx, {
        event: 'pierone.upload.purge',
        actor: { uid: 'pierone' },
        details: purgeDetails(ids, { staging, sessions }),
        requestId: internalRequestId('pierone-upload-purge'),
      }),
    );
    for (const id of deleted) this.#owners.delete(id);
    return { sessions, records: deleted.length };
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

  async #forget(id: string): Promise<void> {
    this.#owners.delete(id);
    // A record left behind has no data any more, so the purge removes it; not worth failing for.
    await this.#store.deleteUpload(id).catch(() => {});
  }

  /** Links a blob into `repository` together with its audit event, or not at all. */
  #link(
    actor: Actor,
    event: 'pierone.blob.upload' | 'pierone.blob.mount',
    repository: string,
    blob: BlobInfo,
    details: Record<string, unknown> = {},
  ): Promise<void> {
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

function unknownUpload(id: string, repository: string): NotFoundError {
  return new NotFoundError(`upload ${id} is unknown in ${repository}`, { code: 'BLOB_UPLOAD_UNKNOWN' });
}
