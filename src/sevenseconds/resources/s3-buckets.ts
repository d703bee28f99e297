import {
  type BucketLocationConstraint,
  type BucketLifecycleConfiguration,
  CreateBucketCommand,
  GetBucketEncryptionCommand,
  GetBucketLifecycleConfigurationCommand,
  GetBucketLoggingCommand,
  GetBucketPolicyCommand,
  GetBucketTaggingCommand,
  GetPublicAccessBlockCommand,
  HeadBucketCommand,
  PutBucketEncryptionCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketLoggingCommand,
  PutBucketPolicyCommand,
  PutBucketTaggingCommand,
  PutPublicAccessBlockCommand,
  type S3Client,
  type ServerSideEncryptionConfiguration,
} from '@aws-sdk/client-s3';
import { AccountFailure } from '../aws/login.js';
import { fillTemplate } from '../config.js';
import type { AccountConfig, PolicyDocument } from '../contract.js';
import { parsePolicyText, samePolicy } from './policy.js';
import { awsErrorName, type PlannedChange, type ResourceModule } from './resource.js';

/** The settings of a bucket besides its existence; each one is read and put on its own. */
type Part = 'policy' | 'lifecycle' | 'encryption' | 'tags' | 'logging' | 'public-access';

interface WantedBucket {
  key: string;
  name: string;
  region: string;
  policy?: PolicyDocument;
  lifecycle?: Record<string, unknown>;
  encryption?: Record<string, unknown>;
  tags?: Record<string, string>;
  /** The bucket the access logs go to (same region; created by this module when missing). */
  loggingTarget?: string;
  blockPublicAccess: boolean;
}

interface BucketState {
  exists: boolean;
  policy?: PolicyDocument;
  lifecycle?: unknown;
  encryption?: unknown;
  tags?: Record<string, string>;
  loggingTarget?: string;
  publicAccessBlocked?: boolean;
}

type BucketOp = { type: 'create' | 'update'; bucket: WantedBucket; parts: Part[] };

/**
 * STUPS' default for every bucket it makes: no public access whatever a later ACL or policy
 * says (`block_public_access: false` opts out, e.g. for a website bucket).
 */
const BLOCK_ALL = {
  BlockPublicAcls: true,
  IgnorePublicAcls: true,
  BlockPublicPolicy: true,
  RestrictPublicBuckets: true,
};

/** The policy letting S3's log delivery write into a logging target bucket. */
function logDeliveryPolicy(target: string): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'S3ServerAccessLogsPolicy',
        Effect: 'Allow',
        Principal: { Service: 'logging.s3.amazonaws.com' },
        Action: 's3:PutObject',
        Resource: `arn:aws:s3:::${target}/*`,
      },
    ],
  };
}

/**
 * One bucket per configured region, names and policies with `{region}` and `{bucket_name}`
 * filled; a `logging_target` adds its bucket (before the buckets logging to it), with
 * `logging_lifecycle_configuration` and the log-delivery policy.
 */
export function wantedBuckets(account: AccountConfig): WantedBucket[] {
  const out: WantedBucket[] = [];
  for (const [key, config] of Object.entries(account.s3_buckets ?? {})) {
    for (const region of config.regions) {
      const name = fillTemplate(config.name, { region });
      const policy = config.policy ? fillTemplate(config.policy, { region, bucket_name: name }) : undefined;
      const loggingTarget = config.logging_target
        ? fillTemplate(config.logging_target, { region })
        : undefined;
      const blockPublicAccess = config.block_public_access ?? true;
      if (loggingTarget && !out.some((b) => b.name === loggingTarget)) {
        out.push({
          key: `${key}-logs`,
          name: loggingTarget,
          region,
          policy: logDeliveryPolicy(loggingTarget),
          ...(config.logging_lifecycle_configuration
            ? { lifecycle: config.logging_lifecycle_configuration }
            : {}),
          blockPublicAccess: true,
        });
      }
      out.push({
        key,
        name,
        region,
        ...(policy ? { policy } : {}),
        ...(config.lifecycle_configuration ? { lifecycle: config.lifecycle_configuration } : {}),
        ...(config.encryption_config ? { encryption: config.encryption_config } : {}),
        ...(config.tags ? { tags: config.tags } : {}),
        ...(loggingTarget ? { loggingTarget } : {}),
        blockPublicAccess,
      });
    }
  }
  return out;
}

