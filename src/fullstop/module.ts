import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { awsClientConfig } from '../platform/aws/client-config.js';
import type { JobDefinition } from '../platform/jobs/job-runner.js';
import { defineModule } from '../platform/service-module.js';
import { AccountClients } from './aws/account-clients.js';
import { AccountAccess } from './aws/assume-role.js';
import { Ec2ImageCatalog } from './aws/images.js';
import { sdk } from './aws/sdk.js';
import { createFullstopService } from './index.js';
import { FolderSource } from './ingestion.js';
import { fullstopMigrations } from './migrations.js';
import { PERIODIC_CHECKS } from './rules/index.js';
import { FullstopSettingsSchema, type PeriodicSettings } from './settings.js';

/** fullstop., the audit of every team account against the platform's rules. */
export const fullstopModule = defineModule({
  name: 'fullstop',
  migrations: [{ component: 'fullstop', migrations: fullstopMigrations }],
  settings: FullstopSettingsSchema,
  async create(ctx, { settings, contracts }) {
    // One reader of the team accounts for every look-up, so each account's role is assumed once.
    const access = new AccountAccess(ctx.aws, { roleName: settings.aws.assumeRoleName });
    const accountClients = new AccountClients(ctx.aws, { access });
    const images = new Ec2ImageCatalog(ctx.aws, { clients: accountClients });
    const fullstop = createFullstopService(ctx, {
      subnets: accountClients,
      instances: accountClients,
      teams: contracts.get('teams'),
      applications: contracts.get('applications'),
      imageTags: contracts.get('imageTags'),
      accessGrants: contracts.get('accessGrants'),
      serviceApplications: contracts.find('serviceUserDirectory'),
      images,
      rules: settings.rules,
      riskAcceptances: settings.riskAcceptances,
    });
    const folder = new FolderSource(settings.ingestion.folder ?? join(ctx.dataDir, 'fullstop', 'cloudtrail'));
    const intervalMs = settings.ingestion.intervalSeconds * 1000;
    const jobs: JobDefinition[] = [
      {
        name: 'fullstop.ingest-folder',
        intervalMs,
        run: async () => {
          await fullstop.ingestion.ingestPending(folder, settings.ingestion.filesPerRun);
        },
      },
      {
        name: 'fullstop.risk-acceptance-expiry',
        intervalMs: settings.riskAcceptances.expiryIntervalSeconds * 1000,
        // Reopens what the acceptances past their expiry covered; each ends once across replicas.
        run: async () => {
          await fullstop.acceptances.expireDue();
        },
      },
    ];
    // Periodic checks go over the accounts of the team service: with none (the embedded
    // default) a run looks at nothing and calls no AWS.
    const periodic = fullstop.periodicChecks({
      accounts: contracts.get('teamStore'),
      clients: accountClients,
      regions: settings.periodic.regions ?? settings.rules.allowedRegions,
      concurrency: settings.periodic.concurrency,
    });
    for (const check of PERIODIC_CHECKS) {
      const interval = settings.periodic[PERIODIC_SETTING[check.name]].intervalSeconds;
      if (interval === 0) continue;
      jobs.push({
        name: `fullstop.periodic.${check.name}`,
        intervalMs: interval * 1000,
        run: async () => {
          await periodic.run(check);
        },
      });
    }
    const notes = [`CloudTrail files are read from ${folder.name.slice('folder:'.length)}`];
    let clients: { s3: S3Client; sqs: SQSClient } | undefined;
    const queueUrl = settings.ingestion.sqsQueueUrl;
    if (queueUrl) {
      const [{ S3Client }, { SQSClient }, { SqsIngestion }] = await Promise.all([
        sdk.s3(),
        sdk.sqs(),
        import('./aws/sqs-ingestion.js'),
      ]);
      clients = {
        s3: new S3Client(awsClientConfig(ctx.aws, 's3')),
        sqs: new SQSClient(awsClientConfig(ctx.aws)),
      };
      const sqs = new SqsIngestion({
        ...clients,
        queueUrl,
        ingestion: fullstop.ingestion,
        logger: ctx.logger,
      });
      notes.push(`and from the S3 notifications in ${queueUrl}`);
      jobs.push({
        name: 'fullstop.ingest-sqs',
        intervalMs,
        // Drains what is waiting (up to filesPerRun messages), then waits for the next tick.
        run: async () => {
          for (let n = 0; n < settings.ingestion.filesPerRun;) {
            const outcome = await sqs.poll();
            if (outcome.messages === 0) break;
            n += outcome.messages;
          }
        },
      });
    }
    return {
      app: async () => {
        const app = await fullstop.createApp();
        // `stups trace` for the console, here because fullstop holds the Taupage rules it judges AMIs by.
        const { registerTraceRoutes } = await import('../trace/routes.js');
        registerTraceRoutes(app, {
          verifier: ctx.verifier,
          urls: ctx.urls,
          aws: ctx.aws,
          // Other accounts are read as fullstop reads them: its role, its credentials cache.
          access,
          accounts: contracts.get('teamStore'),
          taupage: {
            namePrefix: settings.rules.taupageNamePrefix,
            owners: settings.rules.taupageOwners,
            maxAgeDays: settings.rules.taupageMaxAgeDays,
            requireLatest: settings.rules.taupageRequireLatest,
          },
        });
        return app;
      },
      notes,
      jobs,
      // Pier One's retention rules with keep_running ask which of a repository's images run.
      provides: { runningImages: fullstop.runningImages },
      dispose: async () => {
        images.dispose();
        accountClients.dispose();
        access.dispose();
        clients?.s3.destroy();
        clients?.sqs.destroy();
      },
    };
  },
});

/** Which settings schedule a periodic check. */
const PERIODIC_SETTING = {
  'outdated-taupage': 'outdatedTaupage',
  'unsecured-public-endpoint': 'unsecuredPublicEndpoint',
  'active-key-too-old': 'activeKeyTooOld',
  'unsecured-root-user': 'unsecuredRootUser',
  'cross-account-role': 'crossAccountRole',
} as const satisfies Record<(typeof PERIODIC_CHECKS)[number]['name'], keyof PeriodicSettings>;
