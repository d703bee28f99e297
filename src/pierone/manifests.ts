import type { Readable } from 'node:stream';
import {
  ConflictError,
  InputError,
  NotAllowedError,
  NotFoundError,
  type StupsError,
} from '../platform/errors.js';
import { type Actor, type PierOneAudit, type PushAccess, SCOPES, type WriteTarget } from './access.js';
import type { PierOneConfig } from './config.js';
import { digestOfBytes, registeredAlgorithm } from './digest.js';
import { MEDIA_TYPES, parseManifest } from './manifest.js';
import { OciError } from './oci-errors.js';
import { isSnapshotTag, isTag, LATEST_TAG, type RepositoryName, repositoryOf } from './reference.js';
import { referrersIndex, subjectOfReferrersTag } from './referrers.js';
import { parseScmSource, type ScmSourceScanner } from './scm-source.js';
import {
  type DeletedTag,
  MissingBlobsError,
  type PierOneStore,
  type StoredManifest,
  type TagRecord,
} from './store.js';

export interface ManifestsDeps {
  store: PierOneStore;
  access: PushAccess;
  scanner: ScmSourceScanner;
  audit: PierOneAudit;
  config: Pick<PierOneConfig, 'maxManifestBytes' | 'snapshotTagsMutable'>;
}

/** A manifest push as the registry received it; the body is read (bounded) here. */
export interface ManifestPush {
  repo: RepositoryName;
  /** A tag or the manifest's own digest (callers check the digest's syntax). */
  reference: string;
  contentType: string | undefined;
  body: Readable | AsyncIterable<Uint8Array>;
  /** `Content-Length`, when the client declared one: refused early when too large. */
  declaredLength: number | undefined;
  /** `X-SCM-Source`, trusted only from tokens with `application.write_all_trusted`. */
  scmSourceHeader: string | undefined;
  /** `?tag=` of a push by digest: tags to point at the manifest in the same push. */
  tags?: readonly string[] | undefined;
}

export interface PushedManifest {
  digest: string;
  repository: string;
  subject: string | undefined;
  /** The `?tag=` tags now pointing at the manifest (the spec's `OCI-Tag` answer headers). */
  tags: string[];
}

/** Entries the referrers tag's index lists at most (the API pages beyond that). */
const MAX_REFERRERS_TAG_ENTRIES = 10_000;

/** One page of referrers with the digest to continue after, when there are more. */
export interface ReferrerPage {
  manifests: StoredManifest[];
  next: string | undefined;
}

/** One page of names with the name to continue after, when there are more. */
export interface NamePage {
  names: string[];
  next: string | undefined;
}

/**
 * Manifests and tags: resolving references, pushing (immutable tags, scm-source found in the
 * layers), listing, referrers and production-ready marks. No HTTP here; errors are the kernel's
 * semantic errors carrying OCI codes, which the routes map once.
 */
export class Manifests {
  readonly #store: PierOneStore;
  readonly #access: PushAccess;
  readonly #scanner: ScmSourceScanner;
  readonly #audit: PierOneAudit;
  readonly #config: ManifestsDeps['config'];

  constructor(deps: ManifestsDeps) {
    this.#store = deps.store;
    this.#access = deps.access;
    this.#scanner = deps.scanner;
    this.#audit = deps.audit;
    this.#config = deps.config;
  }

  /** The manifest a tag (`latest` = the newest tag) or digest names in `repo`. */
  async resolve(repo: RepositoryName, reference: string): Promise<StoredManifest> {
    const repository = repositoryOf(repo);
    let digest: string | undefined;
    if (reference.includes(':')) {
      digest = reference;
    } else {
      if (!isTag(reference))
        throw new InputError(`"${reference}" is not a valid tag`, { code: 'TAG_INVALID' });
      digest = await this.#store.tagDigest(repo.team, repo.artifact, reference);
      if (digest === undefined && reference === LATEST_TAG) {
        digest = await this.#store.newestTagDigest(repo.team, repo.artifact);
      }
    }
    const manifest =
      digest === undefined
        ? await this.#referrersTagIndex(repo, reference)
        : await this.#store.getManifest(repository, digest);
    if (!manifest) {
      const deleted = reference.includes(':')
        ? undefined
        : await this.#store.deletedTag(repo.team, repo.artifact, reference);
      throw new NotFoundError(
        deleted
          ? `tag ${reference} of ${repository} was ${describeDeletion(deleted)}`
          : `manifest ${reference} is unknown in ${repository}`,
        { code: 'MANIFEST_UNKNOWN' },
      );
    }
    return manifest;
  }

