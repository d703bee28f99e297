import { createHash } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDatabase } from '../platform/test-support/databases.js';
import { KERNEL_MIGRATIONS } from '../platform/test-support/service-context.js';
import { pieroneMigrations } from './migrations.js';
import { call, putManifest, rawImage, sha256 } from './test-support/http.js';
import { startTestRegistry, type TestRegistry } from './test-support/registry-harness.js';

const SBOM = 'application/vnd.example.sbom.v1';
const SIG = 'application/vnd.example.sig.v1';

describeEachDatabase('Pier One referrers', [...KERNEL_MIGRATIONS, pieroneMigrations], (getDatabase) => {
  let reg: TestRegistry;
  let subject: { digest: string; size: number };
  /** Referrer digests in push order, with their artifact types. */
  const pushed: Array<{ digest: string; type: string }> = [];

  beforeAll(async () => {
    reg = await startTestRegistry(getDatabase());
    const image = await rawImage(reg, reg.tokens.alice, 'stups/paged-refs');
    await putManifest(reg, reg.tokens.alice, 'stups/paged-refs', '1.0', image.manifest);
    subject = { digest: image.digest, size: image.size };
    for (const type of [SBOM, SIG, SBOM, SBOM, SIG]) {
      const referrer = await rawImage(reg, reg.tokens.alice, 'stups/paged-refs', {
        subject,
        artifactType: type,
      });
      const r = await putManifest(
        reg,
        reg.tokens.alice,
        'stups/paged-refs',
        referrer.digest,
        referrer.manifest,
      );
      expect(r.status).toBe(201);
      pushed.push({ digest: referrer.digest, type });
    }
  });
  afterAll(async () => {
    await reg?.close();
  });

  /** Follows `Link: <…>; rel="next"` from `path` to the end; returns the digests of every page. */
  async function walk(path: string): Promise<string[][]> {
    const pages: string[][] = [];
    let next: string | undefined = path;
    while (next !== undefined) {
      const r = await call(reg, 'GET', next, { token: reg.tokens.bob });
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toBe('application/vnd.oci.image.index.v1+json');
      pages.push(r.json.manifests.map((m: { digest: string }) => m.digest));
      const link = r.headers.get('link');
      next = link ? /^<([^>]+)>; rel="next"$/.exec(link)?.[1] : undefined;
      if (link) expect(next).toBeDefined();
    }
    return pages;
  }

  it('pages with n and Link, oldest first, and keeps the artifactType filter across pages', async () => {
    const all = pushed.map((p) => p.digest);
    expect(await walk(`/v2/stups/paged-refs/referrers/${subject.digest}`)).toEqual([all]);
    const pages = await walk(`/v2/stups/paged-refs/referrers/${subject.digest}?n=2`);
    expect(pages).toEqual([all.slice(0, 2), all.slice(2, 4), all.slice(4)]);

    const sboms = pushed.filter((p) => p.type === SBOM).map((p) => p.digest);
    const filtered = await walk(
      `/v2/stups/paged-refs/referrers/${subject.digest}?n=2&artifactType=${encodeURIComponent(SBOM)}`,
    );
    expect(filtered).toEqual([sboms.slice(0, 2), sboms.slice(2)]);
    const first = await call(
      reg,
      'GET',
      `/v2/stups/paged-refs/referrers/${subject.digest}?n=2&artifactType=${encodeURIComponent(SBOM)}`,
      { token: reg.tokens.bob },
    );
    expect(first.headers.get('oci-filters-applied')).toBe('artifactType');
    expect(first.headers.get('link')).toContain(`artifactType=${encodeURIComponent(SBOM)}`);

    const unknownLast = await call(
      reg,
      'GET',
      `/v2/stups/paged-refs/referrers/${subject.digest}?n=2&last=${sha256('never pushed')}`,
      { token: reg.tokens.bob },
    );
    expect(unknownLast.json.manifests).toEqual([]);
    expect(unknownLast.headers.get('link')).toBeNull();

    const zero = await call(reg, 'GET', `/v2/stups/paged-refs/referrers/${subject.digest}?n=0`, {
      token: reg.tokens.bob,
    });
    expect(zero.json.manifests).toEqual([]);
    const bad = await call(reg, 'GET', `/v2/stups/paged-refs/referrers/${subject.digest}?n=-1`, {
      token: reg.tokens.bob,
    });
    expect(bad.status).toBe(400);
    expect(bad.json.errors[0].code).toBe('UNSUPPORTED');
  });

  it('answers the referrers tag schema from the same data and lets fallback clients push it', async () => {
    const tag = `sha256-${subject.digest.slice('sha256:'.length)}`;
    const head = await call(reg, 'HEAD', `/v2/stups/paged-refs/manifests/${tag}`, { token: reg.tokens.bob });
    expect(head.status).toBe(200);
    const index = await call(reg, 'GET', `/v2/stups/paged-refs/manifests/${tag}`, { token: reg.tokens.bob });
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toBe('application/vnd.oci.image.index.v1+json');
    expect(index.headers.get('docker-content-digest')).toBe(sha256(index.bytes));
    expect(head.headers.get('docker-content-digest')).toBe(sha256(index.bytes));
    expect(index.json.manifests.map((m: { digest: string }) => m.digest)).toEqual(
      pushed.map((p) => p.digest),
    );
    expect(index.json.manifests[0]).toMatchObject({ artifactType: SBOM });

    // A subject nobody refers to has no such tag, so that a fallback client starts a new index.
    const none = await call(reg, 'GET', `/v2/stups/paged-refs/manifests/sha256-${'0'.repeat(64)}`, {
      token: reg.tokens.bob,
    });
    expect(none.status).toBe(404);
    expect(none.json.errors[0].code).toBe('MANIFEST_UNKNOWN');

    // A fallback client updates the tag with its own (partial) index, twice: neither is refused
    // as a change of an immutable tag, and reads still answer the complete index.
    for (const entries of [pushed.slice(0, 1), pushed.slice(0, 2)]) {
      const own = JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.index.v1+json',
        manifests: entries.map((p) => ({
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          digest: p.digest,
          size: 1,
          artifactType: p.type,
        })),
      });
      const put = await putManifest(reg, reg.tokens.alice, 'stups/paged-refs', tag, own, {
        'content-type': 'application/vnd.oci.image.index.v1+json',
      });
      expect(put.status).toBe(201);
      expect(put.headers.get('docker-content-digest')).toBe(sha256(own));
    }
    const after = await call(reg, 'GET', `/v2/stups/paged-refs/manifests/${tag}`, { token: reg.tokens.bob });
    expect(after.json.manifests).toHaveLength(pushed.length);
    const tags = await call(reg, 'GET', '/v2/stups/paged-refs/tags/list', { token: reg.tokens.bob });
    expect(tags.json.tags).toEqual(['1.0']);
    const [event] = await reg.ctx.auditLog.query({
      service: 'pierone',
      targetId: `stups/paged-refs:${tag}`,
      limit: 5,
    });
    expect(event).toMatchObject({ action: 'pierone.manifest.push', actor: 'alice', outcome: 'success' });
  });

  it('answers the referrers tag of a sha512 subject, whose tag holds only the first 64 hex characters', async () => {
    const repo = 'stups/sha512-refs';
    const image = await rawImage(reg, reg.tokens.alice, repo);
    const hex = createHash('sha512').update(image.manifest).digest('hex');
    const pushedSubject = await putManifest(reg, reg.tokens.alice, repo, `sha512:${hex}`, image.manifest);
    expect(pushedSubject.status).toBe(201);
    const referrer = await rawImage(reg, reg.tokens.alice, repo, {
      subject: { digest: `sha512:${hex}`, size: image.size },
      artifactType: SBOM,
    });
    expect((await putManifest(reg, reg.tokens.alice, repo, referrer.digest, referrer.manifest)).status).toBe(
      201,
    );

    // The referrers API names the whole digest; the tag schema truncates it to 64 characters.
    const api = await call(reg, 'GET', `/v2/${repo}/referrers/sha512:${hex}`, { token: reg.tokens.bob });
    expect(api.json.manifests.map((m: { digest: string }) => m.digest)).toEqual([referrer.digest]);
    const tag = `sha512-${hex.slice(0, 64)}`;
    const head = await call(reg, 'HEAD', `/v2/${repo}/manifests/${tag}`, { token: reg.tokens.bob });
    expect(head.status).toBe(200);
    const index = await call(reg, 'GET', `/v2/${repo}/manifests/${tag}`, { token: reg.tokens.bob });
    expect(index.status).toBe(200);
    expect(index.json.manifests).toEqual([
      expect.objectContaining({ digest: referrer.digest, artifactType: SBOM }),
    ]);
    expect(head.headers.get('docker-content-digest')).toBe(sha256(index.bytes));

    // Another prefix names nothing; a fallback client may push the tag like the sha256 one.
    const none = await call(reg, 'GET', `/v2/${repo}/manifests/sha512-${'0'.repeat(64)}`, {
      token: reg.tokens.bob,
    });
    expect(none.status).toBe(404);
    expect(none.json.errors[0].code).toBe('MANIFEST_UNKNOWN');
    const own = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: referrer.digest, size: 1 },
      ],
    });
    const put = await putManifest(reg, reg.tokens.alice, repo, tag, own, {
      'content-type': 'application/vnd.oci.image.index.v1+json',
    });
    expect(put.status).toBe(201);
    const tags = await call(reg, 'GET', `/v2/${repo}/tags/list`, { token: reg.tokens.bob });
    expect(tags.json.tags).toEqual([]);
  });
});
