import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { describeEachDatabase } from '../../platform/test-support/databases.js';
import {
  motoClientConfig,
  type RunningMoto,
  skipWithoutMoto,
  startMoto,
} from '../../senza/test-support/moto.js';
import * as records from '../test-support/cloudtrail-records.js';
import {
  ACCOUNT_A,
  createFullstopHarness,
  FULLSTOP_TEST_MIGRATIONS,
  type FullstopHarness,
} from '../test-support/fullstop-harness.js';
import { Ec2ImageCatalog } from './images.js';
import { filesOfMessage, SqsIngestion } from './sqs-ingestion.js';

const gzip = promisify(gzipCallback);
const s3Event = (bucket: string, key: string) =>
  JSON.stringify({
    Records: [
      {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        awsRegion: 'eu-west-1',
        eventName: 'ObjectCreated:Put',
        s3: {
          s3SchemaVersion: '1.0',
          bucket: { name: bucket },
          object: { key: encodeURIComponent(key).replace(/%2F/g, '/'), size: 1 },
        },
      },
    ],
  });

describe('filesOfMessage', () => {
  it('reads S3 event notifications and CloudTrail notices wrapped in SNS; ignores the rest', () => {
    expect(filesOfMessage(s3Event('b', 'AWSLogs/1/CloudTrail/x.json.gz'))).toEqual([
      { bucket: 'b', key: 'AWSLogs/1/CloudTrail/x.json.gz' },
    ]);
    const sns = JSON.stringify({
      Type: 'Notification',
      Message: JSON.stringify({ s3Bucket: 'trail', s3ObjectKey: ['AWSLogs/1/CloudTrail/a.json.gz'] }),
    });
    expect(filesOfMessage(sns)).toEqual([{ bucket: 'trail', key: 'AWSLogs/1/CloudTrail/a.json.gz' }]);
    expect(filesOfMessage(JSON.stringify({ Event: 's3:TestEvent' }))).toBeUndefined();
    expect(filesOfMessage('not json')).toBeUndefined();
  });
});

describe.skipIf(skipWithoutMoto())('S3 + SQS ingestion on moto', () => {
  let moto: RunningMoto;
  let s3: S3Client;
  let sqs: SQSClient;
  let images: Ec2ImageCatalog;

  beforeAll(async () => {
    moto = await startMoto();
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'testing');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'testing');
    vi.stubEnv('AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED', 'true');
    s3 = new S3Client({ ...motoClientConfig(moto.endpoint), forcePathStyle: true });
    sqs = new SQSClient(motoClientConfig(moto.endpoint));
    images = new Ec2ImageCatalog({ region: 'eu-west-1', endpoint: moto.endpoint });
  }, 90_000);
  afterAll(async () => {
    images.dispose();
    s3.destroy();
    sqs.destroy();
    vi.unstubAllEnvs();
    await moto.stop();
  });

  describeEachDatabase('fullstop', FULLSTOP_TEST_MIGRATIONS, (getDatabase, kind) => {
    let h: FullstopHarness;
    let queueUrl: string;
    let bucket: string;
    let poller: SqsIngestion;
    const inQueue = async () => {
      const a = await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: queueUrl,
          AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
        }),
      );
      return (
        Number(a.Attributes?.ApproximateNumberOfMessages) +
        Number(a.Attributes?.ApproximateNumberOfMessagesNotVisible)
      );
    };

    beforeAll(async () => {
      h = await createFullstopHarness(getDatabase(), images);
      bucket = `trail-${kind}`;
      await s3.send(
        new CreateBucketCommand({
          Bucket: bucket,
          CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' },
        }),
      );
      queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: `fullstop-${kind}` }))).QueueUrl ?? '';
      poller = new SqsIngestion({
        sqs,
        s3,
        queueUrl,
        ingestion: h.fullstop.ingestion,
        logger: h.ctx.logger,
        waitSeconds: 0,
      });
    });

    it('fetches the notified file, stores its violations and deletes the message after the commit', async () => {
      const key = `AWSLogs/${ACCOUNT_A}/CloudTrail/eu-west-1/2026/11/27/${ACCOUNT_A}_CloudTrail_eu-west-1_20261127T1000Z_s3.json.gz`;
      const body = await gzip(
        JSON.stringify({
          Records: [records.consoleLogin({ type: 'IAMUser' }), records.cloudTrailEvent('StopLogging')],
        }),
      );
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
      await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: s3Event(bucket, key) }));
      expect(await poller.poll()).toEqual({ messages: 1, deleted: 1, files: 1, violations: 2 });
      expect(await inQueue()).toBe(0);
      // The same notification again (SQS delivers at least once): nothing new, deleted.
      await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: s3Event(bucket, key) }));
      expect(await poller.poll()).toEqual({ messages: 1, deleted: 1, files: 1, violations: 0 });
      const page = (
        await h.app.inject({ url: `/api/violations?accounts=${ACCOUNT_A}`, headers: await h.as('jdoe') })
      ).json();
      expect(page.totalElements).toBe(2);
    });

    it('keeps the message when its file cannot be ingested', async () => {
      const missing = `AWSLogs/${ACCOUNT_A}/CloudTrail/eu-west-1/2026/11/27/${ACCOUNT_A}_CloudTrail_eu-west-1_20261127T1100Z_gone.json.gz`;
      await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: s3Event(bucket, missing) }));
      expect(await poller.poll()).toEqual({ messages: 1, deleted: 0, files: 0, violations: 0 });
      expect(await inQueue()).toBe(1);
    });
  });
});
