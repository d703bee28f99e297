import { sql } from 'kysely';
import { expect, it } from 'vitest';
import { migrateToLatest } from '../platform/db/migrate.js';
import { describeEachDatabase } from '../platform/test-support/databases.js';
import { KERNEL_MIGRATIONS } from '../platform/test-support/service-context.js';
import { pieroneMigrations } from './migrations.js';
import { PierOneStore } from './store.js';
import { sha256 } from './test-support/http.js';

/** Pier One's schema as it was before the config digest was kept. */
const BEFORE_CONFIG_DIGEST = {
  component: 'pierone',
  migrations: { '001-registry': pieroneMigrations.migrations['001-registry']! },
};

function imageManifest(config: string, annotation: string): string {
  return JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: config, size: 2 },
    layers: [],
    annotations: { note: annotation },
  });
}

describeEachDatabase(
  'Pier One migration 002 (config digest)',
  [...KERNEL_MIGRATIONS, BEFORE_CONFIG_DIGEST],
  (getDatabase) => {
    it('fills the image id of manifests pushed before it, from their stored bytes', async () => {
      const database = getDatabase();
      const db = database.kysely();
      const configA = sha256('config a');
      const configB = sha256('config b');
      const manifests = [
        { repository: 'stups/old', tag: '1.0', content: imageManifest(configA, 'one') },
        // PostgreSQL's JSON functions refuse \u0000, which a push accepts: the backfill must not.
        { repository: 'stups/old', tag: '2.0', content: imageManifest(configB, 'nul \u0000 inside') },
        {
          repository: 'stups/old',
          tag: 'multi',
          content: JSON.stringify({
            schemaVersion: 2,
            mediaType: 'application/vnd.oci.image.index.v1+json',
            manifests: [],
          }),
        },
      ];
      for (const m of manifests) {
        const digest = sha256(m.content);
        await sql`insert into pierone_manifests (repository, digest, media_type, content, created_by)
        values (${m.repository}, ${digest}, 'application/vnd.oci.image.manifest.v1+json',
                ${Buffer.from(m.content)}, 'alice')`.execute(db);
        await sql`insert into pierone_tags (team, artifact, name, digest, created_by)
        values ('stups', 'old', ${m.tag}, ${digest}, 'alice')`.execute(db);
      }

      // An index stored before its children were kept as rows (migration 009).
      const children = [sha256('child amd64'), sha256('child arm64')];
      const index = JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.index.v1+json',
        manifests: children.map((digest) => ({
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          digest,
          size: 2,
        })),
      });
      await sql`insert into pierone_manifests (repository, digest, media_type, content, created_by)
        values ('stups/old', ${sha256(index)}, 'application/vnd.oci.image.index.v1+json',
                ${Buffer.from(index)}, 'alice')`.execute(db);

      // More than one round of the backfill (500 per round).
      await sql`insert into pierone_manifests (repository, digest, media_type, content, created_by)
      select 'stups/many', 'sha256:' || lpad(to_hex(i), 64, '0'), 'application/vnd.oci.image.manifest.v1+json',
             convert_to('{"schemaVersion":2,"config":{"digest":"sha256:' || lpad(to_hex(i + 4096), 64, '0') || '"}}', 'UTF8'),
             'alice'
      from generate_series(1, 1234) as i`.execute(db);

      await migrateToLatest(database, [...KERNEL_MIGRATIONS, pieroneMigrations]);

      const hex64 = (n: number) => `sha256:${n.toString(16).padStart(64, '0')}`;
      const many = await sql<{ digest: string; config_digest: string | null }>`
      select digest, config_digest from pierone_manifests where repository = 'stups/many'`.execute(db);
      expect(many.rows).toHaveLength(1234);
      for (const row of many.rows) {
        expect(row.config_digest).toBe(hex64(parseInt(row.digest.slice('sha256:'.length), 16) + 4096));
      }

      const store = new PierOneStore(database);
      const tags = await store.tags('stups', 'old');
      expect(Object.fromEntries(tags.map((t) => [t.name, t.imageId]))).toEqual({
        '1.0': configA,
        '2.0': configB,
        multi: sha256(manifests[2]!.content),
      });
      const found = await store.tagsByDigestPrefix(configB.slice(0, 19), 10);
      expect(found.map((t) => t.name)).toEqual(['2.0']);

      const listed = await sql<{ manifest: string; child: string }>`
        select manifest, child from pierone_manifest_children order by child`.execute(db);
      expect(listed.rows).toEqual(children.sort().map((child) => ({ manifest: sha256(index), child })));
    });
  },
);
