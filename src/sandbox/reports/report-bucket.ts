import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { lazy } from '../aws/sdk.js';
import { CONTENT_TYPES, type Report, reportKey } from './report.js';

/** Where reports are written: an S3 bucket, or a folder on the embedded default. */
export interface ReportBucket {
  readonly kind: 's3' | 'folder';
  /** A human-readable location of `key`, for logs and job results (`s3://b/k`, a path). */
  locationOf(key: string): string;
  put(key: string, body: Buffer, contentType: string): Promise<void>;
}

/** Reports as objects of `bucket` (client built with `awsClientConfig(settings, 's3')`). */
export function s3ReportBucket(client: S3Client, bucket: string): ReportBucket {
  return {
    kind: 's3',
    locationOf: (key) => `s3://${bucket}/${key}`,
    async put(key, body, contentType) {
      const { PutObjectCommand } = await lazy.s3();
      await client.send(
        new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentType }),
      );
    },
  };
}

/**
 * Reports as files under `dir` (`<dir>/reports/<kind>/<period>/<name>.<ext>`). Written to a temporary
 * name and renamed, so that a reader never sees half a spreadsheet.
 */
export function folderReportBucket(dir: string): ReportBucket {
  const root = resolve(dir);
  const pathOf = (key: string) => {
    const file = resolve(root, key);
    if (!file.startsWith(root + sep)) throw new TypeError(`report key "${key}" leaves the reports folder`);
    return file;
  };
  return {
    kind: 'folder',
    locationOf: pathOf,
    async put(key, body) {
      const file = pathOf(key);
      await mkdir(dirname(file), { recursive: true });
      const temp = join(dirname(file), `.${randomBytes(6).toString('hex')}.tmp`);
      try {
        const handle = await open(temp, 'wx', 0o640);
        try {
          await handle.writeFile(body);
          await handle.sync();
        } finally {
          await handle.close();
        }
        await rename(temp, file);
      } catch (error) {
        await rm(temp, { force: true });
        throw error;
      }
    },
  };
}

/** Writes every file of `report`; returns the keys written, in order. */
export async function writeReport(bucket: ReportBucket, report: Report): Promise<string[]> {
  const keys: string[] = [];
  for (const f of report.files) {
    const key = reportKey(report.kind, report.period, f.name, f.ext);
    await bucket.put(key, f.body, CONTENT_TYPES[f.ext]);
    keys.push(key);
  }
  return keys;
}
