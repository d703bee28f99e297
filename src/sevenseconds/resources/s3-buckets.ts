import {
  type BucketLocationConstraint,
  CreateBucketCommand,
  GetBucketPolicyCommand,
  HeadBucketCommand,
  PutBucketPolicyCommand,
} from '@aws-sdk/client-s3';
import { AccountFailure } from '../aws/login.js';
import { fillTemplate } from '../config.js';
import type { AccountConfig, PolicyDocument } from '../contract.js';
import { parsePolicyText, samePolicy } from './policy.js';
import { awsErrorName, type PlannedChange, type ResourceModule } from './resource.js';

interface WantedBucket {
  key: string;
  name: string;
  region: string;
  policy?: PolicyDocument;
}

interface BucketState {
  exists: boolean;
  policy?: PolicyDocument;
}

type BucketOp = { type: 'create'; bucket: WantedBucket } | { type: 'put-policy'; bucket: WantedBucket };

/** One bucket per configured region, names and policies with `{region}` and `{bucket_name}` filled. */
export function wantedBuckets(account: AccountConfig): WantedBucket[] {
  return Object.entries(account.s3_buckets ?? {}).flatMap(([key, config]) =>
    config.regions.map((region) => {
      const name = fillTemplate(config.name, { region });
      const policy = config.policy ? fillTemplate(config.policy, { region, bucket_name: name }) : undefined;
      return { key, name, region, ...(policy ? { policy } : {}) };
    }),
  );
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
      let policy: PolicyDocument | undefined;
      try {
        policy = parsePolicyText((await s3.send(new GetBucketPolicyCommand({ Bucket: bucket.name }))).Policy);
      } catch (error) {
        if (awsErrorName(error) !== 'NoSuchBucketPolicy') throw error;
      }
      state.set(bucket.name, { exists: true, ...(policy ? { policy } : {}) });
    }
    return state;
  },
  diff(account, current) {
    const changes: PlannedChange<BucketOp>[] = [];
    for (const bucket of wantedBuckets(account)) {
      const now = current.get(bucket.name);
      const base = { account: account.name, resource: `s3-bucket/${bucket.name}` };
      if (!now?.exists) {
        changes.push({
          ...base,
          action: 'create',
          detail: `create bucket in ${bucket.region}${bucket.policy ? ' with policy' : ''}`,
          op: { type: 'create', bucket },
        });
      } else if (bucket.policy && !samePolicy(now.policy, bucket.policy)) {
        changes.push({
          ...base,
          action: 'update',
          detail: now.policy ? 'bucket policy differs' : 'add bucket policy',
          op: { type: 'put-policy', bucket },
        });
      }
    }
    return changes;
  },
  async apply(clients, _account, { op }) {
    const s3 = clients.s3(op.bucket.region);
    if (op.type === 'create') {
      await s3.send(
        new CreateBucketCommand({
          Bucket: op.bucket.name,
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
    if (op.bucket.policy) {
      await s3.send(
        new PutBucketPolicyCommand({ Bucket: op.bucket.name, Policy: JSON.stringify(op.bucket.policy) }),
      );
    }
  },
};
