import { defineModule } from '../platform/service-module.js';
import { bucketStoreFor, createMintService } from './index.js';
import { mintMigrations } from './migrations.js';
import { MintSettingsSchema } from './settings.js';

/** mint: application credentials, rotated with overlap and written to the teams' buckets. */
export const mintModule = defineModule({
  name: 'mint',
  migrations: [{ component: 'mint', migrations: mintMigrations }],
  settings: MintSettingsSchema,
  async create(ctx, { settings, contracts }) {
    const mint = createMintService(ctx, {
      applications: contracts.get('applications'),
      scopes: contracts.get('scopes'),
      teams: contracts.get('teams'),
      credentials: contracts.get('tokenService'),
      serviceApplications: contracts.find('serviceUserDirectory'),
      buckets: bucketStoreFor(settings, ctx.dataDir, ctx.aws),
      installationSecret: ctx.installationSecret,
      settings,
    });
    return {
      app: () => mint.createApp(),
      jobs: [
        {
          name: 'mint.rotation',
          intervalMs: settings.rotationIntervalSeconds * 1000,
          run: async () => {
            await mint.rotateDue();
          },
        },
      ],
    };
  },
});
