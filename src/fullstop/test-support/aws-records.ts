import { randomUUID } from 'node:crypto';
import { assumedRole, type Common, envelope, type Record, runInstances } from './cloudtrail-records.js';

/**
 * CloudTrail records of the AWS rules, in AWS's documented format (CloudTrail User Guide and the
 * Lambda, CloudTrail, IAM and EC2 "logging API calls" pages).
 */

const account = (o: Common) => o.account ?? '123456789012';

/** `CreateFunction20150331` with code from S3, a container image, or an uploaded zip (`{}`: CloudTrail drops the zip). */
export function createFunction(
  o: Common & { functionName?: string; s3Bucket?: string; s3Key?: string; imageUri?: string } = {},
): Record {
  const code = o.s3Bucket
    ? { s3Bucket: o.s3Bucket, s3Key: o.s3Key ?? 'fn.zip' }
    : o.imageUri
      ? { imageUri: o.imageUri }
      : {};
  return envelope(
    o,
    'lambda.amazonaws.com',
    'CreateFunction20150331',
    assumedRole(account(o), 'Shibboleth-PowerUser'),
    {
      requestParameters: {
        functionName: o.functionName ?? 'my-function',
        runtime: 'nodejs20.x',
        role: `arn:aws:iam::${account(o)}:role/lambda-role`,
        handler: 'index.handler',
        code,
        publish: true,
      },
      responseElements: { functionName: o.functionName ?? 'my-function', codeSize: 1024 },
    },
  );
}

/** `UpdateFunctionCode20150331v2`: the code's fields at the top of the request. */
export function updateFunctionCode(o: Common & { functionName?: string; s3Bucket: string }): Record {
  return envelope(
    o,
    'lambda.amazonaws.com',
    'UpdateFunctionCode20150331v2',
    assumedRole(account(o), 'Shibboleth-PowerUser'),
    {
      requestParameters: {
        functionName: o.functionName ?? 'my-function',
        s3Bucket: o.s3Bucket,
        s3Key: 'fn-2.zip',
        publish: false,
      },
      responseElements: { functionName: o.functionName ?? 'my-function' },
    },
  );
}

export function updateTrail(o: Common & { s3BucketName: string }): Record {
  return envelope(
    o,
    'cloudtrail.amazonaws.com',
    'UpdateTrail',
    assumedRole(account(o), 'Shibboleth-PowerUser'),
    {
      requestParameters: { name: 'Default', s3BucketName: o.s3BucketName },
      responseElements: {
        name: 'Default',
        s3BucketName: o.s3BucketName,
        trailARN: `arn:aws:cloudtrail:eu-west-1:${account(o)}:trail/Default`,
      },
    },
  );
}

const trustPolicy = (principal: unknown) =>
  JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: principal, Action: 'sts:AssumeRole' }],
  });

/** `CreateRole` whose trust policy names `principal` (CloudTrail keeps the document as a string). */
export function createRole(o: Common & { roleName: string; principal: unknown }): Record {
  return envelope(
    { ...o, region: 'us-east-1' },
    'iam.amazonaws.com',
    'CreateRole',
    assumedRole(account(o), 'Shibboleth-PowerUser'),
    {
      requestParameters: { roleName: o.roleName, assumeRolePolicyDocument: trustPolicy(o.principal) },
      responseElements: {
        role: {
          path: '/',
          roleName: o.roleName,
          roleId: 'AROA' + randomUUID().replaceAll('-', '').slice(0, 17).toUpperCase(),
          arn: `arn:aws:iam::${account(o)}:role/${o.roleName}`,
          createDate: 'Nov 27, 2026 10:00:00 AM',
        },
      },
    },
  );
}

export function updateAssumeRolePolicy(o: Common & { roleName: string; principal: unknown }): Record {
  return envelope(
    { ...o, region: 'us-east-1' },
    'iam.amazonaws.com',
    'UpdateAssumeRolePolicy',
    assumedRole(account(o), 'Shibboleth-PowerUser'),
    {
      requestParameters: { roleName: o.roleName, policyDocument: trustPolicy(o.principal) },
      responseElements: null,
    },
  );
}

/**
 * `RunInstances` into `subnetId`: with `associatePublicIp` through a network interface (as the
 * console and Senza's launch templates do), else the subnet's own setting decides.
 */
export function runInstancesInSubnet(
  o: Common & { subnetId: string; associatePublicIp?: boolean; instanceId?: string },
): Record {
  const r = runInstances({ ...o, ...(o.instanceId ? { instanceIds: [o.instanceId] } : {}) });
  const request = r.requestParameters as Record;
  const response = r.responseElements as { instancesSet: { items: Record[] } };
  if (o.associatePublicIp === undefined) request.subnetId = o.subnetId;
  else
    request.networkInterfaceSet = {
      items: [{ deviceIndex: 0, subnetId: o.subnetId, associatePublicIpAddress: o.associatePublicIp }],
    };
  for (const item of response.instancesSet.items) {
    item.subnetId = o.subnetId;
    item.vpcId = 'vpc-0123456789abcdef0';
  }
  return r;
}
