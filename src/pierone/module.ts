import { awsClientConfig } from '../platform/aws/client-config.js';
import { createFilesystemBlobStore } from '../platform/blob-store/index.js';
import type { S3BlobStoreOptions } from '../platform/blob-store/s3-blob-store.js';
import { defineModule } from '../platform/service-module.js';
import type { ImageTagDirectory } from './contract.js';
import { PierOneImageTags } from './image-tags.js';
import { pieroneMigrations } from './migrations.js';
import { PierOneProvenance, type ProvenanceDirectory } from './provenance/directory.js';
import { createPierOneService } from './service.js';
import type { RunningImageDirectory } from './retention/retention.js';
import { PierOneSettingsSchema } from './settings.js';

declare module '../platform/contracts.js' {
  interface Contracts {
    /** Which image tags exist, their scm-source and provenance, for fullstop. */
    imageTags: ImageTagDirectory;
    /** Provenance attestations of images and the key set that verifies them, for `stups trace`. */
    provenance: ProvenanceDirectory;
    /**
     * Which images run (tags and digests of a repository in use), for retention rules that keep
     * running images. Provided by a module after Pier One; read when a rule needs it.
     */
    runningImages: RunningImageDirectory;
  }
}

/** The S3 store, imported only where S3 holds the blobs (the default is the data directory). */
async function s3BlobStore(options: S3BlobStoreOptions) {
  const { createS3BlobStore } = await import('../platform/blob-store/s3-blob-store.js');
  return createS3BlobStore(options);
}

/** Pier One, the OCI registry with immutable tags. */
export const pieroneModule = defineModule({
  name: 'pierone',
  migrations: [pieroneMigrations],
  settings: PierOneSettingsSchema,
  async create(ctx, { settings, contracts }) {
    const { blobBucket, uploadPurge, retention, gc, ...config } = settings;
    const blobs = blobBucket
      ? await s3BlobStore({
          bucket: blobBucket,
          stagingDir: `${ctx.dataDir}/staging`,
          ...awsClientConfig(ctx.aws, 's3'),
        })
      : await createFilesystemBlobStore({ root: `${ctx.dataDir}/blobs` });
    const pierone = createPierOneService(ctx, {
      teams: contracts.get('teams'),
      applications: contracts.get('applications'),
      serviceApplications: contracts.find('serviceUserDirectory'),
      blobs,
      config,
      gc: { graceMs: gc.graceSeconds * 1000 },
      abandonedUploadMs: uploadPurge.maxAgeSeconds * 1000,
      keyEncryptionSecret: ctx.installationSecret,
      // Modules after Pier One publish later: asked at run time, not at creation.
      runningImages: () => contracts.find('runningImages'),
    });
    return {
      app: () => pierone.createApp(),
      provides: {
        imageTags: new PierOneImageTags(pierone.store),
        provenance: new PierOneProvenance(pierone.store, blobs, pierone.attestationKeys),
      },
      jobs: [
        {
          // Uploads abandoned by clients are removed; nothing visible is ever deleted. Upload
          // state is shared, so the runner runs it once per tick for all replicas.
          name: await pierone.uploadPurgeJobName(),
          intervalMs: uploadPurge.intervalSeconds * 1000,
          run: async () => {
            // The age is the service's own (`abandonedUploadMs`), which also keeps uploads alive.
            const swept = await pierone.purgeStaleUploads();
            // What went, so that orphaned chunks (records gone without them) show in the logs.
            if (swept.records + swept.parts + swept.sessions + swept.orphans > 0)
              ctx.logger.info(
                { service: 'pierone', job: 'upload-purge', ...swept },
                'abandoned uploads purged',
              );
          },
        },
        {
          // Exactly once per tick across replicas; every deletion is its own audited transaction.
          name: 'pierone.retention',
          intervalMs: retention.intervalSeconds * 1000,
          run: async () => {
            await pierone.retention.run();
          },
        },
        {
          // Blob garbage collection: the job runner runs it on one replica at a time; even two
          // overlapping runs would be safe (row locks, see gc/collector.ts).
          name: 'pierone.gc',
          intervalMs: gc.intervalSeconds * 1000,
          run: async () => {
            await pierone.collectGarbage();
          },
        },
      ],
    };
  },
});
