import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { awsClientConfig } from '../aws/client-config.js';
import {
  algorithmOf,
  BLOB_ALGORITHMS,
  type BlobDigestAlgorithm,
  type BlobInfo,
  BlobNotFoundError,
  type BlobStore,
  type ByteRange,
  type ExpectedBlob,
  type StoredBlob,
  verifyExpected,
} from './blob-store.js';
import { writeToFile } from './file-writer.js';
import { DigestCounter } from './hashing.js';
import { assertPartKey, newPartKey, publishByCopy, type UploadParts } from './upload-parts.js';
import { UploadSessions } from './upload-sessions.js';

export interface S3BlobStoreOptions {
  bucket: string;
  /** Key prefix for blobs (default `blobs/`); keys are `<prefix>sha256/<first two hex>/<hex>`. */
  prefix?: string;
  /**
   * Key prefix for the chunks of unfinished uploads (default `uploads/`), outside the blobs'
   * prefix: a lifecycle rule may expire it, blob garbage collection never looks at it.
   */
  partsPrefix?: string;
  /** A ready client; otherwise one is built from `region`, `endpoint` and `forcePathStyle`. */
  client?: S3Client;
  region?: string;
  /** S3-compatible endpoint, e.g. `AWS_ENDPOINT_URL` (MinIO, Ceph, s3rver). */
  endpoint?: string;
  /** Path-style addressing (`<endpoint>/<bucket>/<key>`), which most S3-compatible stores need. */
  forcePathStyle?: boolean;
  credentials?: S3ClientConfig['credentials'];
  /** Local directory for resumable uploads and for writes of unknown digest (required). */
  stagingDir: string;
  /** Multipart part size in bytes (default 16 MiB); memory use is about `partSize × queueSize`. */
  partSize?: number;
  /** Parts uploaded in parallel (default 4). */
  queueSize?: number;
}

/**
 * Options from the usual AWS environment: `AWS_ENDPOINT_URL` (+ `AWS_ENDPOINT_URL_S3`), `AWS_REGION`,
 * by the kernel's one AWS rule (src/platform/aws). Only `main` passes `process.env` here.
 */
export function s3EndpointOptionsFromEnv(
  env: Readonly<Record<string, string | undefined>>,
): Pick<S3BlobStoreOptions, 'endpoint' | 'region' | 'forcePathStyle'> {
  const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  const { endpoint, forcePathStyle } = awsClientConfig(
    {
      ...(region ? { region } : {}),
      ...(env.AWS_ENDPOINT_URL ? { endpoint: env.AWS_ENDPOINT_URL } : {}),
      ...(env.AWS_ENDPOINT_URL_S3 ? { s3Endpoint: env.AWS_ENDPOINT_URL_S3 } : {}),
    },
    's3',
  );
  return {
    ...(endpoint ? { endpoint } : {}),
    ...(forcePathStyle ? { forcePathStyle } : {}),
    ...(region ? { region } : {}),
  };
}

/** Whether an S3 error means "no such object". */
function isNotFound(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as { name?: unknown; $metadata?: { httpStatusCode?: number } };
  return e.name === 'NotFound' || e.name === 'NoSuchKey' || e.$metadata?.httpStatusCode === 404;
}

/**
 * Blobs as objects in an S3 bucket. A write streams straight to the blob's final key while it
 * is hashed; if the digest does not match, the stream fails before its end, so the multipart
 * upload is aborted (or the single PUT never sent) and nothing is published.
 */
export class S3BlobStore implements BlobStore {
  readonly kind = 's3' as const;
  readonly uploads: UploadSessions;
  readonly parts: UploadParts;
  readonly client: S3Client;
  readonly #bucket: string;
  readonly #prefix: string;
  readonly #stagingDir: string;
  readonly #partSize: number;
  readonly #queueSize: number;

