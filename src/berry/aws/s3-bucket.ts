import { GetObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { type AwsSettings, awsClientConfig } from '../../platform/aws/client-config.js';
import { networkErrorCode } from '../../platform/cli/http-client.js';
import { BucketReadError, checkBucketName, type MintBucket } from '../mint-bucket.js';

export interface StaticCredentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/**
 * A mint bucket on S3 (or an S3 emulator through `AWS_ENDPOINT_URL`). Without explicit credentials
 * the SDK's default chain applies: on an instance, its role. The original found a bucket's region by
 * hand after `PermanentRedirect`; SDK v3 does that itself with `followRegionRedirects`.
 */
export function s3Bucket(
  aws: AwsSettings,
  bucket: string,
  credentials?: StaticCredentials,
): MintBucket & { destroy(): void } {
  const name = checkBucketName(bucket);
  const config = awsClientConfig(aws, 's3');
  const client = new S3Client({
    ...config,
    // S3 needs some region to sign with; the redirect handling corrects it for buckets elsewhere.
    region: config.region ?? 'us-east-1',
    followRegionRedirects: true,
    ...(credentials ? { credentials } : {}),
  });
  const description = `mint S3 bucket "${name}"`;
  return {
    description,
    destroy: () => client.destroy(),
    async read(key) {
      try {
        const answer = await client.send(new GetObjectCommand({ Bucket: name, Key: key }));
        if (!answer.Body) return Buffer.alloc(0);
        return Buffer.from(await answer.Body.transformToByteArray());
      } catch (error) {
        throw classify(error, key, description);
      }
    },
  };
}

function classify(error: unknown, key: string, description: string): BucketReadError {
  if (error instanceof S3ServiceException) {
    const status = error.$metadata.httpStatusCode;
    const s3Message = `(S3 error message: ${error.name}${error.message && error.message !== error.name ? `: ${error.message}` : ''})`;
    if (status === 403 || error.name === 'AccessDenied') {
      return new BucketReadError(
        'denied',
        `Access denied while trying to read "${key}" from ${description}. Check your IAM role/user policy to allow read access! ${s3Message}`,
        { cause: error },
      );
    }
    if (status === 404 || error.name === 'NoSuchKey' || error.name === 'NoSuchBucket') {
      return new BucketReadError(
        'not_found',
        `Credentials file "${key}" not found in ${description}. Mint either did not sync them yet or the mint configuration is wrong. ${s3Message}`,
        { cause: error },
      );
    }
    return new BucketReadError('failed', `Could not read from ${description}: ${s3Message}`, {
      cause: error,
    });
  }
  // No answer at all: refused, DNS, TLS, timeout. The SDK puts the system error code on the error.
  const code =
    error instanceof Error && 'code' in error && typeof error.code === 'string'
      ? error.code
      : networkErrorCode(error);
  return new BucketReadError('unreachable', `Could not reach ${description}: ${code}`, { cause: error });
}
