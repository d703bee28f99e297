import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateBucketCommand,
  GetObjectAclCommand,
  GetObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDatabase } from '../platform/test-support/databases.js';
import type { Database } from '../platform/db/database.js';
import { MOTO_REGION, type RunningMoto, skipWithoutMoto, startMoto } from '../senza/test-support/moto.js';
import { s3BucketStore } from './buckets.js';
import { ClientFileSchema, UserFileSchema } from './contract.js';
import { createMintHarness, grantFromFiles, type MintHarness, MINT_TEST_MIGRATIONS } from './test-support.js';

const credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

async function object(client: S3Client, bucket: string, key: string) {
  const answer = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return { contentType: answer.ContentType, body: await answer.Body?.transformToString() };
}

/** The worker writing to S3 through the SDK, against s3rver (and moto_server for one case). */
describe('mint worker with S3 buckets (s3rver)', () => {
  let dir: string;
  let server: S3rver;
  let db: { database: Database; drop: () => Promise<void> };
  let h: MintHarness;
  let client: S3Client;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mint-s3-'));
    server = new S3rver({
      port: 0,
      address: '127.0.0.1',
      silent: true,
      directory: join(dir, 's3'),
      configureBuckets: [{ name: 'team-a-mint' }],
    });
    const { port } = await server.run();
    const aws = { endpoint: `http://127.0.0.1:${port}`, region: 'eu-central-1' };
    const store = s3BucketStore(aws, { credentials });
    client = store.client;
    db = await openTestDatabase('pglite', MINT_TEST_MIGRATIONS);
    h = await createMintHarness(db.database, store);
  }, 60_000);
  afterAll(async () => {
    await h?.close();
    await db?.drop();
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('writes user.json and client.json as JSON objects the credentials of which work', async () => {
    const put = await h.app.inject({
      method: 'PUT',
      url: '/apps/order-engine',
      headers: h.headers.jdoe,
      payload: { s3_buckets: ['team-a-mint'], scopes: [] },
    });
    expect(put.statusCode).toBe(201);
    expect(await h.mint.rotateDue()).toMatchObject({ passwordRotations: 1, failed: 0 });
    const user = await object(client, 'team-a-mint', 'order-engine/user.json');
    const clientFile = await object(client, 'team-a-mint', 'order-engine/client.json');
    expect(user.contentType).toBe('application/json');
    expect(clientFile.contentType).toBe('application/json');
    expect(await object(client, 'team-a-mint', 'order-engine/test-mint-write')).toEqual({
      contentType: 'application/json',
      body: '{"status":"SUCCESS"}',
    });
    const status = await grantFromFiles(
      h.tokenEndpoint,
      UserFileSchema.parse(JSON.parse(user.body ?? '')),
      ClientFileSchema.parse(JSON.parse(clientFile.body ?? '')),
    );
    expect(status).toBe(200);
  });

  it('a bucket that does not exist counts as a bucket error', async () => {
    await h.app.inject({
      method: 'PUT',
      url: '/apps/billing',
      headers: h.headers.jdoe,
      payload: { s3_buckets: ['no-such-bucket'], scopes: [] },
    });
    expect(await h.mint.rotateDue()).toMatchObject({ failed: 1 });
    const status = (await h.app.inject({ url: '/apps/billing', headers: h.headers.jdoe })).json();
    expect(status).toMatchObject({
      has_problems: true,
      s3_errors: 1,
      message: expect.stringContaining('NoSuchBucket'),
    });
  });
});

describe.skipIf(skipWithoutMoto())('mint worker with S3 buckets (moto_server)', () => {
  let moto: RunningMoto;
  let db: { database: Database; drop: () => Promise<void> };
  let h: MintHarness;
  let client: S3Client;

  beforeAll(async () => {
    moto = await startMoto();
    const store = s3BucketStore(
      { endpoint: moto.endpoint, region: MOTO_REGION },
      { credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } },
    );
    client = store.client;
    await client.send(
      new CreateBucketCommand({
        Bucket: 'team-a-mint',
        CreateBucketConfiguration: { LocationConstraint: MOTO_REGION },
      }),
    );
    db = await openTestDatabase('pglite', MINT_TEST_MIGRATIONS);
    h = await createMintHarness(db.database, store);
  }, 120_000);
  afterAll(async () => {
    await h?.close();
    await db?.drop();
    await moto?.stop();
  });

  it('writes with the bucket-owner-full-control ACL and application/json', async () => {
    await h.app.inject({
      method: 'PUT',
      url: '/apps/order-engine',
      headers: h.headers.jdoe,
      payload: { s3_buckets: ['team-a-mint'], scopes: [] },
    });
    expect(await h.mint.rotateDue()).toMatchObject({ passwordRotations: 1, failed: 0 });
    const user = await object(client, 'team-a-mint', 'order-engine/user.json');
    expect(user.contentType).toBe('application/json');
    expect(UserFileSchema.parse(JSON.parse(user.body ?? '')).application_username).toBe('stups_order-engine');
    const acl = await client.send(
      new GetObjectAclCommand({ Bucket: 'team-a-mint', Key: 'order-engine/user.json' }),
    );
    // bucket-owner-full-control: the bucket owner gets FULL_CONTROL beside the writer.
    expect(acl.Grants?.some((g) => g.Permission === 'FULL_CONTROL')).toBe(true);
  });
});
