import {
  CreateTrailCommand,
  DescribeTrailsCommand,
  GetTrailStatusCommand,
  StartLoggingCommand,
  UpdateTrailCommand,
} from '@aws-sdk/client-cloudtrail';
import { ConfigProblems, fillTemplate } from '../config.js';
import type { AccountConfig, PolicyStatement, S3BucketConfig } from '../contract.js';
import type { PlannedChange, ResourceModule } from './resource.js';

/** The trail STUPS creates in every account (config/cloudtrail.py names it `Default`). */
export const TRAIL_NAME = 'Default';

interface WantedTrail {
  homeRegion: string;
  bucket: string;
  prefix: string;
}

interface TrailState {
  bucket: string;
  prefix: string;
  multiRegion: boolean;
  globalEvents: boolean;
  validation: boolean;
  logging: boolean;
}

type TrailOp =
  | { type: 'create'; trail: WantedTrail }
  | { type: 'update'; trail: WantedTrail; startLogging: boolean }
  | { type: 'start-logging'; trail: WantedTrail };

/**
 * What the file asks for: nothing without a `cloudtrail` section or with `enable_cloudtrail:
 * false` (an existing trail is then left alone, never deleted: it is the audit record).
 */
export function wantedTrail(account: AccountConfig): WantedTrail | undefined {
  if (!account.cloudtrail || account.enable_cloudtrail === false) return undefined;
  return {
    homeRegion: account.cloudtrail.home_region,
    bucket: account.cloudtrail.s3_bucket_name,
    prefix: account.cloudtrail.s3_key_prefix ?? '',
  };
}

/** The settings STUPS gives the trail: every region, global services (IAM, STS), signed digests. */
function trailSettings(trail: WantedTrail, update = false) {
  return {
    Name: TRAIL_NAME,
    S3BucketName: trail.bucket,
    // An update sends an empty prefix too: leaving it out would keep the old one.
    ...(trail.prefix || update ? { S3KeyPrefix: trail.prefix } : {}),
    IncludeGlobalServiceEvents: true,
    IsMultiRegionTrail: true,
    EnableLogFileValidation: true,
  };
}

/**
 * One multi-region trail `Default` in the home region writing to the central bucket (fullstop
 * reads it there), logging started. Other trails are not touched. `inAccount` says which
 * accounts this instance of the module configures (see `cloudTrail` and `cloudTrailAfterBucket`).
 */
function trailModule(
  inAccount: (account: AccountConfig) => boolean,
): ResourceModule<TrailState | undefined, TrailOp> {
  const wantedHere = (account: AccountConfig) => (inAccount(account) ? wantedTrail(account) : undefined);
  return {
    kind: 'cloudtrail',
    async read(clients, account) {
      const wanted = wantedHere(account);
      if (!wanted) return undefined;
      const ct = clients.cloudtrail(wanted.homeRegion);
      const trail = (
        await ct.send(new DescribeTrailsCommand({ trailNameList: [TRAIL_NAME], includeShadowTrails: false }))
      ).trailList?.find((t) => t.Name === TRAIL_NAME);
      if (!trail) return undefined;
      const status = await ct.send(new GetTrailStatusCommand({ Name: TRAIL_NAME }));
      return {
        bucket: trail.S3BucketName ?? '',
        prefix: trail.S3KeyPrefix ?? '',
        multiRegion: trail.IsMultiRegionTrail === true,
        globalEvents: trail.IncludeGlobalServiceEvents === true,
        validation: trail.LogFileValidationEnabled === true,
        logging: status.IsLogging === true,
      };
    },
    diff(account, current) {
      const wanted = wantedHere(account);
      if (!wanted) return [];
      const base = { account: account.name, resource: `cloudtrail/${TRAIL_NAME}` };
      if (!current) {
        return [
          {
            ...base,
            action: 'create',
            detail: `multi-region trail in ${wanted.homeRegion} to s3://${wanted.bucket}/${wanted.prefix}`,
            op: { type: 'create', trail: wanted },
          },
        ];
      }
      const differs: string[] = [];
      if (current.bucket !== wanted.bucket) differs.push(`bucket ${current.bucket} → ${wanted.bucket}`);
      if (current.prefix !== wanted.prefix) differs.push(`prefix ${current.prefix} → ${wanted.prefix}`);
      if (!current.multiRegion) differs.push('not multi-region');
      if (!current.globalEvents) differs.push('no global service events');
      if (!current.validation) differs.push('no log file validation');
      const changes: PlannedChange<TrailOp>[] = [];
      if (differs.length) {
        changes.push({
          ...base,
          action: 'update',
          detail: differs.join(', ') + (current.logging ? '' : ', not logging'),
          op: { type: 'update', trail: wanted, startLogging: !current.logging },
        });
      } else if (!current.logging) {
        changes.push({
          ...base,
          action: 'update',
          detail: 'start logging',
          op: { type: 'start-logging', trail: wanted },
        });
      }
      return changes;
    },
    async apply(clients, _account, { op }) {
      const ct = clients.cloudtrail(op.trail.homeRegion);
      if (op.type === 'create') await ct.send(new CreateTrailCommand(trailSettings(op.trail)));
      if (op.type === 'update') await ct.send(new UpdateTrailCommand(trailSettings(op.trail, true)));
      if (op.type !== 'update' || op.startLogging) {
        await ct.send(new StartLoggingCommand({ Name: TRAIL_NAME }));
      }
    },
  };
}

