import { TeamPolicy } from '../platform/authz/team-policy.js';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { awsClientConfig } from '../platform/aws/client-config.js';
import { defineModule } from '../platform/service-module.js';
import { sandboxAwsClients } from './aws/account-clients.js';
import { createSandboxComponent } from './index.js';
import { folderReportBucket, s3ReportBucket } from './reports/report-bucket.js';
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
    const awsSettings = {
      ...ctx.aws,
      ...(settings.aws.endpoint ? { endpoint: settings.aws.endpoint } : {}),
      ...(settings.aws.region ? { region: settings.aws.region } : {}),
    };
    const aws = settings.enabled ? sandboxAwsClients(awsSettings, settings.aws.assumeRoleName) : undefined;
    // Reports go to the bucket when one is named, else to a folder of the data directory.
    const s3 = aws && settings.reports.bucket ? new S3Client(awsClientConfig(awsSettings, 's3')) : undefined;
    const reports = aws
      ? s3 && settings.reports.bucket
        ? s3ReportBucket(s3, settings.reports.bucket)
        : folderReportBucket(settings.reports.folder ?? join(ctx.dataDir, 'sandbox', 'reports'))
      : undefined;
    const sandbox = createSandboxComponent(ctx, {
      policy,
      users: contracts.get('users'),
      aws,
      settings,
      reports,
    });
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
              name: 'sandbox.reports',
              intervalMs: settings.reports.checkIntervalSeconds * 1000,
              run: async () => {
                await sandbox.service.produceReports();
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
      dispose: async () => {
        aws?.dispose();
        s3?.destroy();
      },
    };
  },
});