  /**
   * What the referrers tag `sha256-<hex>` (or `sha512-<first 64 hex>`) names when nobody pushed such a tag: an index of the
   * subject's referrers, made from the same rows as the referrers API (undefined when there are none).
   */
  async #referrersTagIndex(repo: RepositoryName, tag: string): Promise<StoredManifest | undefined> {
    const subject = subjectOfReferrersTag(tag);
    if (subject === undefined) return undefined;
    const repository = repositoryOf(repo);
    // A truncated (sha512) subject is matched by its prefix: two subjects of one repository sharing
    // 256 bits of their SHA-512 would both be listed, in the usual order (it does not happen).
    const referrers = await this.#store.referrers(repository, subject.digest, {
      limit: MAX_REFERRERS_TAG_ENTRIES,
      subjectPrefix: subject.truncated,
    });
    if (referrers.length === 0) return undefined;
    const content = referrersIndex(referrers);
    const newest = referrers.reduce((a, b) => (b.created > a.created ? b : a));
    return {
      repository,
      digest: digestOfBytes(content),
      mediaType: MEDIA_TYPES.ociIndex,
      content,
      configDigest: null,
      subject: null,
      artifactType: null,
      annotations: null,
      scmSource: null,
      created: newest.created,
      createdBy: newest.createdBy,
    };
  }

  /**
   * Stores a manifest and, for a tag reference, points the tag at it. Tags are immutable (except
   * `-SNAPSHOT` tags when so configured): another manifest under an existing tag is a 409, and
   * is audited like every refused write.
   */
  async push(actor: Actor, push: ManifestPush): Promise<PushedManifest> {
    const { repo, reference } = push;
    const repository = repositoryOf(repo);
    const byDigest = reference.includes(':');
    const extraTags = byDigest ? [...new Set(push.tags ?? [])] : [];
    if (!byDigest && push.tags?.length) {
      throw new InputError('the tag query parameter is only allowed on a push by digest', {
        code: 'TAG_INVALID',
      });
    }
    // A client of the referrers tag schema updates that tag with its own index: the index is
    // kept, but the tag stays the registry's (reads answer the complete index, see resolve), so
    // the immutable-tag rule does not refuse the client's second referrer.
    const referrersTag = !byDigest && subjectOfReferrersTag(reference) !== undefined;
    const attempted: WriteTarget =
      byDigest || referrersTag
        ? { event: 'pierone.manifest.push', targetId: `${repository}${byDigest ? '@' : ':'}${reference}` }
        : { event: 'pierone.tag.create', targetId: `${repository}:${reference}` };
    const refuse = (error: ConflictError | NotAllowedError, details?: Record<string, unknown>) =>
      this.#access.refused(actor, attempted, error, details);

    await this.#access.assertPush(actor, repo.team, attempted);
    if (!byDigest && !isTag(reference)) {
      throw new InputError(`"${reference}" is not a valid tag`, { code: 'TAG_INVALID' });
    }
    if (reference === LATEST_TAG) {
      throw await refuse(
        new ConflictError(
          'the tag "latest" cannot be pushed: Pier One tags are immutable, so "latest" would lie. ' +
            'Push a version tag; reading "latest" gives the newest tag',
          { code: 'TAG_INVALID' },
        ),
      );
    }
    if (push.scmSourceHeader !== undefined && !actor.principal.scopes.has(SCOPES.writeAllTrusted)) {
      throw await refuse(
        new NotAllowedError(`the X-SCM-Source header needs the scope ${SCOPES.writeAllTrusted}`, {
          code: 'DENIED',
        }),
      );
    }

    for (const tag of extraTags) {
      if (!isTag(tag) || subjectOfReferrersTag(tag) !== undefined) {
        throw new InputError(`"${tag}" is not a valid tag to push`, { code: 'TAG_INVALID' });
      }
      if (tag === LATEST_TAG) {
        throw await refuse(
          new ConflictError('the tag "latest" cannot be pushed: reading "latest" gives the newest tag', {
            code: 'TAG_INVALID',
          }),
        );
      }
    }

    const content = await readBounded(push.body, push.declaredLength, this.#config.maxManifestBytes);
    // A push by a sha512 digest is verified, and stored, under that digest.
    const digest = digestOfBytes(content, byDigest ? (registeredAlgorithm(reference) ?? 'sha256') : 'sha256');
    if (byDigest && reference !== digest) {
      throw new InputError(`the manifest's digest is ${digest}, not ${reference}`, {
        code: 'DIGEST_INVALID',
      });
    }
    const parsed = parseManifest(content, push.contentType);

    const conflict = async (existing: string, tag = reference) => {
      const deleted = await this.#store.deletedTag(repo.team, repo.artifact, tag);
      if (deleted) {
        throw await refuse(
          new ConflictError(
            `tag ${tag} of ${repository} was ${describeDeletion(deleted)}; its name is never reused`,
            {
              code: 'TAG_INVALID',
              details: { tag, deleted_by: deleted.deletedBy, reason: deleted.reason },
            },
          ),
          { tag, burnt: true, pushed: digest },
        );
      }
      throw await refuse(
        new ConflictError(
          `tag ${tag} of ${repository} already points to ${existing}; tags are immutable, push a new tag`,
          { code: 'TAG_INVALID', details: { tag, existing, pushed: digest } },
        ),
        { tag, existing, pushed: digest },
      );
    };
    const mutable = !byDigest && this.#config.snapshotTagsMutable && isSnapshotTag(reference);
    const tagged = !byDigest && !referrersTag;
    if (tagged && !mutable) {
      // Fail fast, before any layer is read; the transaction below decides races.
      const existing = await this.#store.tagDigest(repo.team, repo.artifact, reference);
      if (existing !== undefined && existing !== digest) await conflict(existing);
    }
    for (const name of tagged ? [reference, ...extraTags] : extraTags) {
      const deleted = await this.#store.deletedTag(repo.team, repo.artifact, name);
      if (deleted) await conflict(deleted.digest, name);
    }
    const tagTargets = extraTags.map((name) => ({
      team: repo.team,
      artifact: repo.artifact,
      name,
      mutable: this.#config.snapshotTagsMutable && isSnapshotTag(name),
    }));
    for (const target of tagTargets) {
      if (target.mutable) continue;
      const existing = await this.#store.tagDigest(repo.team, repo.artifact, target.name);
      if (existing !== undefined && existing !== digest) await conflict(existing, target.name);
    }

    const linked = await this.#store.linkedBlobs(repository, parsed.blobs);
    const missingBlobs = parsed.blobs.filter((d) => !linked.has(d));
    const present = await this.#store.existingManifests(repository, parsed.manifests);
    const missingManifests = parsed.manifests.filter((d) => !present.has(d));
    if (missingBlobs.length || missingManifests.length) {
      throw new InputError(
        `the manifest refers to content that is not in ${repository}: ${[...missingBlobs, ...missingManifests].join(', ')}`,
        { code: 'MANIFEST_BLOB_UNKNOWN', details: { blobs: missingBlobs, manifests: missingManifests } },
      );
    }

    let scmSource: Record<string, unknown> | undefined;
    if (push.scmSourceHeader !== undefined) {
      scmSource = parseScmSource(push.scmSourceHeader);
      if (!scmSource) {
        throw new InputError('the X-SCM-Source header is not a valid scm-source JSON object', {
          code: 'MANIFEST_INVALID',
        });
      }
    } else if (parsed.kind === 'image') {
      scmSource = await this.#scanner.find(parsed.layers);
    }

    const newManifest = {
      repository,
      digest,
      blobs: parsed.blobs,
      children: parsed.manifests,
      mediaType: parsed.mediaType,
      content,
      configDigest: parsed.config,
      subject: parsed.subject,
      artifactType: parsed.artifactType,
      annotations: parsed.annotations,
      scmSource,
      createdBy: actor.principal.uid,
    };
    // Checked again under lock when the manifest commits: a blob collected since the check above
    // fails the push the same way, never leaving a manifest whose blob is gone.
    const blobsGone = (error: unknown): never => {
      if (error instanceof MissingBlobsError) {
        throw new InputError(
          `the manifest refers to content that is not in ${repository}: ${error.digests.join(', ')}`,
          { code: 'MANIFEST_BLOB_UNKNOWN', details: { blobs: error.digests, manifests: [] } },
        );
      }
      throw error;
    };
    if (tagTargets.length > 0) {
      const result = await this.#store
        .putManifestWithTags(newManifest, tagTargets, async (trx, written) => {
          // The manifest, every tag and their events commit together, or the push fails.
          await this.#audit(trx, {
            event: attempted.event,
            actor: actor.principal,
            targetId: attempted.targetId,
            details: {
              digest,
              mediaType: parsed.mediaType,
              scm_source_present: scmSource !== undefined,
              tags: extraTags,
            },
            requestId: actor.requestId,
          });
          for (const [i, target] of tagTargets.entries()) {
            const outcome = written[i];
            await this.#audit(trx, {
              event: 'pierone.tag.create',
              actor: actor.principal,
              targetId: `${repository}:${target.name}`,
              details: {
                digest,
                mediaType: parsed.mediaType,
                ...(outcome ? { outcome: outcome.kind } : {}),
                ...(outcome?.kind === 'replaced' ? { previous: outcome.previous } : {}),
              },
              requestId: actor.requestId,
            });
          }
        })
        .catch(blobsGone);
      if (result.kind === 'conflict') await conflict(result.existing, result.tag);
      return { digest, repository, subject: parsed.subject, tags: extraTags };
    }

    const outcome = await this.#store
      .putManifest(
        newManifest,
        tagged ? { team: repo.team, artifact: repo.artifact, name: reference, mutable } : undefined,
        // The push and its event commit together, or the push fails.
        (trx, written) =>
          this.#audit(trx, {
            event: attempted.event,
            actor: actor.principal,
            targetId: attempted.targetId,
            details: {
              digest,
              mediaType: parsed.mediaType,
              scm_source_present: scmSource !== undefined,
              ...(written ? { outcome: written.kind } : {}),
              ...(written?.kind === 'replaced' ? { previous: written.previous } : {}),
            },
            requestId: actor.requestId,
          }),
      )
      .catch(blobsGone);
    if (outcome?.kind === 'conflict') await conflict(outcome.existing);
    return { digest, repository, subject: parsed.subject, tags: [] };
  }

  /** Tag names of `repo` in byte order, after `last`, at most `n` (404 for an unknown repository). */
  async tagNames(repo: RepositoryName, n: number | undefined, last: string | undefined): Promise<NamePage> {
    const repository = repositoryOf(repo);
    const names =
      n === 0
        ? []
        : await this.#store.tagNames(repo.team, repo.artifact, n === undefined ? undefined : n + 1, last);
    if (names.length === 0 && !(await this.#store.repositoryExists(repository))) {
      throw new NotFoundError(`repository ${repository} is unknown`, { code: 'NAME_UNKNOWN' });
    }
    return page(names, n);
  }

  /** Repositories with content, in byte order, after `last`, at most `n`. */
  async catalog(n: number | undefined, last: string | undefined): Promise<NamePage> {
    if (n === 0) return { names: [], next: undefined };
    return page(await this.#store.catalog(n === undefined ? undefined : n + 1, last), n);
  }

  /**
   * Manifests in `repo` whose subject is `subject`, optionally of one artifact type, oldest
   * first: at most `n` after the referrer `last`, and the digest to continue after when there are more.
   */
  async referrers(
    repo: RepositoryName,
    subject: string,
    query: { artifactType?: string | undefined; n: number; last?: string | undefined },
  ): Promise<ReferrerPage> {
    if (query.n === 0) return { manifests: [], next: undefined };
    const found = await this.#store.referrers(repositoryOf(repo), subject, {
      artifactType: query.artifactType,
      limit: query.n + 1,
      after: query.last,
    });
    if (found.length <= query.n) return { manifests: found, next: undefined };
    const shown = found.slice(0, query.n);
    return { manifests: shown, next: shown[shown.length - 1]?.digest };
  }

  /**
   * Deletes a tag (`reference` a tag) or a manifest and every tag on it (`reference` a digest).
   * Only platform admins holding `pierone.admin.delete` may; a reason is mandatory. The deletion
   * and its event commit together; refusals are audited. Deleted tag names are burnt for good.
   * Everyone else gets `refusal` (the registry answers 405, as for a registry without deletion).
   */
  async delete(
    actor: Actor,
    repo: RepositoryName,
    reference: string,
    reason: string | undefined,
    refusal: () => OciError | StupsError,
  ): Promise<{ kind: 'tag'; digest: string } | { kind: 'manifest'; tags: string[] }> {
    const repository = repositoryOf(repo);
    const byDigest = reference.includes(':');
    const attempted: WriteTarget = byDigest
      ? { event: 'pierone.manifest.delete', targetId: `${repository}@${reference}` }
      : { event: 'pierone.tag.delete', targetId: `${repository}:${reference}` };
    if (!this.#access.mayDelete(actor)) throw await this.#access.refused(actor, attempted, refusal());
    const why = reason?.trim() ?? '';
    if (why === '' || why.length > MAX_REASON_LENGTH) {
      throw await this.#access.refused(
        actor,
        attempted,
        new InputError(`a deletion needs a reason of 1 to ${MAX_REASON_LENGTH} characters`, {
          code: 'DENIED',
        }),
      );
    }
    return this.#deleteAllowed(actor, repo, reference, why, attempted);
  }

  /**
   * Deletes a tag for one of Pier One's own jobs (retention): the same deletion as an admin's
   * (the name burnt, the `pierone.tag.delete` event in the deletion's transaction), with the
   * job's actor and reason. No route reaches it; only the job that decided the deletion calls it.
   */
  async deleteTagAsSystem(
    actor: Actor,
    repo: RepositoryName,
    tag: string,
    reason: string,
  ): Promise<{ kind: 'tag'; digest: string } | { kind: 'manifest'; tags: string[] }> {
    const attempted: WriteTarget = { event: 'pierone.tag.delete', targetId: `${repositoryOf(repo)}:${tag}` };
    return this.#deleteAllowed(actor, repo, tag, reason.slice(0, MAX_REASON_LENGTH), attempted);
  }

  async #deleteAllowed(
    actor: Actor,
    repo: RepositoryName,
    reference: string,
    why: string,
    attempted: WriteTarget,
  ): Promise<{ kind: 'tag'; digest: string } | { kind: 'manifest'; tags: string[] }> {
    const repository = repositoryOf(repo);
    const byDigest = reference.includes(':');
    const deletion = { by: actor.principal.uid, reason: why };
    const record = (details: Record<string, unknown>) => (trx: Parameters<PierOneAudit>[0]) =>
      this.#audit(trx, {
        event: attempted.event,
        actor: actor.principal,
        targetId: attempted.targetId,
        details: { reason: why, ...details },
        requestId: actor.requestId,
      });
    const unknown = () =>
      new NotFoundError(`${byDigest ? 'manifest' : 'tag'} ${reference} is unknown in ${repository}`, {
        code: 'MANIFEST_UNKNOWN',
      });
    if (byDigest) {
      const deleted = await this.#store.deleteManifest(
        repo.team,
        repo.artifact,
        reference,
        deletion,
        blobsReferenced,
        (trx, outcome) => record({ tags: outcome.tags, unlinked_blobs: outcome.unlinkedBlobs })(trx),
      );
      if (deleted === undefined) throw unknown();
      return { kind: 'manifest', tags: deleted.tags };
    }
    const digest = await this.#store.deleteTag(
      repo.team,
      repo.artifact,
      reference,
      deletion,
      (trx, pointed) => record({ digest: pointed })(trx),
    );
    if (digest === undefined) throw unknown();
    return { kind: 'tag', digest };
  }

  /** Deleted tags of an artifact: who deleted them, when and why. */
  deletedTags(repo: RepositoryName): Promise<DeletedTag[]> {
    return this.#store.deletedTags(repo.team, repo.artifact);
  }

  /** Marks a tag production-ready for an incident/change id; needs push rights on the team. */
  async markProductionReady(
    actor: Actor,
    repo: RepositoryName,
    name: string,
    incidentId: string,
  ): Promise<TagRecord> {
    const attempted: WriteTarget = {
      event: 'pierone.tag.production-ready',
      targetId: `${repositoryOf(repo)}:${name}`,
    };
    await this.#access.assertPush(actor, repo.team, attempted);
    const marked = await this.#store.markProductionReady(
      repo.team,
      repo.artifact,
      name,
      { incidentId, by: actor.principal.uid },
      // The mark and its event commit together, or the mark fails.
      (trx) =>
        this.#audit(trx, {
          event: attempted.event,
          actor: actor.principal,
          targetId: attempted.targetId,
          details: { incident_id: incidentId },
          requestId: actor.requestId,
        }),
    );
    const tag = marked ? await this.#store.tag(repo.team, repo.artifact, name) : undefined;
    if (!tag) throw new NotFoundError(`tag ${attempted.targetId} does not exist`);
    return tag;
  }
}

