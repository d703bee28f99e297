/**
 * The OCI distribution spec's conformance workflows (pull, push, content discovery, content
 * management) walked against Pier One, written from the spec text; each case names its section.
 * Where Pier One answers differently by design, the case says so:
 * - names are always `<team>/<artifact>` (any other shape is NAME_INVALID / NAME_UNKNOWN);
 * - tags are immutable: another manifest under an existing tag is 409 TAG_INVALID, and
 *   `latest` cannot be pushed (reading it gives the newest tag);
 * - deleting is reserved to platform admins with a reason (405 for everyone else).
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeEachDatabase } from '../platform/test-support/databases.js';
import { KERNEL_MIGRATIONS } from '../platform/test-support/service-context.js';
import { pieroneMigrations } from './migrations.js';
import { call, putManifest, rawImage } from './test-support/http.js';
import { skopeo, startTestRegistry, type TestRegistry } from './test-support/registry-harness.js';

const sha256Of = (data: string | Buffer) => `sha256:${createHash('sha256').update(data).digest('hex')}`;
const sha512 = (data: string | Buffer) => `sha512:${createHash('sha512').update(data).digest('hex')}`;

describeEachDatabase(
  'OCI distribution spec workflows',
  [...KERNEL_MIGRATIONS, pieroneMigrations],
  (getDatabase) => {
    let reg: TestRegistry;
    /** A platform admin (employee `admin`) with and without the deletion scope. */
    let deleter: string;
    let adminWithoutScope: string;
    beforeAll(async () => {
      reg = await startTestRegistry(getDatabase());
      deleter = await reg.issuer.token({ uid: 'admin', scopes: ['uid', 'pierone.admin.delete'] });
      adminWithoutScope = await reg.issuer.token({ uid: 'admin' });
    });
    afterAll(async () => {
      await reg?.close();
    });

    describe('Pull', () => {
      it('pulling manifests: a reference that is neither a tag nor a digest is 404 MANIFEST_UNKNOWN (GET and HEAD)', async () => {
        const image = await rawImage(reg, reg.tokens.alice, 'stups/pull');
        expect((await putManifest(reg, reg.tokens.alice, 'stups/pull', '1.0', image.manifest)).status).toBe(
          201,
        );
        for (const reference of ['-not-a-tag', 'sha256:abc', 'md5:0123', `sha512:${'a'.repeat(64)}`]) {
          const get = await call(reg, 'GET', `/v2/stups/pull/manifests/${reference}`, {
            token: reg.tokens.alice,
          });
          expect(get.status, reference).toBe(404);
          expect(get.json.errors[0].code, reference).toBe('MANIFEST_UNKNOWN');
          const head = await call(reg, 'HEAD', `/v2/stups/pull/manifests/${reference}`, {
            token: reg.tokens.alice,
          });
          expect(head.status, reference).toBe(404);
        }
      });
    });

    describe('Push', () => {
      it('pushing manifests: an invalid reference keeps 400 on PUT', async () => {
        const image = await rawImage(reg, reg.tokens.alice, 'stups/push');
        const badTag = await putManifest(reg, reg.tokens.alice, 'stups/push', '-not-a-tag', image.manifest);
        expect(badTag.status).toBe(400);
        expect(badTag.json.errors[0].code).toBe('TAG_INVALID');
        const badDigest = await putManifest(reg, reg.tokens.alice, 'stups/push', 'md5:0123', image.manifest);
        expect(badDigest.status).toBe(400);
        expect(badDigest.json.errors[0].code).toBe('DIGEST_INVALID');
      });

      it('pushing manifests: a sha512 digest is verified and the manifest is pulled by it', async () => {
        const image = await rawImage(reg, reg.tokens.alice, 'stups/sha512');
        const digest = sha512(image.manifest);
        const wrong = await putManifest(
          reg,
          reg.tokens.alice,
          'stups/sha512',
          sha512('other'),
          image.manifest,
        );
        expect(wrong.status).toBe(400);
        expect(wrong.json.errors[0].code).toBe('DIGEST_INVALID');
        const pushed = await putManifest(reg, reg.tokens.alice, 'stups/sha512', digest, image.manifest);
        expect(pushed.status).toBe(201);
        expect(pushed.headers.get('docker-content-digest')).toBe(digest);
        const pulled = await call(reg, 'GET', `/v2/stups/sha512/manifests/${digest}`, {
          token: reg.tokens.alice,
        });
        expect(pulled.status).toBe(200);
        expect(pulled.headers.get('docker-content-digest')).toBe(digest);
        expect(pulled.text).toBe(image.manifest);
        // Listing referrers (content discovery) of a subject named by its sha512 digest.
        const referrer = await rawImage(reg, reg.tokens.alice, 'stups/sha512', {
          subject: { digest, size: image.size },
          artifactType: 'application/vnd.example.sbom',
        });
        expect(
          (await putManifest(reg, reg.tokens.alice, 'stups/sha512', referrer.digest, referrer.manifest))
            .status,
        ).toBe(201);
        const referrers = await call(reg, 'GET', `/v2/stups/sha512/referrers/${digest}`, {
          token: reg.tokens.alice,
        });
        expect(referrers.status).toBe(200);
        expect(referrers.json.manifests.map((m: { digest: string }) => m.digest)).toEqual([referrer.digest]);
      });

      it('pushing blobs (monolithic POST, POST then PUT, chunked PATCH ×2 then PUT), mounting and pulling by sha512 digests', async () => {
        const repo = 'stups/sha512-blobs';
        const token = reg.tokens.alice;
        const octets = { 'content-type': 'application/octet-stream' };
        // Pushing blobs — POST then PUT with `?digest=` in one request (monolithic).
        const whole = `monolithic ${Math.random()}`;
        const posted = await call(reg, 'POST', `/v2/${repo}/blobs/uploads/?digest=${sha512(whole)}`, {
          token,
          body: whole,
          headers: octets,
        });
        expect(posted.status).toBe(201);
        expect(posted.headers.get('docker-content-digest')).toBe(sha512(whole));
        // Pushing a blob monolithically: POST for a session, then PUT `?digest=` with the body.
        const second = `put ${Math.random()}`;
        const session = await call(reg, 'POST', `/v2/${repo}/blobs/uploads/`, { token });
        expect(session.status).toBe(202);
        const put = await call(reg, 'PUT', `${session.headers.get('location')}?digest=${sha512(second)}`, {
          token,
          body: second,
          headers: octets,
        });
        expect(put.status).toBe(201);
        // Pushing a blob in chunks: two PATCH requests, then PUT `?digest=` (no body).
        const chunked = `first half ${Math.random()} | second half`;
        const open = await call(reg, 'POST', `/v2/${repo}/blobs/uploads/`, { token });
        let location = open.headers.get('location')!;
        for (const [start, end] of [
          [0, 10],
          [10, chunked.length],
        ] as const) {
          const patch = await call(reg, 'PATCH', location, {
            token,
            body: chunked.slice(start, end),
            headers: { ...octets, 'content-range': `${start}-${end - 1}` },
          });
          expect(patch.status).toBe(202);
          location = patch.headers.get('location')!;
        }
        const closed = await call(reg, 'PUT', `${location}?digest=${sha512(chunked)}`, { token });
        expect(closed.status).toBe(201);
        expect(closed.headers.get('docker-content-digest')).toBe(sha512(chunked));
        // Wrong bytes for the announced sha512 digest: 400 DIGEST_INVALID, nothing stored.
        const wrong = await call(reg, 'POST', `/v2/${repo}/blobs/uploads/?digest=${sha512('other')}`, {
          token,
          body: 'not other',
          headers: octets,
        });
        expect(wrong.status).toBe(400);
        expect(wrong.json.errors[0].code).toBe('DIGEST_INVALID');
        expect((await call(reg, 'HEAD', `/v2/${repo}/blobs/${sha512('other')}`, { token })).status).toBe(404);
        // An algorithm the spec does not register, or a sha512 of the wrong length: DIGEST_INVALID.
        for (const digest of [`blake3:${'a'.repeat(64)}`, `sha512:${'a'.repeat(64)}`]) {
          const refused = await call(reg, 'POST', `/v2/${repo}/blobs/uploads/?digest=${digest}`, {
            token,
            body: 'x',
            headers: octets,
          });
          expect(refused.status, digest).toBe(400);
          expect(refused.json.errors[0].code, digest).toBe('DIGEST_INVALID');
        }
        // Pulling blobs — HEAD and GET by sha512 digest.
        for (const content of [whole, second, chunked]) {
          const head = await call(reg, 'HEAD', `/v2/${repo}/blobs/${sha512(content)}`, { token });
          expect(head.status).toBe(200);
          expect(head.headers.get('docker-content-digest')).toBe(sha512(content));
          const get = await call(reg, 'GET', `/v2/${repo}/blobs/${sha512(content)}`, { token });
          expect(get.text).toBe(content);
        }
        // The same bytes under sha256 are another blob, not yet in this repository.
        expect((await call(reg, 'HEAD', `/v2/${repo}/blobs/${sha256Of(whole)}`, { token })).status).toBe(404);
        // Mounting a blob from another repository by its sha512 digest.
        const mounted = await call(
          reg,
          'POST',
          `/v2/stups/sha512-mounted/blobs/uploads/?mount=${sha512(chunked)}&from=${repo}`,
          { token },
        );
        expect(mounted.status).toBe(201);
        expect(mounted.headers.get('docker-content-digest')).toBe(sha512(chunked));
        const there = await call(reg, 'GET', `/v2/stups/sha512-mounted/blobs/${sha512(chunked)}`, { token });
        expect(there.text).toBe(chunked);
      });

      it('pushing manifests: config and layer descriptors with sha512 digests must name blobs in the repository', async () => {
        const repo = 'stups/sha512-layers';
        const token = reg.tokens.alice;
        const octets = { 'content-type': 'application/octet-stream' };
        const config = JSON.stringify({
          architecture: 'amd64',
          os: 'linux',
          config: { Labels: { nonce: String(Math.random()) } },
          rootfs: { type: 'layers', diff_ids: [] },
        });
        const layer = Buffer.alloc(1024); // an empty tar archive: two zero blocks
        const manifestOf = (layerDigest: string) =>
          JSON.stringify({
            schemaVersion: 2,
            mediaType: 'application/vnd.oci.image.manifest.v1+json',
            config: {
              mediaType: 'application/vnd.oci.image.config.v1+json',
              digest: sha512(config),
              size: config.length,
            },
            layers: [
              {
                mediaType: 'application/vnd.oci.image.layer.v1.tar',
                digest: layerDigest,
                size: layer.length,
              },
            ],
          });
        for (const content of [config, layer]) {
          const r = await call(reg, 'POST', `/v2/${repo}/blobs/uploads/?digest=${sha512(content)}`, {
            token,
            body: content,
            headers: octets,
          });
          expect(r.status).toBe(201);
        }
        const missing = await putManifest(reg, token, repo, '1.0', manifestOf(sha512('absent layer')));
        expect(missing.status).toBe(400);
        expect(missing.json.errors[0].code).toBe('MANIFEST_BLOB_UNKNOWN');
        const manifest = manifestOf(sha512(layer));
        const pushed = await putManifest(reg, token, repo, '1.0', manifest);
        expect(pushed.status).toBe(201);
        // Pushed by tag: the canonical sha256 digest answers.
        expect(pushed.headers.get('docker-content-digest')).toBe(sha256Of(manifest));
        const pulled = await call(reg, 'GET', `/v2/${repo}/manifests/1.0`, { token });
        expect(pulled.text).toBe(manifest);
        // STUPS API (not in the spec): the image id is the sha512 config digest, found by a prefix.
        const found = await call(reg, 'GET', `/tags/${sha512(config).slice(0, 30)}`, { token });
        expect(found.status).toBe(200);
        expect(found.json).toEqual([{ name: '1.0', team: 'stups', artifact: 'sha512-layers' }]);
        const tooLong = await call(reg, 'GET', `/tags/sha512:${'a'.repeat(129)}`, { token });
        expect(tooLong.status).toBe(400);
      });

      it('pushing manifests with tags: ?tag=a&tag=b tags one manifest twice, answering OCI-Tag per tag', async () => {
        const image = await rawImage(reg, reg.tokens.alice, 'stups/multi');
        const pushed = await putManifest(
          reg,
          reg.tokens.alice,
          'stups/multi',
          `${image.digest}?tag=1.0&tag=1.0.0`,
          image.manifest,
        );
        expect(pushed.status).toBe(201);
        expect(pushed.headers.get('oci-tag')).toBe('1.0, 1.0.0');
        for (const tag of ['1.0', '1.0.0']) {
          const read = await call(reg, 'HEAD', `/v2/stups/multi/manifests/${tag}`, {
            token: reg.tokens.alice,
          });
          expect(read.headers.get('docker-content-digest'), tag).toBe(image.digest);
        }
        const events = await reg.ctx.auditLog.query({
          action: 'pierone.tag.create',
          targetId: 'stups/multi:1.0.0',
          limit: 5,
        });
        expect(events.map((e) => e.outcome)).toEqual(['success']);
      });

      it('pushing manifests with tags: by design one immutable tag elsewhere refuses the whole push (409)', async () => {
        const first = await rawImage(reg, reg.tokens.alice, 'stups/multi-conflict');
        const second = await rawImage(reg, reg.tokens.alice, 'stups/multi-conflict');
        expect(
          (await putManifest(reg, reg.tokens.alice, 'stups/multi-conflict', '1.0', first.manifest)).status,
        ).toBe(201);
        const refused = await putManifest(
          reg,
          reg.tokens.alice,
          'stups/multi-conflict',
          `${second.digest}?tag=2.0&tag=1.0`,
          second.manifest,
        );
        expect(refused.status).toBe(409);
        expect(refused.json.errors[0].code).toBe('TAG_INVALID');
        const two = await call(reg, 'HEAD', '/v2/stups/multi-conflict/manifests/2.0', {
          token: reg.tokens.alice,
        });
        expect(two.status).toBe(404);
      });
    });
    describe('Pull (blobs)', () => {
      it('pulling blobs: HEAD and GET by digest; an unknown digest is 404 BLOB_UNKNOWN', async () => {
        const image = await rawImage(reg, reg.tokens.alice, 'stups/blobs');
        const head = await call(reg, 'HEAD', `/v2/stups/blobs/blobs/${image.config}`, {
          token: reg.tokens.alice,
        });
        expect(head.status).toBe(200);
        expect(head.headers.get('docker-content-digest')).toBe(image.config);
        const get = await call(reg, 'GET', `/v2/stups/blobs/blobs/${image.config}`, {
          token: reg.tokens.alice,
        });
        expect(createHash('sha256').update(get.bytes).digest('hex')).toBe(
          image.config.slice('sha256:'.length),
        );
        const unknown = await call(reg, 'GET', `/v2/stups/blobs/blobs/sha256:${'0'.repeat(64)}`, {
          token: reg.tokens.alice,
        });
        expect(unknown.status).toBe(404);
        expect(unknown.json.errors[0].code).toBe('BLOB_UNKNOWN');
      });
    });

    describe('Content discovery', () => {
      it('listing tags: lexical order, ?n= and ?last= page with a Link header', async () => {
        const image = await rawImage(reg, reg.tokens.alice, 'stups/listing');
        await putManifest(
          reg,
          reg.tokens.alice,
          'stups/listing',
          `${image.digest}?tag=b&tag=a&tag=c`,
          image.manifest,
        );
        const all = await call(reg, 'GET', '/v2/stups/listing/tags/list', { token: reg.tokens.alice });
        expect(all.json).toEqual({ name: 'stups/listing', tags: ['a', 'b', 'c'] });
        const first = await call(reg, 'GET', '/v2/stups/listing/tags/list?n=2', { token: reg.tokens.alice });
        expect(first.json.tags).toEqual(['a', 'b']);
        expect(first.headers.get('link')).toBe('</v2/stups/listing/tags/list?n=2&last=b>; rel="next"');
        const rest = await call(reg, 'GET', '/v2/stups/listing/tags/list?n=2&last=b', {
          token: reg.tokens.alice,
        });
        expect(rest.json.tags).toEqual(['c']);
        expect(rest.headers.get('link')).toBeNull();
      });

      it('listing referrers: a manifest with a subject is listed in an OCI index, filterable by artifactType', async () => {
        const subject = await rawImage(reg, reg.tokens.alice, 'stups/refs');
        await putManifest(reg, reg.tokens.alice, 'stups/refs', '1.0', subject.manifest);
        const sbom = await rawImage(reg, reg.tokens.alice, 'stups/refs', {
          subject: { digest: subject.digest, size: subject.size },
          artifactType: 'application/spdx+json',
        });
        const pushed = await putManifest(reg, reg.tokens.alice, 'stups/refs', sbom.digest, sbom.manifest);
        expect(pushed.headers.get('oci-subject')).toBe(subject.digest);
        const index = await call(reg, 'GET', `/v2/stups/refs/referrers/${subject.digest}`, {
          token: reg.tokens.alice,
        });
        expect(index.status).toBe(200);
        expect(index.headers.get('content-type')).toBe('application/vnd.oci.image.index.v1+json');
        expect(index.json.manifests.map((m: { digest: string }) => m.digest)).toEqual([sbom.digest]);
        const filtered = await call(
          reg,
          'GET',
          `/v2/stups/refs/referrers/${subject.digest}?artifactType=${encodeURIComponent('application/other')}`,
          { token: reg.tokens.alice },
        );
        expect(filtered.json.manifests).toEqual([]);
      });
    });

    describe('Content management', () => {
      const reason = (r: string) => ({ 'x-deletion-reason': r });

      it('deleting manifests: 405 UNSUPPORTED for teams and admin tokens without pierone.admin.delete (by design), audited', async () => {
        const image = await rawImage(reg, reg.tokens.alice, 'stups/keep');
        expect((await putManifest(reg, reg.tokens.alice, 'stups/keep', '1.0', image.manifest)).status).toBe(
          201,
        );
        for (const token of [reg.tokens.alice, reg.tokens.serviceWriteAll, adminWithoutScope]) {
          const refused = await call(reg, 'DELETE', `/v2/stups/keep/manifests/${image.digest}`, {
            token,
            headers: reason('leaked secret'),
          });
          expect(refused.status).toBe(405);
          expect(refused.json.errors[0].code).toBe('UNSUPPORTED');
        }
        const events = await reg.ctx.auditLog.query({
          action: 'pierone.manifest.delete',
          targetId: `stups/keep@${image.digest}`,
          limit: 10,
        });
        expect(events.map((e) => e.outcome)).toEqual(['refused', 'refused', 'refused']);
        const still = await call(reg, 'HEAD', '/v2/stups/keep/manifests/1.0', { token: reg.tokens.alice });
        expect(still.status).toBe(200);
      });

      it('deleting manifests: a platform admin with pierone.admin.delete and a reason gets 202; its tags are burnt', async () => {
        const image = await rawImage(reg, reg.tokens.alice, 'stups/leak');
        const pushed = await putManifest(
          reg,
          reg.tokens.alice,
          'stups/leak',
          `${image.digest}?tag=1.0&tag=1.1`,
          image.manifest,
        );
        expect(pushed.status).toBe(201);

        const noReason = await call(reg, 'DELETE', `/v2/stups/leak/manifests/${image.digest}`, {
          token: deleter,
        });
        expect(noReason.status).toBe(400);
        expect(noReason.json.errors[0].message).toContain('reason');

        const deleted = await call(reg, 'DELETE', `/v2/stups/leak/manifests/${image.digest}`, {
          token: deleter,
          headers: reason('AWS key in layer 2, INC-42'),
        });
        expect(deleted.status).toBe(202);
        for (const reference of [image.digest, '1.0', '1.1']) {
          const gone = await call(reg, 'GET', `/v2/stups/leak/manifests/${reference}`, {
            token: reg.tokens.alice,
          });
          expect(gone.status, reference).toBe(404);
          expect(gone.json.errors[0].code).toBe('MANIFEST_UNKNOWN');
        }
        const tagGone = await call(reg, 'GET', '/v2/stups/leak/manifests/1.0', { token: reg.tokens.alice });
        expect(tagGone.json.errors[0].message).toMatch(
          /deleted by admin on .* because AWS key in layer 2, INC-42/,
        );
        // Its blobs no other manifest of the repository refers to cannot be pulled through it any more.
        const blob = await call(reg, 'HEAD', `/v2/stups/leak/blobs/${image.config}`, {
          token: reg.tokens.alice,
        });
        expect(blob.status).toBe(404);
        const listed = await call(reg, 'GET', '/v2/stups/leak/tags/list', { token: reg.tokens.alice });
        expect(listed.json?.tags ?? []).toEqual([]);

        // The names stay burnt: neither other content nor the same one may take them again.
        const other = await rawImage(reg, reg.tokens.alice, 'stups/leak');
        for (const manifest of [other.manifest, image.manifest]) {
          const reuse = await putManifest(reg, reg.tokens.alice, 'stups/leak', '1.0', manifest);
          expect(reuse.status).toBe(409);
          expect(reuse.json.errors[0].message).toContain('never reused');
        }
        const events = await reg.ctx.auditLog.query({
          action: 'pierone.manifest.delete',
          targetId: `stups/leak@${image.digest}`,
          limit: 10,
        });
        const success = events.find((e) => e.outcome === 'success');
        expect(success?.actor).toBe('admin');
        expect(success?.details).toMatchObject({
          reason: 'AWS key in layer 2, INC-42',
          tags: ['1.0', '1.1'],
          unlinked_blobs: [image.config],
        });
        expect(events.filter((e) => e.outcome === 'refused')).toHaveLength(1);
      });

      it('deleting tags: DELETE …/manifests/<tag> deletes the tag only (202), the manifest stays by digest', async () => {
        const image = await rawImage(reg, reg.tokens.alice, 'stups/retag');
        await putManifest(
          reg,
          reg.tokens.alice,
          'stups/retag',
          `${image.digest}?tag=1.0&tag=wrong-name`,
          image.manifest,
        );
        const deleted = await call(
          reg,
          'DELETE',
          '/v2/stups/retag/manifests/wrong-name?reason=misnamed%20release',
          {
            token: deleter,
          },
        );
        expect(deleted.status).toBe(202);
        expect(
          (await call(reg, 'HEAD', '/v2/stups/retag/manifests/wrong-name', { token: reg.tokens.alice }))
            .status,
        ).toBe(404);
        expect(
          (await call(reg, 'HEAD', '/v2/stups/retag/manifests/1.0', { token: reg.tokens.alice })).status,
        ).toBe(200);
        expect(
          (
            await call(reg, 'HEAD', `/v2/stups/retag/manifests/${image.digest}`, {
              token: reg.tokens.alice,
            })
          ).status,
        ).toBe(200);
        const again = await call(reg, 'DELETE', '/v2/stups/retag/manifests/wrong-name?reason=twice', {
          token: deleter,
        });
        expect(again.status).toBe(404);
      });

      it('STUPS API (not in the spec): admins delete a tag with a reason in the body; the API shows "deleted by X on D because R"', async () => {
        const image = await rawImage(reg, reg.tokens.alice, 'stups/api-del');
        await putManifest(
          reg,
          reg.tokens.alice,
          'stups/api-del',
          `${image.digest}?tag=1.0&tag=2.0`,
          image.manifest,
        );
        const path = '/teams/stups/artifacts/api-del/tags/1.0';
        const json = { 'content-type': 'application/json' };
        const body = JSON.stringify({ reason: 'legal takedown LEGAL-7' });
        const anonymous = await call(reg, 'DELETE', path, { headers: json, body });
        expect(anonymous.status).toBe(401);
        const member = await call(reg, 'DELETE', path, { token: reg.tokens.alice, headers: json, body });
        expect(member.status).toBe(405);
        expect(member.headers.get('content-type')).toMatch(/^application\/problem\+json/);
        const noReason = await call(reg, 'DELETE', path, { token: deleter });
        expect(noReason.status).toBe(400);
        const deleted = await call(reg, 'DELETE', path, { token: deleter, headers: json, body });
        expect(deleted.status).toBe(200);
        expect(deleted.json).toEqual({
          deleted: 'stups/api-del:1.0',
          tags: ['1.0'],
          deleted_by: 'admin',
          reason: 'legal takedown LEGAL-7',
        });
        const listed = await call(reg, 'GET', '/teams/stups/artifacts/api-del/deleted-tags', {
          token: reg.tokens.bob,
        });
        expect(listed.json).toEqual([
          {
            name: '1.0',
            digest: image.digest,
            deleted_by: 'admin',
            deleted_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
            reason: 'legal takedown LEGAL-7',
            description: expect.stringMatching(/^deleted by admin on \S+ because legal takedown LEGAL-7$/),
          },
        ]);
        const one = await call(reg, 'GET', path, { token: reg.tokens.bob });
        expect(one.status).toBe(404);
        expect(one.json.detail).toMatch(/deleted by admin on .* because legal takedown LEGAL-7/);
        const tags = await call(reg, 'GET', '/teams/stups/artifacts/api-del/tags', {
          token: reg.tokens.bob,
        });
        expect(tags.json.map((t: { name: string }) => t.name)).toEqual(['2.0']);
        const events = await reg.ctx.auditLog.query({
          action: 'pierone.tag.delete',
          targetId: 'stups/api-del:1.0',
          limit: 10,
        });
        expect(events.map((e) => e.outcome).sort()).toEqual(['refused', 'refused', 'refused', 'success']);

        const byDigest = await call(
          reg,
          'DELETE',
          `/teams/stups/artifacts/api-del/manifests/${image.digest}?reason=cleanup`,
          {
            token: deleter,
          },
        );
        expect(byDigest.status).toBe(200);
        expect(byDigest.json.tags).toEqual(['2.0']);
      });

      it('deleting with skopeo: refused (405) for a team member; skopeo cannot send the mandatory reason', async () => {
        const image = await rawImage(reg, reg.tokens.alice, 'stups/skopeo-del');
        expect(
          (await putManifest(reg, reg.tokens.alice, 'stups/skopeo-del', '1.0', image.manifest)).status,
        ).toBe(201);
        const ref = `docker://${reg.host}/stups/skopeo-del@${image.digest}`;
        const member = await skopeo([
          'delete',
          '--tls-verify=false',
          '--creds',
          `oauth2:${reg.tokens.alice}`,
          ref,
        ]);
        expect(member.code).not.toBe(0);
        expect(member.stderr).toMatch(/405|UNSUPPORTED|not supported|unsupported/i);
        const admin = await skopeo(['delete', '--tls-verify=false', '--creds', `oauth2:${deleter}`, ref]);
        expect(admin.code).not.toBe(0);
        expect(admin.stderr).toMatch(/reason/);
        expect(
          (await call(reg, 'HEAD', '/v2/stups/skopeo-del/manifests/1.0', { token: reg.tokens.alice })).status,
        ).toBe(200);
      });
    });
  },
);
