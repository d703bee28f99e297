import { z } from 'zod';
import { type EventRule, violationType } from './rule.js';

const TrailRequest = z.looseObject({ name: z.string().optional(), s3BucketName: z.string().optional() });

/**
 * CloudTrail switched off (StopLogging, DeleteTrail) or pointed at another bucket
 * (UpdateTrail with an `s3BucketName` not in `rules.cloudtrailBuckets`): from then on nothing in
 * the account is audited where the platform reads it.
 */
export const cloudtrailLoggingStopped: EventRule = {
  kind: 'event',
  type: violationType({
    id: 'CLOUDTRAIL_LOGGING_STOPPED',
    title: 'CloudTrail switched off',
    help_text:
      'CloudTrail logging was stopped, the trail deleted, or its bucket changed: the account is no longer audited. Restore the trail with the account set-up at once.',
    violation_severity: 4,
    priority: 1,
    audit_relevant: true,
    meta_info_keys: ['trail_name', 'event_name', 's3_bucket_name'],
  }),
  async check(record, _account, ctx) {
    if (record.eventSource !== 'cloudtrail.amazonaws.com' || record.errorCode) return [];
    const request = TrailRequest.safeParse(record.requestParameters);
    const params = request.success ? request.data : {};
    const stops = record.eventName === 'StopLogging' || record.eventName === 'DeleteTrail';
    // A move to one of the platform's trail buckets (rules.cloudtrailBuckets) keeps the audit.
    const moves =
      record.eventName === 'UpdateTrail' &&
      params.s3BucketName !== undefined &&
      !ctx.settings.cloudtrailBuckets.includes(params.s3BucketName);
    if (!stops && !moves) return [];
    return [
      {
        type: 'CLOUDTRAIL_LOGGING_STOPPED',
        metaInfo: {
          trail_name: params.name ?? null,
          event_name: record.eventName,
          s3_bucket_name: params.s3BucketName ?? null,
        },
      },
    ];
  },
};
