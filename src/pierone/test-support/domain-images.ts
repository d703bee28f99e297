import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { MethodNotAllowedError } from '../../platform/errors.js';
import type { Actor } from '../access.js';
import { MEDIA_TYPES } from '../manifest.js';
import type { RepositoryName } from '../reference.js';
import type { TestDomain } from './domain-harness.js';
import { sha256 } from './http.js';

/** A pushed test image: its manifest's digest and the blobs it refers to. */
export interface DomainImage {
  digest: string;
  config: string;
  /** Its own layer, shared with no other image. */
  own: string;
  /** Config and every layer. */
  blobs: string[];
}

/**
 * Uploads, manifests and images pushed through the domain (no HTTP) as `actor`. Every upload
 * and image is new content unless given: a test's images share only the blobs it hands them.
 * `domainOf` is read at each call, so that a suite can take these before its `beforeAll`
 * made the domain.
 */
export function domainImages(domainOf: () => TestDomain, actor: Actor) {
  let n = 0;

  /** Uploads `content` (default: fresh random bytes) into `repo`; returns its digest. */
  async function upload(repo: RepositoryName, content: Buffer = randomBytes(64 + ++n)): Promise<string> {
    const digest = sha256(content);
    await domainOf().uploads.putWhole(actor, repo, Readable.from([content]), { digest });
    return digest;
  }

  /** An OCI image manifest over `config` and `layers`, optionally referring to `subject`. */
  function manifestOf(config: string, layers: string[], subject?: string): Buffer {
    return Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MEDIA_TYPES.ociManifest,
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: config, size: 1 },
        layers: layers.map((digest) => ({
          mediaType: 'application/vnd.oci.image.layer.v1.tar',
          digest,
          size: 1,
        })),
        ...(subject ? { subject: { mediaType: MEDIA_TYPES.ociManifest, digest: subject, size: 1 } } : {}),
      }),
    );
  }

  /** Pushes `content` under `reference` (a tag or its digest). */
  function push(
    repo: RepositoryName,
    reference: string,
    content: Buffer,
    contentType: string = MEDIA_TYPES.ociManifest,
  ) {
    return domainOf().manifests.push(actor, {
      repo,
      reference,
      contentType,
      body: Readable.from([content]),
      declaredLength: content.length,
      scmSourceHeader: undefined,
    });
  }

  /**
   * An image with its own config and layer (after `layers`), pushed under `tag`, or by digest
   * when `tag` is undefined; a referrer of `subject` when given.
   */
  async function image(
    repo: RepositoryName,
    tag: string | undefined,
    layers: string[] = [],
    subject?: string,
  ): Promise<DomainImage> {
    const config = await upload(repo, Buffer.from(JSON.stringify({ os: 'linux', n: ++n })));
    const own = await upload(repo);
    const content = manifestOf(config, [...layers, own], subject);
    const pushed = await push(repo, tag ?? sha256(content), content);
    return { digest: pushed.digest, config, own, blobs: [config, ...layers, own] };
  }

  /** An OCI index over `children` (one platform each), pushed under `tag`; returns its digest. */
  async function index(repo: RepositoryName, tag: string, children: string[]): Promise<string> {
    const content = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MEDIA_TYPES.ociIndex,
        manifests: children.map((digest, i) => ({
          mediaType: MEDIA_TYPES.ociManifest,
          digest,
          size: 1,
          platform: { os: 'linux', architecture: ['amd64', 'arm64', 's390x'][i] ?? 'riscv64' },
        })),
      }),
    );
    return (await push(repo, tag, content, MEDIA_TYPES.ociIndex)).digest;
  }

  /** Deletes a manifest (by tag or digest) as a platform admin `admin`, with a reason. */
  function deleteManifest(admin: Actor, repo: RepositoryName, reference: string, reason = 'leaked a secret') {
    return domainOf().manifests.delete(
      admin,
      repo,
      reference,
      reason,
      () => new MethodNotAllowedError('refused'),
    );
  }

  return { upload, manifestOf, push, image, index, deleteManifest };
}
