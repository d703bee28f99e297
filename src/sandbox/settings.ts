import { z } from 'zod';
import { secret } from '../platform/settings/schema-walk.js';
import { CronSchema } from './config.js';

/** sandbox's section of the settings tree; `{}` runs the service with management off. */
export const SandboxSettingsSchema = z.strictObject({
  enabled: z
    .boolean()
    .default(false)
    .describe(
      "Manage the organisation's personal accounts (AWS Organizations, Budgets, IAM, EC2, S3 through " +
        'platform.aws or sandbox.aws). Off: the API answers reads with what it has and refuses changes',
    ),
  configFile: z
    .string()
    .min(1)
    .optional()
    .describe('The YAML settings file of the accounts (docs/sandbox.md); unset: the built-in defaults'),
  aws: z
    .strictObject({
      endpoint: z
        .url()
        .optional()
        .describe('Endpoint of every AWS client of sandbox instead of platform.aws.endpoint (an emulator)'),
      region: z
        .string()
        .min(1)
        .optional()
        .describe('Region of the Organizations and Budgets calls (default platform.aws.region)'),
      assumeRoleName: z
        .string()
        .min(1)
        .optional()
        .describe(
          'Role purge and prepare assume in each member account (e.g. OrganizationAccountAccessRole); ' +
            "unset: the platform's own credentials",
        ),
    })
    .default({}),
  maintenanceWindow: CronSchema.default('0 18 * * 5').describe(
    'Maintenance window (cron, UTC) of accounts whose settings file names none',
  ),
  maintenanceIntervalSeconds: z
    .number()
    .int()
    .min(1)
    .default(60)
    .describe('How often the job sandbox.maintenance looks for maintenance windows that opened'),
  allowForcePurge: z
    .boolean()
    .default(false)
    .describe(
      'Whether purges may delete (purge_mode force in the settings file); false: every purge is a dry run',
    ),
  incidentWebhook: secret(z.url().optional()).describe(
    'URL every exception is POSTed to as JSON (often carries a token: never logged)',
  ),
  spend: z
    .strictObject({
      source: z
        .enum(['auto', 'costExplorer', 'costFile'])
        .default('auto')
        .describe(
          'Where the daily check and the monthly cost report read costs: costExplorer (GetCostAndUsage ' +
            'and GetCostForecast, needs sandbox.enabled), costFile (spend.costFile), or auto: the cost ' +
            'file when one is set, else Cost Explorer when management is on, else none',
        ),
      costFile: z
        .string()
        .min(1)
        .optional()
        .describe(
          'Cost and usage report (CSV) the daily check reads; unset: the daily check has no costs and does nothing',
        ),
      checkIntervalSeconds: z
        .number()
        .int()
        .min(1)
        .default(86_400)
        .describe('How often the job sandbox.spend-check runs (default daily, one tick per UTC day)'),
      baselineDays: z.number().int().min(1).default(14).describe('Trailing days that form the baseline'),
      k: z.number().positive().default(4).describe('Scaled MADs above the median that count as unusual'),
      minAbsolute: z.number().min(0).default(5).describe('A daily cost below this (USD) is never unusual'),
      minHistory: z
        .number()
        .int()
        .min(0)
        .default(7)
        .describe('Fewer baseline days than this: only minAbsolute applies'),
    })
    .prefault({}),
  consoleLogins: z
    .strictObject({
      folder: z
        .string()
        .min(1)
        .optional()
        .describe(
          'Folder of CloudTrail log files (AWSLogs/<account>/CloudTrail/<region>/…, as fullstop reads them) ' +
            'searched for root and IAM-user console logins',
        ),
      bucket: z
        .string()
        .min(1)
        .optional()
        .describe('S3 bucket of the CloudTrail log files instead of the folder'),
      checkIntervalSeconds: z
        .number()
        .int()
        .min(1)
        .default(900)
        .describe('How often the job sandbox.console-logins reads new CloudTrail files'),
    })
    .prefault({})
    .describe('Unset folder and bucket: console logins are not checked'),
  reports: z
    .strictObject({
      bucket: z
        .string()
        .min(1)
        .optional()
        .describe('S3 bucket the reports go to (reports/<kind>/<period>/<name>.csv|xlsx); unset: the folder'),
      folder: z
        .string()
        .min(1)
        .optional()
        .describe('Folder the reports go to when no bucket is set; default <dataDir>/sandbox/reports'),
      checkIntervalSeconds: z
        .number()
        .int()
        .min(1)
        .default(3600)
        .describe(
          'How often the job sandbox.reports looks whether the weekly inventory (from Monday) or the last month’s activity and cost reports are due',
        ),
    })
    .prefault({}),
});
export type SandboxSettings = z.output<typeof SandboxSettingsSchema>;
