import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, DeleteObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../platform/cli/run-cli.js';
import { captureIo } from '../platform/test-support/cli-io.js';
import {
  motoClientConfig,
  motoEnv,
  type RunningMoto,
  skipWithoutMoto,
  startMoto,
} from '../senza/test-support/moto.js';
import { berryProgram } from './cli/main.js';
import { clientJson, closedPort, startBerryProcess, userJson } from './test-support/berry-fixtures.js';

const APP = 'myapp';
const BUCKET = 'mint-example-bucket';
const S3RVER_KEYS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

/** What mint's S3 writer sends: JSON body, content type, the bucket owner's ACL. */
async function put(client: S3Client, key: string, body: string): Promise<void> {
  await client.send(
    new PutObjectCommand({
      Bucket: BUCKET,
      Key: key,
      Body: body,
      ContentType: 'application/json',
      ACL: 'bucket-owner-full-control',
    }),
  );
}

describe('berry against S3 (s3rver)', () => {
  let root: string;
  let server: S3rver;
  let endpoint: string;
  let s3: S3Client;
  let credentialsFile: string;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'berry-s3-'));
    server = new S3rver({
      port: 0,
      address: '127.0.0.1',
      silent: true,
      directory: join(root, 's3'),
      configureBuckets: [{ name: BUCKET }],
    });
    const { port } = await server.run();
    endpoint = `http://127.0.0.1:${port}`;
    s3 = new S3Client({ endpoint, region: 'eu-central-1', forcePathStyle: true, credentials: S3RVER_KEYS });
    await put(s3, `${APP}/user.json`, userJson('stups_myapp', 'password-1'));
    await put(s3, `${APP}/client.json`, clientJson('myapp-client', 'secret-1'));
    credentialsFile = join(root, 'aws-creds-by-app');
    await writeFile(
      credentialsFile,
      `# this file contains AWS access keys for berry\notherapp:AAC456:yzf834509234uvw\n${APP}:S3RVER:S3RVER\n`,
    );
  });
  afterAll(async () => {
    s3?.destroy();
    await server?.close();
    await rm(root, { recursive: true, force: true });
  });

  async function berry(dir: string, extra: string[] = [], env: NodeJS.ProcessEnv = {}) {
    const io = await captureIo({ env: { AWS_ENDPOINT_URL: endpoint, AWS_REGION: 'eu-central-1', ...env } });
    const code = await runCli(
      berryProgram({ io }),
      ['--once', '-a', APP, '-m', BUCKET, '-c', credentialsFile, ...extra, dir],
      io,
    );
    await io.cleanup();
    return { code, err: io.err() };
  }

  it('downloads, leaves unchanged files alone and follows a rotation', async () => {
    const dir = join(root, 'rotation');
    const first = await berry(dir);
    expect(first.code, first.err).toBe(0);
    expect(await readFile(join(dir, 'user.json'), 'utf8')).toBe(userJson('stups_myapp', 'password-1'));
    expect(await readFile(join(dir, 'client.json'), 'utf8')).toBe(clientJson('myapp-client', 'secret-1'));
    expect((await stat(join(dir, 'client.json'))).mode & 0o777).toBe(0o600);

    const before = await stat(join(dir, 'user.json'));
    const same = await berry(dir);
    expect(same.code).toBe(0);
    expect(same.err).not.toContain('Rotated');
    const after = await stat(join(dir, 'user.json'));
    expect([after.ino, after.mtimeMs]).toEqual([before.ino, before.mtimeMs]);

    await put(s3, `${APP}/client.json`, clientJson('myapp-client', 'secret-2'));
    const marker = join(root, 'changed');
    const rotated = await berry(dir, ['--exec', `echo "$BERRY_CHANGED_FILES" > ${marker}`]);
    expect(rotated.code, rotated.err).toBe(0);
    expect(await readFile(join(dir, 'client.json'), 'utf8')).toBe(clientJson('myapp-client', 'secret-2'));
    expect((await readFile(marker, 'utf8')).trim()).toBe('client');
    await put(s3, `${APP}/client.json`, clientJson('myapp-client', 'secret-1'));
  });

  it('names a missing object (404) in one line and keeps the last good file', async () => {
    const dir = join(root, 'missing');
    expect((await berry(dir)).code).toBe(0);
    await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: `${APP}/user.json` }));
    try {
      const result = await berry(dir);
      expect(result.code).toBe(1);
      expect(result.err).toMatch(
        /^berry: Credentials file "myapp\/user.json" not found in mint S3 bucket "mint-example-bucket"\. Mint either did not sync them yet or the mint configuration is wrong\. \(S3 error message: NoSuchKey.*\)\n$/,
      );
      expect(await readFile(join(dir, 'user.json'), 'utf8')).toBe(userJson('stups_myapp', 'password-1'));
    } finally {
      await put(s3, `${APP}/user.json`, userJson('stups_myapp', 'password-1'));
    }
  });

  it('names a refusal (403) in one line', async () => {
    const wrongKeys = join(root, 'wrong-keys');
    // s3rver does not check SigV4 signatures, but it refuses access keys it does not know.
    await writeFile(wrongKeys, `${APP}:AKIAUNKNOWN:not-the-secret\n`);
    const io = await captureIo({ env: { AWS_ENDPOINT_URL: endpoint, AWS_REGION: 'eu-central-1' } });
    const code = await runCli(
      berryProgram({ io }),
      ['--once', '-a', APP, '-m', BUCKET, '-c', wrongKeys, join(root, 'denied')],
      io,
    );
    await io.cleanup();
    expect(code).toBe(1);
    expect(io.err()).toMatch(
      /^berry: Access denied while trying to read "myapp\/user.json" from mint S3 bucket "mint-example-bucket"\. Check your IAM role\/user policy to allow read access! \(S3 error message: InvalidAccessKeyId.*\); Access denied while trying to read "myapp\/client.json"/,
    );
    expect(io.err().split('\n').filter(Boolean)).toHaveLength(1);
  });

  it('reads the -c file before every download and refuses an application it does not list', async () => {
    const result = await berry(join(root, 'other'), ['-a', 'unlisted']);
    expect(result.code).toBe(1);
    expect(result.err).toBe(
      `berry: No AWS credentials found for application "unlisted" in ${credentialsFile}\n`,
    );
  });

  it('says when the bucket cannot be reached', async () => {
    const port = await closedPort();
    const result = await berry(join(root, 'unreachable'), [], {
      AWS_ENDPOINT_URL: `http://127.0.0.1:${port}`,
    });
    expect(result.code).toBe(1);
    expect(result.err).toMatch(
      /^berry: Could not reach mint S3 bucket "mint-example-bucket": ECONNREFUSED; /,
    );
  });
});

