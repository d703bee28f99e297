import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { StupsError } from '../platform/errors.js';

/**
 * Why a credentials file could not be read, so that berry can say it in one line. `denied` and
 * `not_found` are the two cases the original names (403, 404); `unreachable` is a network failure;
 * `failed` anything else the store answered.
 */
export type BucketErrorKind = 'denied' | 'not_found' | 'unreachable' | 'failed';

export class BucketReadError extends StupsError {
  constructor(
    readonly kind: BucketErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`BUCKET_${kind.toUpperCase()}`, message, options);
  }
}

/** Where mint put an application's files: `<app>/user.json`, `<app>/client.json`. */
export interface MintBucket {
  /** For messages: `mint S3 bucket "name"` or `mint bucket folder "/path"`. */
  readonly description: string;
  /** The bytes of `<key>`; throws a `BucketReadError`. */
  read(key: string): Promise<Buffer>;
}

/** Bucket and application names end up in paths and keys: no separators, no `..`. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export function checkBucketName(bucket: string): string {
  if (!NAME.test(bucket) || bucket.includes('..')) {
    throw new StupsError('USAGE', `invalid mint bucket name "${bucket}"`);
  }
  return bucket;
}

function errnoCode(error: unknown): string | undefined {
  if (error instanceof Error && 'code' in error && typeof error.code === 'string') return error.code;
  return undefined;
}

/**
 * The embedded default (`stups up`): buckets are folders, `<bucketsDir>/<bucket>/<app>/<file>`,
 * as mint's disk writer lays them out.
 */
export function diskBucket(bucketsDir: string, bucket: string): MintBucket {
  const root = join(bucketsDir, checkBucketName(bucket));
  const description = `mint bucket folder "${root}"`;
  return {
    description,
    async read(key) {
      try {
        return await readFile(join(root, key));
      } catch (error) {
        const code = errnoCode(error);
        if (code === 'ENOENT' || code === 'ENOTDIR') {
          throw new BucketReadError(
            'not_found',
            `Credentials file "${key}" not found in ${description}. Mint either did not sync them yet or the mint configuration is wrong.`,
            { cause: error },
          );
        }
        if (code === 'EACCES' || code === 'EPERM') {
          throw new BucketReadError(
            'denied',
            `Access denied while trying to read "${key}" from ${description}. Check the permissions of the folder (${code}).`,
            { cause: error },
          );
        }
        throw new BucketReadError(
          'failed',
          `Could not read "${key}" from ${description}: ${code ?? (error instanceof Error ? error.message : String(error))}`,
          { cause: error },
        );
      }
    },
  };
}
