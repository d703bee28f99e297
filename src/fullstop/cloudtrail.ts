import { z } from 'zod';

/**
 * One CloudTrail record, as AWS documents it ("CloudTrail record contents"). Only the fields
 * every rule needs are typed; each rule parses the request and response parts it reads with
 * its own schema, so a record of an unexpected shape makes that rule pass over it, never fail.
 */
export const CloudTrailRecordSchema = z.looseObject({
  eventVersion: z.string().optional(),
  eventID: z.string().min(1),
  eventTime: z.string(),
  eventSource: z.string(),
  eventName: z.string(),
  awsRegion: z.string(),
  recipientAccountId: z.string().optional(),
  userIdentity: z
    .looseObject({
      type: z.string().optional(),
      arn: z.string().optional(),
      accountId: z.string().optional(),
      userName: z.string().optional(),
      principalId: z.string().optional(),
      sessionContext: z
        .looseObject({
          sessionIssuer: z
            .looseObject({ userName: z.string().optional(), arn: z.string().optional() })
            .optional(),
        })
        .optional(),
    })
    .optional(),
  requestParameters: z.unknown().optional(),
  responseElements: z.unknown().optional(),
  additionalEventData: z.unknown().optional(),
  errorCode: z.string().optional(),
});
export type CloudTrailRecord = z.infer<typeof CloudTrailRecordSchema>;

/** A CloudTrail log file's content: `{"Records": […]}`. Records that do not parse are counted, not fatal. */
export const CloudTrailFileSchema = z.object({ Records: z.array(z.unknown()) });

/** `AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/<file>.json.gz` (optionally under a prefix). */
const KEY =
  /(?:^|\/)AWSLogs\/(?:o-[a-z0-9]+\/)?(\d{12})\/CloudTrail\/([a-z0-9-]+)\/(\d{4})\/(\d\d)\/(\d\d)\/[^/]+\.json\.gz$/;

export interface CloudTrailKey {
  account: string;
  region: string;
}

/** The account and region a CloudTrail log file key names, or undefined for any other key (digests, …). */
export function parseCloudTrailKey(key: string): CloudTrailKey | undefined {
  const m = KEY.exec(key);
  if (!m?.[1] || !m[2]) return undefined;
  return { account: m[1], region: m[2] };
}

/** The user, as fullstop. stored it: an IAM user's name, else the role session's issuer, else the ARN. */
export function usernameOf(record: CloudTrailRecord): string | null {
  const id = record.userIdentity;
  return id?.userName ?? id?.sessionContext?.sessionIssuer?.userName ?? id?.arn ?? null;
}
