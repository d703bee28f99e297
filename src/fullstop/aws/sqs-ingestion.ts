import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { z } from 'zod';
import type { Logger } from '../../platform/logger.js';
import type { CloudTrailIngestion, CloudTrailSource } from '../ingestion.js';
import { sdk } from './sdk.js';

/** CloudTrail log files in an S3 bucket; the bucket names the source in the cursor. */
export class S3Source implements CloudTrailSource {
  readonly name: string;
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {
    this.name = `s3:${bucket}`;
  }

  async listKeys(): Promise<string[]> {
    const { ListObjectsV2Command } = await sdk.s3();
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.s3.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: 'AWSLogs/', ContinuationToken: token }),
      );
      for (const o of page.Contents ?? []) if (o.Key) keys.push(o.Key);
      token = page.NextContinuationToken;
    } while (token);
    return keys;
  }

  async read(key: string): Promise<Buffer> {
    const { GetObjectCommand } = await sdk.s3();
    const object = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
    if (!object.Body) throw new Error(`s3://${this.bucket}/${key} has no body`);
    return Buffer.from(await object.Body.transformToByteArray());
  }
}

/** An S3 event notification (`s3:ObjectCreated:*`), sent to SQS directly. */
const S3Event = z.object({
  Records: z.array(
    z.object({
      s3: z.object({ bucket: z.object({ name: z.string() }), object: z.object({ key: z.string() }) }),
    }),
  ),
});
/** CloudTrail's own notification (through SNS): `{"s3Bucket", "s3ObjectKey": [...]}`. */
const CloudTrailNotice = z.object({ s3Bucket: z.string(), s3ObjectKey: z.array(z.string()) });
const SnsEnvelope = z.object({ Type: z.literal('Notification'), Message: z.string() });

/** The files a notification names, as bucket and key; undefined for anything else (e.g. `s3:TestEvent`). */
export function filesOfMessage(body: string): Array<{ bucket: string; key: string }> | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(body);
    const sns = SnsEnvelope.safeParse(doc);
    if (sns.success) doc = JSON.parse(sns.data.Message);
  } catch {
    return undefined;
  }
  const s3 = S3Event.safeParse(doc);
  if (s3.success) {
    // S3 URL-encodes keys in notifications, spaces as '+'.
    return s3.data.Records.map((r) => ({
      bucket: r.s3.bucket.name,
      key: decodeURIComponent(r.s3.object.key.replace(/\+/g, ' ')),
    }));
  }
  const notice = CloudTrailNotice.safeParse(doc);
  if (notice.success) return notice.data.s3ObjectKey.map((key) => ({ bucket: notice.data.s3Bucket, key }));
  return undefined;
}

export interface SqsRunOutcome {
  messages: number;
  deleted: number;
  files: number;
  violations: number;
}

/**
 * Ingests the files SQS notifications name. A message is deleted only after every file it
 * names is committed (or was already done); when one fails, the message stays and comes back
 * after its visibility timeout. Messages that are no notification (S3's test event) are deleted.
 */
export class SqsIngestion {
  constructor(
    private readonly deps: {
      sqs: SQSClient;
      s3: S3Client;
      queueUrl: string;
      ingestion: CloudTrailIngestion;
      logger: Logger;
      /** Long polling wait; 0 in tests. */
      waitSeconds?: number;
    },
  ) {}

  async poll(maxMessages = 10): Promise<SqsRunOutcome> {
    const { DeleteMessageCommand, ReceiveMessageCommand } = await sdk.sqs();
    const { sqs, queueUrl } = this.deps;
    const received = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: Math.min(10, maxMessages),
        WaitTimeSeconds: this.deps.waitSeconds ?? 10,
      }),
    );
    const outcome: SqsRunOutcome = { messages: 0, deleted: 0, files: 0, violations: 0 };
    for (const message of received.Messages ?? []) {
      outcome.messages++;
      const files = filesOfMessage(message.Body ?? '');
      let ok = true;
      for (const file of files ?? []) {
        if (!/(?:^|\/)AWSLogs\/.+\/CloudTrail\/.+\.json\.gz$/.test(file.key)) continue; // digests, other logs
        try {
          const done = await this.deps.ingestion.ingestFile(
            new S3Source(this.deps.s3, file.bucket),
            file.key,
          );
          outcome.files++;
          outcome.violations += done.violations;
        } catch (error) {
          ok = false;
          this.deps.logger.error(
            {
              bucket: file.bucket,
              key: file.key,
              err: error instanceof Error ? error.message : String(error),
            },
            'fullstop: CloudTrail file from SQS not ingested; the message will come back',
          );
        }
      }
      if (!files)
        this.deps.logger.warn({ messageId: message.MessageId }, 'fullstop: SQS message names no file');
      if (ok && message.ReceiptHandle) {
        await sqs.send(
          new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }),
        );
        outcome.deleted++;
      }
    }
    return outcome;
  }
}