const skipMoto = skipWithoutMoto();

describe.skipIf(skipMoto)('berry against S3 (moto_server), as its own process', () => {
  let moto: RunningMoto;
  let root: string;
  beforeAll(async () => {
    moto = await startMoto();
    root = await mkdtemp(join(tmpdir(), 'berry-moto-'));
    const s3 = new S3Client({ ...motoClientConfig(moto.endpoint), forcePathStyle: true });
    await s3.send(
      new CreateBucketCommand({
        Bucket: BUCKET,
        CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' },
      }),
    );
    await put(s3, `${APP}/user.json`, userJson('stups_myapp', 'password-1'));
    await put(s3, `${APP}/client.json`, clientJson('myapp-client', null));
    s3.destroy();
  }, 120_000);
  afterAll(async () => {
    await moto?.stop();
    await rm(root, { recursive: true, force: true });
  });

  it('downloads with the default AWS credential chain and the Taupage YAML', async () => {
    const yaml = join(root, 'taupage.yaml');
    await writeFile(yaml, `application_id: ${APP}\nmint_bucket: ${BUCKET}\n`);
    const dir = join(root, 'credentials');
    const berryProcess = startBerryProcess(['--once', '-f', yaml, dir], motoEnv(moto.endpoint));
    expect(await berryProcess.exited, berryProcess.output()).toBe(0);
    expect(await readFile(join(dir, 'user.json'), 'utf8')).toBe(userJson('stups_myapp', 'password-1'));
    expect(JSON.parse(await readFile(join(dir, 'client.json'), 'utf8'))).toEqual({
      client_id: 'myapp-client',
      client_secret: null,
    });

    const missing = startBerryProcess(
      ['--once', '-f', yaml, '-a', 'unknown-app', dir],
      motoEnv(moto.endpoint),
    );
    expect(await missing.exited).toBe(1);
    expect(missing.output()).toContain(
      'Credentials file "unknown-app/user.json" not found in mint S3 bucket',
    );
  });
});
