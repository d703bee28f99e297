import { z } from 'zod';

/**
 * The Seven Seconds configuration file (STUPS format, `version: 10`): `global` holds defaults,
 * `accounts` the per-account overrides. The schemas here describe one *section* (global or an
 * account); every key is optional in a section and the required ones are checked after the merge
 * (config.ts), because STUPS allowed a required key to come from either side.
 */
export const SUPPORTED_CONFIG_VERSION = 10;

const cidr = z
  .string()
  .regex(
    /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/,
    'must be an IPv4 CIDR like 172.31.0.0/16',
  );

/** An IAM policy document as written in the file; Statement may be one object or a list (as AWS). */
export const PolicyStatementSchema = z.looseObject({
  Sid: z.string().optional(),
  Effect: z.enum(['Allow', 'Deny']),
  Action: z.union([z.string(), z.array(z.string())]).optional(),
  NotAction: z.union([z.string(), z.array(z.string())]).optional(),
  Resource: z.union([z.string(), z.array(z.string())]).optional(),
  NotResource: z.union([z.string(), z.array(z.string())]).optional(),
  Principal: z
    .union([z.literal('*'), z.record(z.string(), z.union([z.string(), z.array(z.string())]))])
    .optional(),
  Condition: z.record(z.string(), z.record(z.string(), z.unknown())).optional(),
});
export type PolicyStatement = z.output<typeof PolicyStatementSchema>;

export const PolicyDocumentSchema = z.looseObject({
  Version: z.string().default('2012-10-17'),
  Statement: z.union([PolicyStatementSchema, z.array(PolicyStatementSchema)]),
});
export type PolicyDocument = z.output<typeof PolicyDocumentSchema>;

const tags = z.record(z.string(), z.string()).describe('resource tags, key: value');

export const RoleSchema = z.strictObject({
  policy: PolicyDocumentSchema.optional().describe(
    'inline policy, named as the role; other inline policies are removed',
  ),
  assume_role_policy: PolicyDocumentSchema.optional().describe('trust policy: who may assume the role'),
  path: z.string().startsWith('/').default('/'),
  attached_policies: z.array(z.string()).default([]).describe('managed policy ARNs attached to the role'),
  drop: z.boolean().default(false).describe('delete the role'),
});
export type RoleConfig = z.output<typeof RoleSchema>;

export const S3BucketSchema = z.strictObject({
  name: z.string().min(3).describe('bucket name; templates {account_id}, {region}, {account_name}'),
  regions: z.array(z.string().min(1)).min(1).describe('one bucket per region'),
  policy: PolicyDocumentSchema.optional().describe('bucket policy; template {bucket_name}'),
  lifecycle_configuration: z.record(z.string(), z.unknown()).optional(),
  encryption_config: z.record(z.string(), z.unknown()).optional(),
  tags: tags.optional(),
  logging_target: z.string().optional(),
  logging_lifecycle_configuration: z.record(z.string(), z.unknown()).optional(),
  block_public_access: z.boolean().optional().describe('block every kind of public access (default true)'),
});
export type S3BucketConfig = z.output<typeof S3BucketSchema>;

const subnetType = z.enum(['dmz', 'internal', 'nat']);
export const SubnetSchema = z.strictObject({ type: subnetType, cidr, tags: tags.optional() });

export const VpcNetSchema = z.strictObject({
  cidr: cidr.default('172.31.0.0/16'),
  subnets: z
    .record(z.string(), z.array(SubnetSchema))
    .optional()
    .describe('per availability zone; computed from cidr when absent (dmz /+5, internal /+4, nat /28)'),
});

export const ServiceIdentitySchema = z.strictObject({
  kind: z.enum(['machine', 'human']).default('machine'),
  environment: z.enum(['production', 'non-production']),
  policy: PolicyDocumentSchema.describe('the identity may only assume roles: sts:AssumeRole statements only'),
});
export type ServiceIdentity = z.output<typeof ServiceIdentitySchema>;

