import { TeamPolicy } from '../platform/authz/team-policy.js';
import { defineModule } from '../platform/service-module.js';
import { sandboxAwsClients } from './aws/account-clients.js';
import { createSandboxComponent } from './index.js';
import { sandboxMigrations } from './migrations.js';
import { SandboxSettingsSchema } from './settings.js';

/** Personal sandbox accounts: assigned, purged, prepared and reported from one YAML file. */
export const sandboxModule = defineModule({
  name: 'sandbox',
  migrations: [{ component: 'sandbox', migrations: sandboxMigrations }],
  settings: SandboxSettingsSchema,
  async create(ctx, { settings, contracts }) {
    const policy = new TeamPolicy({
      teams: contracts.get('teams'),
      applications: contracts.get('applications'),
      adminPolicy: ctx.adminPolicy,
      serviceApplications: contracts.find('serviceUserDirectory'),
    });
    // Off unless asked for: an installation on embedded defaults must not call AWS (or retry
    // against an endpoint that is not there) just because AWS_REGION happens to be set.
    const aws = settings.enabled
      ? sandboxAwsClients(
          {
            ...ctx.aws,
            ...(settings.aws.endpoint ? { endpoint: settings.aws.endpoint } : {}),
            ...(settings.aws.region ? { region: settings.aws.region } : {}),
          },
          settings.aws.assumeRoleName,
        )
      : undefined;
    const sandbox = createSandboxComponent(ctx, { policy, users: contracts.get('users'), aws, settings });
    const status = sandbox.service.status();
    if (!aws) ctx.logger.info({ service: 'sandbox' }, status.message);
    return {
      app: () => sandbox.createApp(),
      notes: [status.message],
      jobs: aws
        ? [
            {
              name: 'sandbox.maintenance',
              intervalMs: settings.maintenanceIntervalSeconds * 1000,
              run: async () => {
                await sandbox.service.maintain();
              },
            },
            {
              name: 'sandbox.spend-check',
              intervalMs: settings.spend.checkIntervalSeconds * 1000,
              run: async () => {
                await sandbox.service.checkSpend();
              },
            },
          ]
        : [],
      dispose: async () => aws?.dispose(),
    };
  },
});