/**
 * Whether AWS's answer says what the file says: every key the file gives has that value (AWS
 * adds defaults of its own, e.g. a rule's `ID` or `BucketKeyEnabled`); lists match item by item.
 */
export function covers(wanted: unknown, current: unknown): boolean {
  if (Array.isArray(wanted)) {
    return (
      Array.isArray(current) &&
      wanted.length === current.length &&
      wanted.every((w, i) => covers(w, current[i]))
    );
  }
  if (wanted && typeof wanted === 'object') {
    if (!current || typeof current !== 'object') return false;
    return Object.entries(wanted).every(([k, w]) => covers(w, (current as Record<string, unknown>)[k]));
  }
  return wanted === current;
}

/** A read that answers "none configured" with an error of one of these names. */
async function orNone<T>(names: string[], read: () => Promise<T>): Promise<T | undefined> {
  try {
    return await read();
  } catch (error) {
    if (names.includes(awsErrorName(error))) return undefined;
    throw error;
  }
}

async function readParts(s3: S3Client, bucket: WantedBucket): Promise<Omit<BucketState, 'exists'>> {
  const Bucket = bucket.name;
  const state: Omit<BucketState, 'exists'> = {};
  const policy = await orNone(['NoSuchBucketPolicy'], async () =>
    parsePolicyText((await s3.send(new GetBucketPolicyCommand({ Bucket }))).Policy),
  );
  if (policy) state.policy = policy;
  if (bucket.lifecycle) {
    const rules = await orNone(
      ['NoSuchLifecycleConfiguration'],
      async () => (await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket }))).Rules,
    );
    if (rules) state.lifecycle = { Rules: rules };
  }
  if (bucket.encryption) {
    state.encryption = await orNone(
      ['ServerSideEncryptionConfigurationNotFoundError'],
      async () =>
        (await s3.send(new GetBucketEncryptionCommand({ Bucket }))).ServerSideEncryptionConfiguration,
    );
  }
  if (bucket.tags) {
    const set = await orNone(
      ['NoSuchTagSet'],
      async () => (await s3.send(new GetBucketTaggingCommand({ Bucket }))).TagSet,
    );
    state.tags = Object.fromEntries((set ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
  }
  if (bucket.loggingTarget) {
    const target = (await s3.send(new GetBucketLoggingCommand({ Bucket }))).LoggingEnabled?.TargetBucket;
    if (target) state.loggingTarget = target;
  }
  if (bucket.blockPublicAccess) {
    const block = await orNone(
      ['NoSuchPublicAccessBlockConfiguration'],
      async () => (await s3.send(new GetPublicAccessBlockCommand({ Bucket }))).PublicAccessBlockConfiguration,
    );
    state.publicAccessBlocked = covers(BLOCK_ALL, block);
  }
  return state;
}

/** The parts of an existing bucket that differ from the file, each with why. */
function differingParts(bucket: WantedBucket, now: BucketState): [Part, string][] {
  const out: [Part, string][] = [];
  if (bucket.policy && !samePolicy(now.policy, bucket.policy))
    out.push(['policy', now.policy ? 'bucket policy differs' : 'add bucket policy']);
  if (bucket.lifecycle && !covers(bucket.lifecycle, now.lifecycle))
    out.push(['lifecycle', now.lifecycle ? 'lifecycle differs' : 'add lifecycle']);
  if (bucket.encryption && !covers(bucket.encryption, now.encryption))
    out.push(['encryption', now.encryption ? 'default encryption differs' : 'add default encryption']);
  if (bucket.tags && !covers(bucket.tags, now.tags)) {
    const differ = Object.entries(bucket.tags).filter(([k, v]) => now.tags?.[k] !== v);
    out.push(['tags', `tags ${differ.map(([k, v]) => `${k}=${v}`).join(' ')}`]);
  }
  if (bucket.loggingTarget && now.loggingTarget !== bucket.loggingTarget)
    out.push(['logging', `log to ${bucket.loggingTarget}`]);
  if (bucket.blockPublicAccess && !now.publicAccessBlocked)
    out.push(['public-access', 'block public access']);
  return out;
}

/** Every part the file configures, for a new bucket. */
function configuredParts(bucket: WantedBucket): Part[] {
  const parts: Part[] = [];
  if (bucket.blockPublicAccess) parts.push('public-access');
  if (bucket.policy) parts.push('policy');
  if (bucket.lifecycle) parts.push('lifecycle');
  if (bucket.encryption) parts.push('encryption');
  if (bucket.tags) parts.push('tags');
  if (bucket.loggingTarget) parts.push('logging');
  return parts;
}

/** S3 buckets, e.g. the mint bucket `…-stups-mint-{account_id}-{region}` with its PutObject policy. */
export const s3Buckets: ResourceModule<Map<string, BucketState>, BucketOp> = {
  kind: 's3-buckets',
  async read(clients, account) {
    const state = new Map<string, BucketState>();
    for (const bucket of wantedBuckets(account)) {
      const s3 = clients.s3(bucket.region);
      try {
        await s3.send(new HeadBucketCommand({ Bucket: bucket.name }));
      } catch (error) {
        const name = awsErrorName(error);
        if (name === 'NotFound' || name === 'NoSuchBucket') {
          state.set(bucket.name, { exists: false });
          continue;
        }
        if (
          name === 'Forbidden' ||
          (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 403
        ) {
          throw new AccountFailure(`bucket ${bucket.name} exists but belongs to another account`);
        }
        throw error;
      }
      state.set(bucket.name, { exists: true, ...(await readParts(s3, bucket)) });
    }
    return state;
  },
  diff(account, current) {
    const changes: PlannedChange<BucketOp>[] = [];
    for (const bucket of wantedBuckets(account)) {
      const now = current.get(bucket.name);
      const base = { account: account.name, resource: `s3-bucket/${bucket.name}` };
      if (!now?.exists) {
        const parts = configuredParts(bucket);
        const shown = parts.filter((p) => p !== 'public-access');
        changes.push({
          ...base,
          action: 'create',
          detail: `create bucket in ${bucket.region}${shown.length ? ` with ${shown.join(', ')}` : ''}`,
          op: { type: 'create', bucket, parts },
        });
        continue;
      }
      const differ = differingParts(bucket, now);
      if (differ.length) {
        changes.push({
          ...base,
          action: 'update',
          detail: differ.map(([, why]) => why).join(', '),
          op: { type: 'update', bucket, parts: differ.map(([part]) => part) },
        });
      }
    }
    return changes;
  },
  async apply(clients, _account, { op }) {
    const s3 = clients.s3(op.bucket.region);
    const Bucket = op.bucket.name;
    if (op.type === 'create') {
      await s3.send(
        new CreateBucketCommand({
          Bucket,
          // us-east-1 is the one region that refuses its own name as a location constraint.
          ...(op.bucket.region === 'us-east-1'
            ? {}
            : {
                CreateBucketConfiguration: {
                  LocationConstraint: op.bucket.region as BucketLocationConstraint,
                },
              }),
        }),
      );
    }
    const b = op.bucket;
    for (const part of op.parts) {
      if (part === 'public-access')
        await s3.send(new PutPublicAccessBlockCommand({ Bucket, PublicAccessBlockConfiguration: BLOCK_ALL }));
      if (part === 'policy' && b.policy)
        await s3.send(new PutBucketPolicyCommand({ Bucket, Policy: JSON.stringify(b.policy) }));
      if (part === 'lifecycle' && b.lifecycle)
        await s3.send(
          new PutBucketLifecycleConfigurationCommand({
            Bucket,
            LifecycleConfiguration: b.lifecycle as unknown as BucketLifecycleConfiguration,
          }),
        );
      if (part === 'encryption' && b.encryption)
        await s3.send(
          new PutBucketEncryptionCommand({
            Bucket,
            ServerSideEncryptionConfiguration: b.encryption as unknown as ServerSideEncryptionConfiguration,
          }),
        );
      if (part === 'tags' && b.tags)
        await s3.send(
          new PutBucketTaggingCommand({
            Bucket,
            Tagging: { TagSet: Object.entries(b.tags).map(([Key, Value]) => ({ Key, Value })) },
          }),
        );
      if (part === 'logging' && b.loggingTarget)
        await s3.send(
          new PutBucketLoggingCommand({
            Bucket,
            BucketLoggingStatus: {
              LoggingEnabled: { TargetBucket: b.loggingTarget, TargetPrefix: `${Bucket}/` },
            },
          }),
        );
    }
  },
};
