import { TeamPolicy } from '../platform/authz/team-policy.js';
import { join } from 'node:path';
import { awsClientConfig } from '../platform/aws/client-config.js';
import { defineModule } from '../platform/service-module.js';
import { lazy } from './aws/sdk.js';
import { createSandboxComponent } from './index.js';
import { folderReportBucket, s3ReportBucket } from './reports/report-bucket.js';
import { sandboxMigrations } from './migrations.js';
import { SandboxSettingsSchema } from './settings.js';
import { createCostSources } from './spend/cost-source.js';

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
    // The AWS SDKs are imported only when management is on (src/sandbox/aws/sdk.ts).
    const aws = settings.enabled
      ? (await lazy.accountClients()).sandboxAwsClients(awsSettings, settings.aws.assumeRoleName)
      : undefined;
    // Reports go to the bucket when one is named, else to a folder of the data directory.
    const s3 =
      aws && settings.reports.bucket
        ? new (await lazy.s3()).S3Client(awsClientConfig(awsSettings, 's3'))
        : undefined;
    const reports = aws
      ? s3 && settings.reports.bucket
        ? s3ReportBucket(s3, settings.reports.bucket)
        : folderReportBucket(settings.reports.folder ?? join(ctx.dataDir, 'sandbox', 'reports'))
      : undefined;
    // The store is made inside the component; Cost Explorer asks it for the accounts lazily.
    let accountIds: () => Promise<string[]> = async () => [];
    const spend = await createCostSources(settings.spend, {
      managed: aws !== undefined,
      aws: awsSettings,
      accountIds: () => accountIds(),
    });
    const sandbox = createSandboxComponent(ctx, {
      policy,
      users: contracts.get('users'),
      aws,
      settings,
      reports,
      costs: spend.costs,
      forecasts: spend.forecasts,
    });
    accountIds = async () => (await sandbox.store.list()).map((a) => a.id);
    // The CloudTrail files fullstop reads (its reader, loaded when the job first runs).
    const { folder: loginFolder, bucket: loginBucket } = settings.consoleLogins;
    let loginS3: { destroy(): void } | undefined;
    const loginSource =
      aws && (loginFolder || loginBucket)
        ? async () => {
            if (loginBucket) {
              const [{ S3Client }, { S3Source }] = await Promise.all([
                lazy.s3(),
                import('../fullstop/aws/sqs-ingestion.js'),
              ]);
              loginS3 ??= new S3Client(awsClientConfig(awsSettings, 's3'));
              return new S3Source(loginS3 as InstanceType<typeof S3Client>, loginBucket);
            }
            return new (await import('../fullstop/ingestion.js')).FolderSource(loginFolder!);
          }
        : undefined;
    const status = sandbox.service.status();
    if (!aws) ctx.logger.info({ service: 'sandbox' }, status.message);
    const costNote =
      spend.kind === 'none'
        ? 'sandbox spend: no cost source (set sandbox.spend.costFile or enable management for Cost Explorer)'
        : `sandbox spend: costs from ${spend.kind === 'costFile' ? 'the cost file' : 'Cost Explorer'}`;
    return {
      app: () => sandbox.createApp(),
      notes: [status.message, costNote],
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
            ...(loginSource
              ? [
                  {
                    name: 'sandbox.console-logins',
                    intervalMs: settings.consoleLogins.checkIntervalSeconds * 1000,
                    run: async () => {
                      await sandbox.service.checkConsoleLogins(await loginSource());
                    },
                  },
                ]
              : []),
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
        spend.dispose();
        loginS3?.destroy();
      },
    };
  },
});