/** One section: `global` or one account's overrides. Unknown keys are errors (typos fail early). */
export const SectionSchema = z.strictObject({
  id: z
    .string()
    .regex(/^\d{12}$/, 'must be a 12-digit AWS account id')
    .optional()
    .describe('the AWS account id (account level)'),
  alias: z.string().min(1).optional().describe('IAM account alias (default: the account name)'),
  environment: z.enum(['production', 'non-production']).optional(),
  regions: z.array(z.string().min(1)).min(1).optional(),
  admin_account: z.string().min(1).optional().describe('account holding the parent hosted zone'),
  login_role: z.string().min(1).optional().describe('role assumed in each account to configure it'),
  team: z
    .string()
    .regex(/^[a-z][a-z0-9-]{0,62}[a-z0-9]$|^[a-z]$/, 'must be a team id (lowercase slug)')
    .optional()
    .describe('team owning the account; configure registers it in the team service (/api/accounts/aws)'),
  base_ami: z
    .strictObject({
      account_name: z.string().min(1).describe('account of this file owning the Taupage AMIs'),
      name: z
        .string()
        .min(1)
        .optional()
        .describe(
          'image name filter, * as wildcard (default Taupage-AMI-*); the newest is the odd host image',
        ),
      default_channel: z.string().optional(),
      channels: z.array(z.string()).optional(),
      is_public: z.boolean().optional(),
      owner_id: z
        .string()
        .regex(/^\d{12}$/, 'must be a 12-digit AWS account id')
        .optional()
        .describe("the images' owner (default: the id of account_name)"),
    })
    .optional()
    .describe('Taupage AMIs: each account gets a launch permission on the matching images'),
  enable_cloudtrail: z.boolean().optional(),
  cloudtrail: z
    .strictObject({
      s3_bucket_name: z.string().min(3),
      s3_key_prefix: z.string().optional(),
      home_region: z.string().default('eu-west-1'),
      regions: z.array(z.string()).optional(),
    })
    .optional(),
  domain: z.string().min(1).optional(),
  domain_soa_ttl: z.union([z.string(), z.number()]).optional(),
  saml_providers: z.record(z.string(), z.string()).optional().describe('name: metadata XML or URL'),
  saml_identity_provider_url: z.string().optional(),
  saml_admin_login_role: z.string().optional(),
  roles: z.record(z.string(), RoleSchema).optional(),
  additional_policies: z
    .array(z.strictObject({ role: z.string(), statement: PolicyStatementSchema }))
    .optional(),
  additional_attached_policies: z
    .array(z.strictObject({ role: z.string(), policies: z.array(z.string()) }))
    .optional(),
  s3_buckets: z.record(z.string(), S3BucketSchema).optional(),
  kms: z
    .record(
      z.string().startsWith('alias/'),
      z.strictObject({
        description: z.string().optional(),
        key_usage: z.string().optional(),
        key_policy: PolicyDocumentSchema.optional(),
        tags: z.array(z.strictObject({ TagKey: z.string(), TagValue: z.string() })).optional(),
        drop: z.boolean().optional(),
      }),
    )
    .optional(),
  ebs_encrypt_by_default: z.boolean().optional(),
  vpc: z
    .strictObject({
      tags: tags.optional(),
      flow_logs_retention_in_days: z.number().int().positive().optional(),
    })
    .optional(),
  vpc_net: z.record(z.string(), VpcNetSchema).optional().describe('per region'),
  enable_nat: z
    .boolean()
    .optional()
    .describe(
      'one NAT gateway with an Elastic IP per AZ in its dmz subnet, the internal route (default true)',
    ),
  instance_type: z.string().optional(),
  enable_dedicated_dmz_route: z.boolean().optional(),
  enable_odd: z
    .boolean()
    .optional()
    .describe('the odd SSH bastion host: CloudFormation stack Odd in each region (default false)'),
  bastion: z
    .strictObject({
      ami_config: z
        .record(z.string(), z.unknown())
        .optional()
        .describe(
          'Taupage configuration of the odd host (its user data); templates {account_name}, {region}',
        ),
      cf_template: z
        .record(z.string(), z.unknown())
        .optional()
        .describe('a CloudFormation template replacing the built-in Odd template'),
      instance_type: z.string().optional().describe('odd host instance type (default t3.micro)'),
      version_url: z.string().optional().describe('not supported: fails the account'),
      re_deploy: z.boolean().optional().describe('not supported: fails the account'),
    })
    .optional(),
  trusted_networks: z.record(z.string(), cidr).optional(),
  security_groups: z
    .record(
      z.string(),
      z.strictObject({
        description: z.string().optional(),
        ip_permissions: z.array(z.record(z.string(), z.unknown())).optional(),
        allow_from_trusted: z.boolean().optional(),
      }),
    )
    .optional(),
  acm: z
    .record(
      z.string(),
      z.strictObject({
        domain_name: z.string().min(1).optional().describe('default *.<domain>'),
        validation_domain: z
          .string()
          .min(1)
          .optional()
          .describe('hosted zone of this account the DNS validation records go in (default: domain)'),
        subject_alternative_names: z
          .array(z.string().min(1))
          .optional()
          .describe('default: <domain> when domain_name is the default'),
      }),
    )
    .optional()
    .describe('ACM certificates per region, validated by DNS records in the account zone'),
  service_identities: z
    .record(z.string(), ServiceIdentitySchema)
    .optional()
    .describe('IAM users of this (state) account: machines and non-federated humans'),
});
export type Section = z.output<typeof SectionSchema>;

export const ConfigFileSchema = z.strictObject({
  version: z.number().int(),
  global: SectionSchema.default({}),
  accounts: z.record(
    z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'account names are lower-case words with -'),
    SectionSchema.nullable(),
  ),
});
export type ConfigFile = z.output<typeof ConfigFileSchema>;

/** One account after the merge and templating; what every resource module reads. */
export interface AccountConfig extends Section {
  name: string;
  id: string;
  alias: string;
  environment: 'production' | 'non-production';
  regions: string[];
  admin_account: string;
}

/** One planned or applied change, as `plan` prints it and `--output json` emits it. */
export interface Change {
  account: string;
  /** e.g. `alias`, `iam-role/Shibboleth-Administrator`, `s3-bucket/x`, `vpc/eu-west-1`. */
  resource: string;
  action: 'create' | 'update' | 'delete';
  /** One line: what differs. */
  detail: string;
}

export interface AccountReport {
  account: string;
  status: 'changed' | 'unchanged' | 'failed';
  changes: Change[];
  /** One line, for failed accounts. */
  reason?: string;
}
