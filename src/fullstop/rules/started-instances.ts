import { z } from 'zod';
import type { InstanceInfo } from '../aws/account-clients.js';
import type { CloudTrailRecord } from '../cloudtrail.js';
import type { RuleContext } from './rule.js';
import { type LaunchedInstance, runInstances } from './run-instances.js';

const InstanceIds = z.looseObject({
  instancesSet: z.looseObject({ items: z.array(z.looseObject({ instanceId: z.string().min(1) })) }),
});

/**
 * The ids of the instances a successful `ec2:StartInstances` started (a stopped instance started
 * again), or undefined for any other record. The record names nothing else: no image, key pair
 * or subnet, so the instance rules ask EC2 (`startedInstances`).
 */
export function startInstances(record: CloudTrailRecord): string[] | undefined {
  if (record.eventSource !== 'ec2.amazonaws.com' || record.eventName !== 'StartInstances' || record.errorCode)
    return undefined;
  const parsed =
    InstanceIds.safeParse(record.responseElements).data ??
    InstanceIds.safeParse(record.requestParameters).data;
  return parsed?.instancesSet.items.map((i) => i.instanceId);
}

/**
 * The instances a StartInstances record started, as EC2 describes them now (through the
 * account's role); instances EC2 no longer knows are left out. [] for any other record.
 */
export async function startedInstances(
  record: CloudTrailRecord,
  account: string,
  ctx: RuleContext,
): Promise<InstanceInfo[]> {
  const ids = startInstances(record);
  if (!ids?.length) return [];
  if (!ctx.instances) throw new Error('the instance rules need the instance look-up for StartInstances');
  return ctx.instances.describeInstances(account, record.awsRegion, ids);
}

/**
 * The instances a RunInstances launched (from the record) or a StartInstances started (from
 * EC2), with the image and key pair each runs with; undefined for any other record.
 */
export async function instancesOf(
  record: CloudTrailRecord,
  account: string,
  ctx: RuleContext,
): Promise<LaunchedInstance[] | undefined> {
  const run = runInstances(record);
  if (run) return run.instances;
  if (!startInstances(record)) return undefined;
  return (await startedInstances(record, account, ctx)).map((i) => ({
    instanceId: i.instanceId,
    imageId: i.imageId,
    keyName: i.keyName,
  }));
}
