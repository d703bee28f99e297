import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type * as S3Package from '@aws-sdk/client-s3';
import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3';
import { type AwsSettings, awsClientConfig } from '../platform/aws/client-config.js';
import { BUCKET_NAME_PATTERN } from './contract.js';
import { lazyPackage } from '../platform/lazy-package.js';

// Loaded when mint writes to S3 (`bucketStore: s3`), not with mint (see lazyPackage).
const s3Package = lazyPackage<typeof S3Package>('@aws-sdk/client-s3');

/**
 * Where mint puts credentials: `<bucket>/<key>`, key `<app>/user.json`, `<app>/client.json`,
 * `<app>/test-mint-write`. mint only writes (in STUPS its role had no read permission), so the
 * interface has no read. berry reads exactly this layout.
 */
export interface BucketStore {
  readonly kind: 'disk' | 's3';
  /** Writes `body` (JSON) at `<bucket>/<key>`; a failure is a BucketWriteError. */
  put(bucket: string, key: string, body: string): Promise<void>;
}

/** A bucket refused a write: counted in `s3_errors`, and after too many the app pauses. */
export class BucketWriteError extends Error {
  constructor(
    readonly bucket: string,
    readonly key: string,
    reason: string,
  ) {
    super(`could not write ${key} to bucket ${bucket}: ${reason}`);
    this.name = 'BucketWriteError';
  }
}

const KEY_PATTERN = /^[a-z][a-z0-9-]*[a-z0-9]\/(user\.json|client\.json|test-mint-write)$/;

function checkTarget(bucket: string, key: string): void {
  // Both are validated on the way in; checked again because they become file paths.
  if (!BUCKET_NAME_PATTERN.test(bucket) || bucket.includes('..')) {
    throw new BucketWriteError(bucket, key, 'not a valid bucket name');
  }
  if (!KEY_PATTERN.test(key)) throw new BucketWriteError(bucket, key, 'not a key mint writes');
}

/** The error's code (`ENOTDIR`, `NoSuchBucket`) and message: what an operator needs to fix it. */
function reasonOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = 'code' in error && typeof error.code === 'string' ? error.code : error.name;
  return code && code !== 'Error' && !error.message.includes(code)
    ? `${code}: ${error.message}`
    : error.message;
}

/**
 * Buckets as folders: `<dir>/<bucket>/<app>/<file>`, created when missing (the embedded platform
 * has nobody to create buckets beforehand). Files are written to a temporary
 * name with mode 0600, flushed and renamed, so a reader (berry) never sees half a file.
 */
export function diskBucketStore(dir: string): BucketStore {
  return {
    kind: 'disk',
    async put(bucket, key, body) {
      checkTarget(bucket, key);
      const file = join(dir, bucket, key);
      const temp = join(dirname(file), `.${key.split('/')[1]}.${randomBytes(6).toString('hex')}.tmp`);
      try {
        await mkdir(join(dir, bucket), { recursive: true });
        await mkdir(dirname(file), { recursive: true, mode: 0o700 });
        const handle = await open(temp, 'wx', 0o600);
        try {
          await handle.writeFile(body);
          await handle.sync();
        } finally {
          await handle.close();
        }
        await rename(temp, file);
      } catch (error) {
        await rm(temp, { force: true }).catch(() => {});
        throw new BucketWriteError(bucket, key, reasonOf(error));
      }
    },
  };
}

/**
 * S3 through the SDK, configured by the kernel's AWS settings (`AWS_ENDPOINT_URL` honoured).
 * `bucket-owner-full-control`: the bucket lives in the team's account, mint writes from its own.
 */
export function s3BucketStore(
  aws: AwsSettings,
  extra: Partial<S3ClientConfig> = {},
): BucketStore & { client: S3Client } {
  const client = new (s3Package().S3Client)({ ...awsClientConfig(aws, 's3'), ...extra });
  return {
    kind: 's3',
    client,
    async put(bucket, key, body) {
      checkTarget(bucket, key);
      try {
        await client.send(
          new (s3Package().PutObjectCommand)({
            Bucket: bucket,
            Key: key,
            Body: body,
            ContentType: 'application/json',
            ACL: 'bucket-owner-full-control',
          }),
        );
      } catch (error) {
        throw new BucketWriteError(bucket, key, reasonOf(error));
      }
    },
  };
}
