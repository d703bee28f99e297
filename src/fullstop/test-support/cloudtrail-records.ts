import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';

const gzip = promisify(gzipCallback);

/**
 * CloudTrail records in AWS's documented record format ("CloudTrail record contents" and the
 * per-service examples of the CloudTrail User Guide), with what each test varies as options.
 */
export type Record = { [key: string]: unknown };

export interface Common {
  account?: string;
  region?: string;
  eventId?: string;
  time?: string;
}

export function envelope(o: Common, source: string, name: string, identity: Record, rest: Record): Record {
  const account = o.account ?? '123456789012';
  return {
    eventVersion: '1.08',
    userIdentity: { accountId: account, ...identity },
    eventTime: o.time ?? '2026-11-27T10:00:00Z',
    eventSource: source,
    eventName: name,
    awsRegion: o.region ?? 'eu-west-1',
    sourceIPAddress: '192.0.2.10',
    userAgent: 'aws-cli/2.15.0',
    requestID: randomUUID(),
    eventID: o.eventId ?? randomUUID(),
    readOnly: false,
    eventType: 'AwsApiCall',
    managementEvent: true,
    recipientAccountId: account,
    eventCategory: 'Management',
    ...rest,
  };
}

/** A federated (SAML) session of an employee in the role `role`. */
export function assumedRole(account: string, role: string, user = 'jdoe'): Record {
  return {
    type: 'AssumedRole',
    principalId: `AROAEXAMPLE:${user}`,
    arn: `arn:aws:sts::${account}:assumed-role/${role}/${user}`,
    sessionContext: {
      sessionIssuer: {
        type: 'Role',
        principalId: 'AROAEXAMPLE',
        arn: `arn:aws:iam::${account}:role/${role}`,
        accountId: account,
        userName: role,
      },
      attributes: { creationDate: '2026-11-27T09:00:00Z', mfaAuthenticated: 'false' },
    },
  };
}

export function runInstances(
  o: Common & {
    imageId?: string;
    keyName?: string;
    userData?: boolean;
    instanceIds?: string[];
    /** The subnet launched into, and the public IP the launch got (asked for on the network interface). */
    subnetId?: string;
    publicIp?: string;
  } = {},
): Record {
  const account = o.account ?? '123456789012';
  const imageId = o.imageId ?? 'ami-0a1b2c3d4e5f60002';
  const ids = o.instanceIds ?? [`i-${randomUUID().replaceAll('-', '').slice(0, 17)}`];
  return envelope(o, 'ec2.amazonaws.com', 'RunInstances', assumedRole(account, 'Shibboleth-PowerUser'), {
    requestParameters: {
      instancesSet: {
        items: [
          {
            imageId,
            minCount: ids.length,
            maxCount: ids.length,
            ...(o.keyName ? { keyName: o.keyName } : {}),
          },
        ],
      },
      ...(o.userData === false ? {} : { userData: '<sensitiveDataRemoved>' }),
      ...(o.subnetId
        ? {
            networkInterfaceSet: {
              items: [
                {
                  deviceIndex: 0,
                  subnetId: o.subnetId,
                  ...(o.publicIp ? { associatePublicIpAddress: true } : {}),
                },
              ],
            },
          }
        : {}),
      instanceType: 't3.micro',
      monitoring: { enabled: false },
      disableApiTermination: false,
    },
    responseElements: {
      requestId: randomUUID(),
      reservationId: 'r-0123456789abcdef0',
      ownerId: account,
      instancesSet: {
        items: ids.map((instanceId, i) => ({
          instanceId,
          imageId,
          ...(o.keyName ? { keyName: o.keyName } : {}),
          instanceState: { code: 0, name: 'pending' },
          amiLaunchIndex: i,
          instanceType: 't3.micro',
          placement: { availabilityZone: `${o.region ?? 'eu-west-1'}a`, tenancy: 'default' },
          ...(o.subnetId ? { subnetId: o.subnetId } : {}),
          ...(o.publicIp ? { ipAddress: o.publicIp } : {}),
        })),
      },
    },
  });
}

/** `StartInstances`: a stopped instance started again; the record names only the instances. */
export function startInstances(o: Common & { instanceIds: string[] }): Record {
  return instanceStateChange(
    o,
    'StartInstances',
    { code: 0, name: 'pending' },
    { code: 80, name: 'stopped' },
  );
}

/** A call that moves instances from one state to another: the record names only the instances. */
function instanceStateChange(
  o: Common & { instanceIds: string[] },
  eventName: string,
  currentState: { code: number; name: string },
  previousState: { code: number; name: string },
): Record {
  const account = o.account ?? '123456789012';
  return envelope(o, 'ec2.amazonaws.com', eventName, assumedRole(account, 'Shibboleth-PowerUser'), {
    requestParameters: { instancesSet: { items: o.instanceIds.map((instanceId) => ({ instanceId })) } },
    responseElements: {
      requestId: randomUUID(),
      instancesSet: {
        items: o.instanceIds.map((instanceId) => ({ instanceId, currentState, previousState })),
      },
    },
  });
}

