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
    pieroneHosts: z
      .array(z.string().min(1))
      .default([])
      .describe(
        "Registry hosts (host[:port]) that are this platform's Pier One; images from any other registry are IMAGE_IN_PIERONE_NOT_FOUND. Empty: the host of Pier One's URL",
      ),
    scmHosts: z
      .record(
        z.string().min(1),
        z.string().refine((pattern) => {
          try {
            new RegExp(pattern);
            return true;
          } catch {
            return false;
          }
        }, 'must be a regular expression'),
      )
      .default({})
      .describe(
        'Allowed SCM hosts, each with a regular expression its repository owners must match (ILLEGAL_SCM_REPOSITORY); empty: not checked',
      ),
    sshGrantClockSkewSeconds: z
      .number()
      .int()
      .min(0)
      .max(3600)
      .default(120)
      .describe(
        'How far an SSH login may lie outside its even grant (clocks differ) before it is SSH_LOGIN_WITHOUT_GRANT',
      ),
    accessKeyMaxAgeDays: z
      .number()
      .int()
      .min(1)
      .default(30)
      .describe('Age after which an active IAM access key is ACTIVE_KEY_TOO_OLD (periodic check)'),
    lambdaCodeBuckets: z
      .array(z.string().min(1))
      .default([])
      .describe(
        'S3 buckets Lambda function code may come from; any other source is LAMBDA_FUNCTION_CREATED_FROM_UNTRUSTED_LOCATION',
      ),
    cloudtrailBuckets: z
      .array(z.string().min(1))
      .default([])
      .describe(
        'Buckets a trail may write to; UpdateTrail to any other bucket is CLOUDTRAIL_LOGGING_STOPPED (empty: every bucket change)',
      ),
    internalSubnetNamePrefix: z
      .string()
      .min(1)
      .default('internal-')
      .describe(
        'Name tag prefix of internal subnets, as the account set-up names them (EC2_IN_INTERNAL_SUBNET_WITH_PUBLIC_IP)',
      ),
    trustedAccounts: z
      .array(z.string().regex(/^\d{12}$/))
      .default([])
      .describe(
        'Accounts outside the team service that role trust policies may name, e.g. the management account (CROSS_ACCOUNT_ROLE, event rule and periodic check)',
      ),
    taupageMaxAgeDays: z
      .number()
      .int()
      .min(1)
      .default(90)
      .describe('Age of its Taupage AMI after which a running instance is OUTDATED_TAUPAGE'),
    taupageRequireLatest: z
      .boolean()
      .default(true)
      .describe(
        'A running instance whose Taupage AMI has a newer one of the same channel is OUTDATED_TAUPAGE',
      ),
    publicEndpointPorts: z
      .array(z.number().int().min(0).max(65535))
      .default([80, 443])
      .describe(
        'Ports a running instance with a public IP may open to the world (UNSECURED_PUBLIC_ENDPOINT; STUPS also allowed 22)',
      ),
  })
  .prefault({});
export type RuleSettings = z.output<typeof RuleSettingsSchema>;

const checkSchedule = (what: string) =>
  z
    .strictObject({
      intervalSeconds: z
        .number()
        .int()
        .min(0)
        .default(3600)
        .describe(`How often ${what} runs over every account of the team service; 0 turns it off`),
    })
    .prefault({});

/** The periodic checks: jobs over every account the team service knows (issue 17). */
export const PeriodicSettingsSchema = z
  .strictObject({
    regions: z
      .array(z.string().min(1))
      .optional()
      .describe('Regions the periodic checks look at (default: rules.allowedRegions)'),
    concurrency: z
      .number()
      .int()
      .min(1)
      .max(64)
      .default(4)
      .describe('Accounts (and regions) a periodic check reads at the same time'),
    outdatedTaupage: checkSchedule('OUTDATED_TAUPAGE'),
    unsecuredPublicEndpoint: checkSchedule('UNSECURED_PUBLIC_ENDPOINT'),
    activeKeyTooOld: checkSchedule('ACTIVE_KEY_TOO_OLD'),
    unsecuredRootUser: checkSchedule('UNSECURED_ROOT_USER'),
    crossAccountRole: checkSchedule('CROSS_ACCOUNT_ROLE'),
  })
  .prefault({});
export type PeriodicSettings = z.output<typeof PeriodicSettingsSchema>;

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
  periodic: PeriodicSettingsSchema,
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
        .regex(/^$|^[\w+=,.@-]{1,64}$/, 'must be an IAM role name (or empty)')
        .default('fullstop')
        .describe(
          "Role assumed in each team account (arn:aws:iam::<account>:role/<name>) to read its resources, as in STUPS; the platform's own account is read with its own credentials. Empty: every account is read with the platform's own credentials",
        ),
    })
    .prefault({}),
});
export type FullstopSettings = z.output<typeof FullstopSettingsSchema>;
