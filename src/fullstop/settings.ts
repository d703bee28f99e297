import { z } from 'zod';

/** The rules' settings: what the platform allows (issue 17, "Settings per rule"). */
export const RuleSettingsSchema = z
  .strictObject({
    allowedRegions: z
      .array(z.string().min(1))
      .default(['eu-west-1', 'eu-central-1'])
      .describe('Regions EC2 instances may run in (WRONG_REGION)'),
    taupageOwners: z
      .array(z.string().regex(/^\d{12}$/))
      .default([])
      .describe('AWS accounts owning the Taupage AMIs (WRONG_AMI); empty: any owner'),
    taupageNamePrefix: z
      .string()
      .min(1)
      .default('Taupage')
      .describe('Name prefix of Taupage AMIs (WRONG_AMI, MISSING_USER_DATA)'),
    publicPorts: z
      .array(z.number().int().min(0).max(65535))
      .default([80, 443])
      .describe('Ports a security group may open to 0.0.0.0/0 or ::/0 (SECURITY_GROUP_OPEN_TO_THE_WORLD)'),
    managedRoles: z
      .array(z.string().min(1))
      .default(['fullstop', 'Shibboleth-Administrator', 'Shibboleth-PowerUser', 'Shibboleth-ReadOnly'])
      .describe('IAM roles the account set-up manages; changing them is MODIFIED_ROLE_OR_SERVICE'),
    adminRoles: z
      .array(z.string().min(1))
      .default(['Shibboleth-Administrator'])
      .describe('Roles whose sessions may change managed roles without a violation'),
    accessKeyMaxAgeDays: z
      .number()
      .int()
      .min(1)
      .default(30)
      .describe(
        'Age after which an active IAM access key is ACTIVE_KEY_TOO_OLD (periodic check, not built yet)',
      ),
  })
  .prefault({});
export type RuleSettings = z.output<typeof RuleSettingsSchema>;

/** fullstop.'s section of the settings tree. */
export const FullstopSettingsSchema = z.strictObject({
  rules: RuleSettingsSchema,
  ingestion: z
    .strictObject({
      folder: z
        .string()
        .min(1)
        .optional()
        .describe(
          'Folder holding AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/*.json.gz (default <dataDir>/fullstop/cloudtrail)',
        ),
      intervalSeconds: z
        .number()
        .int()
        .min(1)
        .default(60)
        .describe('How often new CloudTrail files are ingested'),
      sqsQueueUrl: z
        .url()
        .optional()
        .describe(
          'SQS queue receiving the S3 notifications of the CloudTrail bucket; unset: no S3 ingestion (the folder only)',
        ),
      filesPerRun: z
        .number()
        .int()
        .min(1)
        .default(500)
        .describe('Files ingested at most per run; the rest wait for the next tick'),
    })
    .prefault({}),
  riskAcceptances: z
    .strictObject({
      maxLifetimeDays: z
        .number()
        .int()
        .min(1)
        .max(3650)
        .default(365)
        .describe('How far ahead a risk acceptance may expire, in days (there is no "forever")'),
      expiryIntervalSeconds: z
        .number()
        .int()
        .min(1)
        .default(60)
        .describe('How often the job fullstop.risk-acceptance-expiry ends the acceptances past their expiry'),
    })
    .prefault({}),
  aws: z
    .strictObject({
      assumeRoleName: z
        .string()
        .min(1)
        .optional()
        .describe(
          'Role assumed in each account to look up its resources (STUPS: fullstop); unset: the own credentials',
        ),
    })
    .prefault({}),
});
export type FullstopSettings = z.output<typeof FullstopSettingsSchema>;