  constructor(options: S3BlobStoreOptions) {
    this.#bucket = options.bucket;
    this.#prefix = options.prefix ?? 'blobs/';
    this.#stagingDir = options.stagingDir;
    this.#partSize = options.partSize ?? 16 * 1024 * 1024;
    this.#queueSize = options.queueSize ?? 4;
    this.client =
      options.client ??
      new S3Client({
        ...(options.region ? { region: options.region } : {}),
        ...(options.endpoint ? { endpoint: options.endpoint } : {}),
        ...(options.forcePathStyle !== undefined ? { forcePathStyle: options.forcePathStyle } : {}),
        ...(options.credentials ? { credentials: options.credentials } : {}),
      });
    this.uploads = new UploadSessions({ dir: join(this.#stagingDir, 'uploads'), store: this });
    this.parts = new S3UploadParts(this, options.bucket, options.partsPrefix ?? 'uploads/');
  }

  async init(): Promise<this> {
    await mkdir(join(this.#stagingDir, 'tmp'), { recursive: true });
    await this.uploads.init();
    return this;
  }

  keyOf(digest: string): string {
    const algorithm = algorithmOf(digest);
    const hex = digest.slice(algorithm.length + 1);
    return `${this.#prefix}${algorithm}/${hex.slice(0, 2)}/${hex}`;
  }

  async put(source: Readable | AsyncIterable<Uint8Array>, expected?: ExpectedBlob): Promise<BlobInfo> {
    if (expected?.digest === undefined) return this.#putUnknownDigest(source, expected);
    const key = this.keyOf(expected.digest);
    const counter = new DigestCounter(algorithmOf(expected.digest));
    let verified: BlobInfo | undefined;
    const verifying = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        counter.update(chunk);
        callback(null, chunk);
      },
      flush(callback) {
        // Failing here fails the body before its end: the object is never completed.
        const info = { digest: counter.digest(), size: counter.size };
        try {
          verifyExpected(expected, info);
          verified = info;
          callback();
        } catch (error) {
          callback(error as Error);
        }
      },
    });
    const input = source instanceof Readable ? source : Readable.from(source);
    input.on('error', (error) => verifying.destroy(error));
    input.pipe(verifying);
    await this.#upload(key, verifying);
    if (!verified) throw new Error(`upload of ${expected.digest} ended without verification`);
    return verified;
  }

  /** Streams `body` to `key` (multipart when large); internal to the store and its parts. */
  async upload(key: string, body: Readable): Promise<void> {
    return this.#upload(key, body);
  }

  async #upload(key: string, body: Readable): Promise<void> {
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.#bucket, Key: key, Body: body, ContentType: 'application/octet-stream' },
      partSize: this.#partSize,
      queueSize: this.#queueSize,
      leavePartsOnError: false,
    });
    let bodyError: Error | undefined;
    body.on('error', (error) => {
      bodyError = error;
    });
    try {
      await upload.done();
    } catch (error) {
      throw bodyError ?? error;
    }
    if (bodyError) throw bodyError;
  }

  /** Without a digest to name the object, stage locally first, then publish under the digest. */
  async #putUnknownDigest(source: Readable | AsyncIterable<Uint8Array>, expected?: ExpectedBlob) {
    const temp = join(this.#stagingDir, 'tmp', randomUUID());
    const counter = new DigestCounter();
    try {
      await writeToFile(source, temp, { flags: 'w', counter, sync: false });
      const info = { digest: counter.digest(), size: counter.size };
      verifyExpected(expected, info);
      await this.publishFile(temp, info);
      return info;
    } finally {
      await unlink(temp).catch(() => {});
    }
  }

  async publishFile(path: string, info: BlobInfo): Promise<void> {
    await this.#upload(this.keyOf(info.digest), createReadStream(path, { highWaterMark: 1024 * 1024 }));
    // Only once the object exists: a failed upload leaves the file for the caller to retry.
    await unlink(path).catch(() => {});
  }

  async get(digest: string, range?: ByteRange): Promise<Readable> {
    try {
      const answer = await this.client.send(
        new GetObjectCommand({
          Bucket: this.#bucket,
          Key: this.keyOf(digest),
          ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}),
        }),
      );
      const body = answer.Body;
      if (!(body instanceof Readable)) throw new Error('the S3 client did not return a Node.js stream');
      return body;
    } catch (error) {
      if (isNotFound(error)) throw new BlobNotFoundError(digest);
      throw error;
    }
  }

  async stat(digest: string): Promise<BlobInfo | undefined> {
    try {
      const head = await this.client.send(
        new HeadObjectCommand({ Bucket: this.#bucket, Key: this.keyOf(digest) }),
      );
      return { digest, size: head.ContentLength ?? 0 };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async exists(digest: string): Promise<boolean> {
    return (await this.stat(digest)) !== undefined;
  }

  /**
   * Blobs in key (= digest) order, a `ListObjectsV2` page at a time, each page after the last key
   * seen (`StartAfter`: continuation tokens are where S3-compatible stores differ).
   */
  async *list(pageSize = 1000): AsyncIterable<StoredBlob[]> {
    for (const algorithm of BLOB_ALGORITHMS) yield* this.#listAlgorithm(algorithm, pageSize);
  }

  async *#listAlgorithm(algorithm: BlobDigestAlgorithm, pageSize: number): AsyncIterable<StoredBlob[]> {
    const prefix = `${this.#prefix}${algorithm}/`;
    const name = algorithm === 'sha512' ? /^[a-f0-9]{2}\/([a-f0-9]{128})$/ : /^[a-f0-9]{2}\/([a-f0-9]{64})$/;
    let after: string | undefined;
    for (;;) {
      const answer = await this.client.send(
        new ListObjectsV2Command({
          Bucket: this.#bucket,
          Prefix: prefix,
          MaxKeys: Math.min(pageSize, 1000),
          ...(after ? { StartAfter: after } : {}),
        }),
      );
      const objects = answer.Contents ?? [];
      const page: StoredBlob[] = [];
      for (const object of objects) {
        const hex = name.exec(object.Key?.slice(prefix.length) ?? '')?.[1];
        if (!hex) continue;
        page.push({
          digest: `${algorithm}:${hex}`,
          size: object.Size ?? 0,
          modified: object.LastModified ?? new Date(0),
        });
      }
      if (page.length > 0) yield page;
      after = objects.at(-1)?.Key;
      if (!answer.IsTruncated || after === undefined) return;
    }
  }

  /**
   * One `DeleteObject` per blob, 16 at a time: S3-compatible stores disagree on `DeleteObjects`
   * (its checksum header), and deleting a missing key succeeds, so a retry is harmless.
   */
  async delete(digests: readonly string[]): Promise<string[]> {
    const gone: string[] = [];
    let next = 0;
    const worker = async () => {
      while (next < digests.length) {
        const digest = digests[next++]!;
        try {
          await this.client.send(new DeleteObjectCommand({ Bucket: this.#bucket, Key: this.keyOf(digest) }));
          gone.push(digest);
        } catch (error) {
          if (isNotFound(error)) gone.push(digest);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(16, digests.length) }, worker));
    return gone;
  }
}

/** The largest object one CopyObject may copy. */
const COPY_OBJECT_LIMIT = 5 * 1024 ** 3;

/**
 * Chunks as objects `<partsPrefix><upload id>/<uuid>`, each written with one PUT (or a multipart
 * upload when a single chunk is larger than the part size). Not one S3 multipart upload per blob:
 * OCI clients send chunks of any size, and S3 refuses parts under 5 MiB except the last.
 */
class S3UploadParts implements UploadParts {
  constructor(
    readonly store: S3BlobStore,
    readonly bucket: string,
    readonly prefix: string,
  ) {}

  newKey(uploadId: string): string {
    return newPartKey(uploadId);
  }

  #key(key: string): string {
    assertPartKey(key);
    return `${this.prefix}${key}`;
  }

  async write(
    key: string,
    source: Readable | AsyncIterable<Uint8Array>,
    counter = new DigestCounter(),
  ): Promise<number> {
    const before = counter.size;
    const counting = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        counter.update(chunk);
        callback(null, chunk);
      },
    });
    const input = source instanceof Readable ? source : Readable.from(source);
    input.on('error', (error) => counting.destroy(error));
    input.pipe(counting);
    await this.store.upload(this.#key(key), counting);
    return counter.size - before;
  }

  async read(key: string): Promise<Readable> {
    const answer = await this.store.client.send(
      new GetObjectCommand({ Bucket: this.bucket, Key: this.#key(key) }),
    );
    if (!(answer.Body instanceof Readable)) throw new Error('the S3 client did not return a Node.js stream');
    return answer.Body;
  }

  async remove(keys: readonly string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += 1000) {
      const batch = keys.slice(i, i + 1000).map((key) => ({ Key: this.#key(key) }));
      await this.store.client.send(
        new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: batch, Quiet: true } }),
      );
    }
  }

  async listOlder(before: Date): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.store.client.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.prefix, ContinuationToken: token }),
      );
      for (const object of page.Contents ?? []) {
        if (!object.Key || !object.LastModified || object.LastModified >= before) continue;
        keys.push(object.Key.slice(this.prefix.length));
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return keys.filter((key) => /^[a-f0-9-]{36}\/[a-f0-9-]{36}$/.test(key));
  }

  async publish(
    keys: readonly string[],
    expected: { digest: string; size?: number | undefined },
    verified: boolean,
    tail?: Readable | AsyncIterable<Uint8Array>,
  ): Promise<BlobInfo> {
    const [only] = keys;
    const size = expected.size;
    if (
      verified &&
      !tail &&
      keys.length === 1 &&
      only !== undefined &&
      size !== undefined &&
      size <= COPY_OBJECT_LIMIT
    ) {
      // Hashed as it arrived on this replica: copied inside S3, no byte through this process.
      await this.store.client.send(
        new CopyObjectCommand({
          Bucket: this.bucket,
          Key: this.store.keyOf(expected.digest),
          CopySource: `${this.bucket}/${this.#key(only)}`,
        }),
      );
      return { digest: expected.digest, size };
    }
    return publishByCopy(this.store, this, keys, expected, tail);
  }
}

export async function createS3BlobStore(options: S3BlobStoreOptions): Promise<S3BlobStore> {
  return new S3BlobStore(options).init();
}