/** The trail of every account but one holding its own trail bucket: early, as STUPS orders it. */
export const cloudTrail = trailModule((account) => !holdsOwnTrailBucket(account));

/**
 * The trail of the account holding the central trail bucket in its `s3_buckets`: after the S3
 * buckets, because CloudTrail refuses a trail whose bucket does not exist yet or does not let
 * it write.
 */
export const cloudTrailAfterBucket = trailModule(holdsOwnTrailBucket);

/** The names an `s3_buckets` entry makes, one per region. */
function bucketNames(bucket: S3BucketConfig): string[] {
  return [...new Set(bucket.regions.map((region) => fillTemplate(bucket.name, { region })))];
}

/** Whether the account's trail writes into a bucket the account's own `s3_buckets` makes. */
export function holdsOwnTrailBucket(account: AccountConfig): boolean {
  const trail = wantedTrail(account);
  if (!trail) return false;
  return Object.values(account.s3_buckets ?? {}).some((b) => bucketNames(b).includes(trail.bucket));
}

/** Accounts whose `s3_buckets` make a bucket some account's trail writes into. */
export function holdsTrailBucket(account: AccountConfig, accounts: readonly AccountConfig[]): boolean {
  const trailBuckets = new Set(accounts.flatMap((a) => wantedTrail(a)?.bucket ?? []));
  return Object.values(account.s3_buckets ?? {}).some((b) => bucketNames(b).some((n) => trailBuckets.has(n)));
}

/** S3's limit on the size of a bucket policy. */
const BUCKET_POLICY_LIMIT = 20 * 1024;

/**
 * The statements letting CloudTrail deliver the logs of every account of the file whose trail
 * writes into `bucket` (AWS's documented policy for several accounts): the ACL check on the
 * bucket and `s3:PutObject` under `<prefix>/AWSLogs/<account id>/` with the bucket owner given
 * full control. Empty when no trail writes there. Sorted, so the file's order changes nothing.
 */
export function trailBucketStatements(bucket: string, accounts: readonly AccountConfig[]): PolicyStatement[] {
  const resources = new Set<string>();
  for (const account of accounts) {
    const trail = wantedTrail(account);
    if (trail?.bucket !== bucket) continue;
    const prefix = trail.prefix ? `${trail.prefix.replace(/\/+$/, '')}/` : '';
    resources.add(`arn:aws:s3:::${bucket}/${prefix}AWSLogs/${account.id}/*`);
  }
  if (!resources.size) return [];
  const cloudtrail = { Service: 'cloudtrail.amazonaws.com' };
  return [
    {
      Sid: 'AWSCloudTrailAclCheck',
      Effect: 'Allow',
      Principal: cloudtrail,
      Action: 's3:GetBucketAcl',
      Resource: `arn:aws:s3:::${bucket}`,
    },
    {
      Sid: 'AWSCloudTrailWrite',
      Effect: 'Allow',
      Principal: cloudtrail,
      Action: 's3:PutObject',
      Resource: [...resources].sort(),
      Condition: { StringEquals: { 's3:x-amz-acl': 'bucket-owner-full-control' } },
    },
  ];
}

/**
 * The file's accounts with the central trail bucket's policy completed: wherever an account's
 * `s3_buckets` makes a bucket that trails write into, its policy (the file's own statements, if
 * any) gets the CloudTrail statements for every account of the file — not only the accounts a
 * run selects, so configuring the bucket's account alone keeps every account's trail writing.
 * Problems (a policy over S3's size limit, one entry making several trail buckets) are reported
 * like the file's own, before any AWS call.
 */
export function withTrailBucketPolicies(accounts: readonly AccountConfig[]): AccountConfig[] {
  const problems: string[] = [];
  const out = accounts.map((account) => {
    if (!account.s3_buckets) return account;
    let changed = false;
    const buckets: Record<string, S3BucketConfig> = {};
    for (const [key, bucket] of Object.entries(account.s3_buckets)) {
      buckets[key] = bucket;
      const names = bucketNames(bucket);
      const withTrails = names.filter((name) => trailBucketStatements(name, accounts).length);
      if (!withTrails.length) continue;
      const at = `accounts.${account.name}.s3_buckets.${key}`;
      if (names.length > 1) {
        problems.push(
          `${at}: ${withTrails[0]} receives CloudTrail logs, so this entry must make that one bucket (one region, or a name without {region})`,
        );
        continue;
      }
      const own = bucket.policy ? [bucket.policy.Statement].flat() : [];
      const policy = {
        Version: bucket.policy?.Version ?? '2012-10-17',
        Statement: [...own, ...trailBucketStatements(names[0]!, accounts)],
      };
      const size = JSON.stringify(policy).length;
      if (size > BUCKET_POLICY_LIMIT) {
        problems.push(
          `${at}: the bucket policy letting every account's trail write is ${size} bytes, over S3's limit of ${BUCKET_POLICY_LIMIT}; give groups of accounts a bucket each`,
        );
      }
      buckets[key] = { ...bucket, policy };
      changed = true;
    }
    return changed ? { ...account, s3_buckets: buckets } : account;
  });
  if (problems.length) throw new ConfigProblems(problems);
  return out;
}