/** Blobs a stored manifest refers to; none for one that no longer parses (it was valid once). */
export function blobsReferenced(content: Buffer, mediaType: string): string[] {
  try {
    return parseManifest(content, mediaType).blobs;
  } catch {
    return [];
  }
}

/** "deleted by X on D because R", as the API, the console and error messages say it. */
export function describeDeletion(deleted: Pick<DeletedTag, 'deletedBy' | 'deletedAt' | 'reason'>): string {
  return `deleted by ${deleted.deletedBy} on ${deleted.deletedAt.toISOString()} because ${deleted.reason}`;
}

/** Longest deletion reason kept: a sentence or a ticket reference, not a document. */
export const MAX_REASON_LENGTH = 1000;

function page(names: string[], n: number | undefined): NamePage {
  if (n === undefined || names.length <= n) return { names, next: undefined };
  const shown = names.slice(0, n);
  return { names: shown, next: shown[shown.length - 1] };
}

/** Reads a small body (a manifest) into memory, refusing more than `limit` bytes. */
async function readBounded(
  body: Readable | AsyncIterable<Uint8Array>,
  declared: number | undefined,
  limit: number,
): Promise<Buffer> {
  // What is left unread is discarded, so that the connection stays usable for the 413.
  const discard = () => {
    if ('resume' in body && typeof body.resume === 'function') body.resume();
  };
  if (declared !== undefined && declared > limit) {
    discard();
    throw tooLarge(`manifests may be at most ${limit} bytes, this one has ${declared}`);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  // A Readable's iterator is typed `any`; what a raw request body yields is bytes (strings only in
  // an encoding mode nobody sets on it, read as UTF-8 all the same).
  const source: AsyncIterable<unknown> = body;
  for await (const chunk of source) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : asBytes(chunk);
    total += bytes.length;
    if (total > limit) {
      discard();
      throw tooLarge(`manifests may be at most ${limit} bytes`);
    }
    chunks.push(bytes);
  }
  return Buffer.concat(chunks);
}

function asBytes(chunk: unknown): Buffer {
  if (!(chunk instanceof Uint8Array))
    throw new TypeError('a request body yielded something other than bytes');
  return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

function tooLarge(message: string): OciError {
  // No kernel error means 413; this is the registry's own answer for it.
  return new OciError(413, 'SIZE_INVALID', message);
}
