import { awsClientConfig } from '../platform/aws/client-config.js';
import { createFilesystemBlobStore, createS3BlobStore } from '../platform/blob-store/index.js';
import { defineModule } from '../platform/service-module.js';
import type { ImageTagDirectory } from './contract.js';
import { PierOneImageTags } from './image-tags.js';
import { pieroneMigrations } from './migrations.js';
import { PierOneProvenance, type ProvenanceDirectory } from './provenance/directory.js';
import { createPierOneService } from './service.js';
import { PierOneSettingsSchema } from './settings.js';

declare module '../platform/contracts.js' {
  interface Contracts {
    /** Which image tags exist, their scm-source and provenance, for fullstop. */
    imageTags: ImageTagDirectory;
    /** Provenance attestations of images and the key set that verifies them, for `stups trace`. */
    provenance: ProvenanceDirectory;
  }
}

/** Pier One, the OCI registry with immutable tags. */
export const pieroneModule = defineModule({
  name: 'pierone',
  migrations: [pieroneMigrations],
  settings: PierOneSettingsSchema,
  async create(ctx, { settings, contracts }) {
    const { blobBucket, uploadPurge, ...config } = settings;
    const blobs = blobBucket
      ? await createS3BlobStore({
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
      keyEncryptionSecret: ctx.installationSecret,
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
            await pierone.purgeStaleUploads({
              olderThanMs: uploadPurge.maxAgeSeconds * 1000,
            });
          },
        },
      ],
    };
  },
});
