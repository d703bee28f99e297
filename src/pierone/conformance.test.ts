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
import { startTestRegistry, type TestRegistry } from './test-support/registry-harness.js';

const sha512 = (data: string) => `sha512:${createHash('sha512').update(data).digest('hex')}`;

describeEachDatabase(
  'OCI distribution spec workflows',
  [...KERNEL_MIGRATIONS, pieroneMigrations],
  (getDatabase) => {
    let reg: TestRegistry;
    beforeAll(async () => {
      reg = await startTestRegistry(getDatabase());
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
  },
);
