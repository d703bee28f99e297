import { z } from 'zod';
import { type EventRule, violationType } from './rule.js';

const Code = z.looseObject({
  s3Bucket: z.string().optional(),
  s3Key: z.string().optional(),
  imageUri: z.string().optional(),
});
// CreateFunction nests the code under `code`; UpdateFunctionCode has its fields at the top.
const LambdaRequest = z.looseObject({ functionName: z.string().optional(), code: Code.optional() }).and(Code);

/**
 * A Lambda function created or given new code from anywhere but the platform's code buckets:
 * a zip uploaded by hand, a container image or another bucket has no reviewed provenance.
 * CloudTrail names the API versions (`CreateFunction20150331`, `UpdateFunctionCode20150331v2`).
 */
export const lambdaFunctionCreatedFromUntrustedLocation: EventRule = {
  kind: 'event',
  type: violationType({
    id: 'LAMBDA_FUNCTION_CREATED_FROM_UNTRUSTED_LOCATION',
    title: 'Untrusted AWS-Lambda function',
    help_text:
      'A Lambda function was created or updated with code that does not come from one of the trusted S3 buckets (rules.lambdaCodeBuckets). Deploy Lambda code only from the trusted buckets.',
    violation_severity: 1,
    priority: 1,
    meta_info_keys: ['function_name', 's3_bucket', 's3_key', 'image_uri'],
  }),
  async check(record, _account, ctx) {
    if (record.eventSource !== 'lambda.amazonaws.com' || record.errorCode) return [];
    if (!/^(CreateFunction|UpdateFunctionCode)(\d{8}.*)?$/.test(record.eventName)) return [];
    const request = LambdaRequest.safeParse(record.requestParameters);
    if (!request.success) return [];
    const code = request.data.code ?? request.data;
    const bucket = code.s3Bucket ?? null;
    if (bucket !== null && ctx.settings.lambdaCodeBuckets.includes(bucket)) return [];
    return [
      {
        type: 'LAMBDA_FUNCTION_CREATED_FROM_UNTRUSTED_LOCATION',
        metaInfo: {
          function_name: request.data.functionName ?? null,
          s3_bucket: bucket,
          s3_key: code.s3Key ?? null,
          image_uri: code.imageUri ?? null,
        },
      },
    ];
  },
};