export function consoleLogin(
  o: Common & { type: 'IAMUser' | 'Root' | 'AssumedRole'; success?: boolean },
): Record {
  const account = o.account ?? '123456789012';
  const identity =
    o.type === 'IAMUser'
      ? {
          type: 'IAMUser',
          principalId: 'AIDAEXAMPLE',
          arn: `arn:aws:iam::${account}:user/legacy-admin`,
          userName: 'legacy-admin',
        }
      : o.type === 'Root'
        ? { type: 'Root', principalId: account, arn: `arn:aws:iam::${account}:root` }
        : assumedRole(account, 'Shibboleth-PowerUser');
  return envelope(
    { ...o, region: o.region ?? 'us-east-1' },
    'signin.amazonaws.com',
    'ConsoleLogin',
    identity,
    {
      requestParameters: null,
      responseElements: { ConsoleLogin: o.success === false ? 'Failure' : 'Success' },
      additionalEventData: {
        LoginTo: 'https://console.aws.amazon.com/console/home',
        MobileVersion: 'No',
        MFAUsed: 'No',
      },
      eventType: 'AwsConsoleSignIn',
    },
  );
}

export function iamRoleEvent(
  name: 'CreateRole' | 'PutRolePolicy' | 'AttachRolePolicy' | 'DeleteRole',
  o: Common & { roleName: string; actorRole?: string },
): Record {
  const account = o.account ?? '123456789012';
  return envelope(
    { ...o, region: 'us-east-1' },
    'iam.amazonaws.com',
    name,
    assumedRole(account, o.actorRole ?? 'Shibboleth-PowerUser'),
    {
      requestParameters:
        name === 'AttachRolePolicy'
          ? { roleName: o.roleName, policyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' }
          : name === 'PutRolePolicy'
            ? {
                roleName: o.roleName,
                policyName: o.roleName,
                policyDocument: '{"Version":"2012-10-17","Statement":[]}',
              }
            : { roleName: o.roleName },
      responseElements: null,
    },
  );
}

export function cloudTrailEvent(
  name: 'StopLogging' | 'StartLogging' | 'DeleteTrail',
  o: Common = {},
): Record {
  const account = o.account ?? '123456789012';
  return envelope(o, 'cloudtrail.amazonaws.com', name, assumedRole(account, 'Shibboleth-PowerUser'), {
    requestParameters: { name: `arn:aws:cloudtrail:eu-west-1:${account}:trail/Default` },
    responseElements: null,
  });
}

export function authorizeIngress(
  o: Common & { protocol?: string; from?: number; to?: number; cidr?: string; cidrV6?: string },
): Record {
  const account = o.account ?? '123456789012';
  return envelope(
    o,
    'ec2.amazonaws.com',
    'AuthorizeSecurityGroupIngress',
    assumedRole(account, 'Shibboleth-PowerUser'),
    {
      requestParameters: {
        groupId: 'sg-0123456789abcdef0',
        ipPermissions: {
          items: [
            {
              ipProtocol: o.protocol ?? 'tcp',
              ...(o.from === undefined ? {} : { fromPort: o.from }),
              ...(o.to === undefined ? {} : { toPort: o.to }),
              groups: {},
              ipRanges: { items: o.cidr ? [{ cidrIp: o.cidr }] : [] },
              ipv6Ranges: { items: o.cidrV6 ? [{ cidrIpv6: o.cidrV6 }] : [] },
              prefixListIds: {},
            },
          ],
        },
      },
      responseElements: { requestId: randomUUID(), _return: true },
    },
  );
}

/** Writes records as CloudTrail does: `AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/<name>.json.gz`. */
export async function writeCloudTrailFile(
  root: string,
  where: { account: string; region: string; day: string; name: string },
  records: readonly Record[],
): Promise<string> {
  const [y, m, d] = where.day.split('-');
  const key = `AWSLogs/${where.account}/CloudTrail/${where.region}/${y}/${m}/${d}/${where.account}_CloudTrail_${where.region}_${where.name}.json.gz`;
  const path = join(root, ...key.split('/'));
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, await gzip(JSON.stringify({ Records: records })));
  return key;
}

/** `TerminateInstances`: the instances go (shutting-down, then terminated). */
export function terminateInstances(o: Common & { instanceIds: string[] }): Record {
  return instanceStateChange(
    o,
    'TerminateInstances',
    { code: 32, name: 'shutting-down' },
    { code: 16, name: 'running' },
  );
}
