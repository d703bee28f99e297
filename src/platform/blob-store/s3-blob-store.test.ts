import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AbortMultipartUploadCommand,
  CreateMultipartUploadCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import S3rver from 's3rver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createS3BlobStore, type S3BlobStore, s3EndpointOptionsFromEnv } from './s3-blob-store.js';
import { blobStoreContract, pieces, sha256 } from './test-support/blob-store-contract.js';

const credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

describe('S3BlobStore against s3rver', () => {
  let dir: string;
  let server: S3rver;
  let store: S3BlobStore;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 's3-blob-store-'));
    server = new S3rver({
      port: 0,
      address: '127.0.0.1',
      silent: true,
      directory: join(dir, 's3'),
      configureBuckets: [{ name: 'blobs' }],
    });
    const { port } = await server.run();
    store = await createS3BlobStore({
      bucket: 'blobs',
      ...s3EndpointOptionsFromEnv({
        AWS_ENDPOINT_URL: `http://127.0.0.1:${port}`,
        AWS_REGION: 'eu-central-1',
      }),
      credentials,
      stagingDir: join(dir, 'staging'),
      // Small parts so that a 300 kB blob already goes through a multipart upload.
      partSize: 5 * 1024 * 1024,
    });
  });
  afterAll(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  blobStoreContract(() => store);

  it('uses path-style addressing for a custom endpoint', () => {
    expect(s3EndpointOptionsFromEnv({ AWS_ENDPOINT_URL: 'http://127.0.0.1:1' })).toEqual({
      endpoint: 'http://127.0.0.1:1',
      forcePathStyle: true,
    });
    expect(s3EndpointOptionsFromEnv({})).toEqual({});
  });

  it('streams a multipart blob and aborts it when the digest is wrong', async () => {
    const data = randomBytes(12 * 1024 * 1024);
    const digest = sha256(data);
    expect(await store.put(pieces(data, 1 << 20), { digest })).toEqual({ digest, size: data.length });
    const wrong = sha256(Buffer.from('wrong'));
    const other = randomBytes(11 * 1024 * 1024);
    await expect(store.put(pieces(other, 1 << 20), { digest: wrong })).rejects.toMatchObject({
      code: 'DIGEST_INVALID',
    });
    expect(await store.exists(wrong)).toBe(false);
    const listed = await store.client.send(new ListObjectsV2Command({ Bucket: 'blobs' }));
    const keys = (listed.Contents ?? []).map((o) => o.Key);
    expect(keys).toContain(store.keyOf(digest));
    expect(keys).not.toContain(store.keyOf(wrong));
  });
});

describe('S3BlobStore error paths (mocked S3)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 's3-mock-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  function accessDenied(): S3ServiceException {
    return new S3ServiceException({
      name: 'AccessDenied',
      $fault: 'client',
      $metadata: { httpStatusCode: 403 },
      message: 'Access Denied',
    });
  }

  it('reports a refused PUT instead of pretending the blob was stored', async () => {
    const client = new S3Client({ region: 'eu-central-1', credentials });
    const mock = mockClient(client);
    mock.on(PutObjectCommand).rejects(accessDenied());
    const store = await createS3BlobStore({ bucket: 'b', client, stagingDir: dir });
    const data = randomBytes(1000);
    await expect(store.put(pieces(data, 100), { digest: sha256(data) })).rejects.toThrow('Access Denied');
    mock.restore();
  });

  it('keeps a resumable upload whose publishing S3 refused, so that it can be finished later', async () => {
    const client = new S3Client({ region: 'eu-central-1', credentials });
    const mock = mockClient(client);
    mock.on(PutObjectCommand).rejectsOnce(accessDenied()).resolves({});
    const store = await createS3BlobStore({ bucket: 'b', client, stagingDir: dir });
    const data = randomBytes(1000);
    const id = await store.uploads.create();
    await store.uploads.append(id, pieces(data, 100));
    await expect(store.uploads.commit(id, sha256(data))).rejects.toThrow('Access Denied');
    expect(await store.uploads.size(id)).toBe(1000);
    expect(await store.uploads.commit(id, sha256(data))).toEqual({ digest: sha256(data), size: 1000 });
    expect(await store.uploads.size(id)).toBeUndefined();
    mock.restore();
  });

  it('tells "forbidden" apart from "missing" on stat', async () => {
    const client = new S3Client({ region: 'eu-central-1', credentials });
    const mock = mockClient(client);
    mock.on(HeadObjectCommand).rejects(accessDenied());
    const store = await createS3BlobStore({ bucket: 'b', client, stagingDir: dir });
    await expect(store.stat(sha256(Buffer.from('x')))).rejects.toThrow('Access Denied');
    mock.restore();
  });

  it('aborts the multipart upload when a part fails', async () => {
    const client = new S3Client({ region: 'eu-central-1', credentials });
    const mock = mockClient(client);
    mock.on(CreateMultipartUploadCommand).resolves({ UploadId: 'u1' });
    mock.on(UploadPartCommand).rejects(accessDenied());
    mock.on(AbortMultipartUploadCommand).resolves({});
    const store = await createS3BlobStore({
      bucket: 'b',
      client,
      stagingDir: dir,
      partSize: 5 * 1024 * 1024,
    });
    const data = randomBytes(11 * 1024 * 1024);
    await expect(store.put(pieces(data, 1 << 20), { digest: sha256(data) })).rejects.toThrow();
    expect(mock.commandCalls(AbortMultipartUploadCommand)).toHaveLength(1);
    mock.restore();
  });
});
