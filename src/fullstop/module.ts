import { join } from 'node:path';
import { defineModule } from '../platform/service-module.js';
import { Ec2ImageCatalog } from './aws/images.js';
import { createFullstopService } from './index.js';
import { FolderSource } from './ingestion.js';
import { fullstopMigrations } from './migrations.js';
import { FullstopSettingsSchema } from './settings.js';

/** fullstop., the audit of every team account against the platform's rules. */
export const fullstopModule = defineModule({
  name: 'fullstop',
  migrations: [{ component: 'fullstop', migrations: fullstopMigrations }],
  settings: FullstopSettingsSchema,
  async create(ctx, { settings, contracts }) {
    const images = new Ec2ImageCatalog(ctx.aws, { assumeRoleName: settings.aws.assumeRoleName });
    const fullstop = createFullstopService(ctx, {
      teams: contracts.get('teams'),
      applications: contracts.get('applications'),
      serviceApplications: contracts.find('serviceUserDirectory'),
      images,
      rules: settings.rules,
    });
    const folder = new FolderSource(settings.ingestion.folder ?? join(ctx.dataDir, 'fullstop', 'cloudtrail'));
    return {
      app: () => fullstop.createApp(),
      notes: [`CloudTrail files are read from ${folder.name.slice('folder:'.length)}`],
      jobs: [
        {
          name: 'fullstop.ingest-folder',
          intervalMs: settings.ingestion.intervalSeconds * 1000,
          run: async () => {
            await fullstop.ingestion.ingestPending(folder, settings.ingestion.filesPerRun);
          },
        },
      ],
      dispose: async () => images.dispose(),
    };
  },
});
