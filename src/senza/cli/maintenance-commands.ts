import type { AutoScalingGroup } from '@aws-sdk/client-auto-scaling';
import { parse } from 'yaml';
import { CliError } from '../../platform/cli/cli-error.js';
import { taupageYaml } from '../../taupage/user-data.js';
import type { SenzaAws } from '../aws/senza-aws.js';
import {
  findTaupageImage,
  TAUPAGE_CHANNELS,
  type TaupageChannel,
} from '../components/stups-auto-configuration.js';
import type { SenzaContext } from './context.js';

/** Auto scaling group names of the matching stacks. */
async function autoScalingGroups(ctx: SenzaContext, refArgs: string[]): Promise<string[]> {
  const refs = ctx.stackRefs(refArgs);
  if (!refs.length) throw new CliError('Please specify a stack (STACK_REF)', 2);
  const cf = await ctx.aws.cloudFormation();
  const names: string[] = [];
  for (const stack of await ctx.stacks(refs)) {
    for (const r of await cf.describeStackResources(stack.stackName)) {
      if (r.ResourceType === 'AWS::AutoScaling::AutoScalingGroup' && r.PhysicalResourceId)
        names.push(r.PhysicalResourceId);
    }
  }
  if (!names.length) throw new CliError(`No auto scaling group found for ${refArgs.join(' ')}`);
  return names;
}

/**
 * Merges new top-level keys into `#taupage-ami-config` user data. Both are read and written as
 * YAML 1.1, the way Taupage reads them: a kept `"yes"` stays a string, a bare `yes` a boolean.
 */
export function patchUserData(current: string, patch: Record<string, unknown>): string {
  const nl = current.indexOf('\n');
  const [first, body] = nl < 0 ? [current, ''] : [current.slice(0, nl), current.slice(nl + 1)];
  const data: unknown = parse(body, { version: '1.1' });
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new CliError('Instance user data has invalid YAML: must be key/value pairs');
  }
  return `${first}\n${taupageYaml({ ...data, ...patch })}`;
}

interface Patch {
  ImageId?: string;
  InstanceType?: string;
  UserData?: Record<string, unknown>;
}

async function patchGroup(aws: SenzaAws, group: AutoScalingGroup, patch: Patch, now: Date): Promise<boolean> {
  const asg = await aws.autoScaling();
  if (group.LaunchTemplate?.LaunchTemplateId || group.MixedInstancesPolicy) {
    const spec =
      group.LaunchTemplate ?? group.MixedInstancesPolicy?.LaunchTemplate?.LaunchTemplateSpecification;
    if (!spec?.LaunchTemplateId)
      throw new CliError(`${group.AutoScalingGroupName}: launch template not found`);
    const ec2 = await aws.ec2();
    const current = await ec2.launchTemplateVersion(spec.LaunchTemplateId, spec.Version ?? '$Default');
    const data = current?.LaunchTemplateData ?? {};
    const changes: Record<string, unknown> = {};
    if (patch.ImageId && patch.ImageId !== data.ImageId) changes.ImageId = patch.ImageId;
    if (patch.InstanceType && patch.InstanceType !== data.InstanceType)
      changes.InstanceType = patch.InstanceType;
    if (patch.UserData) {
      const old = Buffer.from(data.UserData ?? '', 'base64').toString('utf8');
      const next = patchUserData(old, patch.UserData);
      if (next !== old) changes.UserData = Buffer.from(next).toString('base64');
    }
    if (!Object.keys(changes).length) return false;
    const version = await ec2.createLaunchTemplateVersion(
      spec.LaunchTemplateId,
      String(current?.VersionNumber ?? '$Default'),
      changes,
    );
    const next = { LaunchTemplateId: spec.LaunchTemplateId, Version: String(version) };
    // A mixed-instances group names its template inside the policy; setting LaunchTemplate next
    // to it is refused, so the new version goes where the group keeps it.
    await asg.updateGroup(
      group.MixedInstancesPolicy
        ? {
            AutoScalingGroupName: group.AutoScalingGroupName,
            MixedInstancesPolicy: { LaunchTemplate: { LaunchTemplateSpecification: next } },
          }
        : { AutoScalingGroupName: group.AutoScalingGroupName, LaunchTemplate: next },
    );
    return true;
  }
  const lc = await asg.describeLaunchConfiguration(group.LaunchConfigurationName!);
  if (!lc)
    throw new CliError(
      `${group.AutoScalingGroupName}: launch configuration ${group.LaunchConfigurationName} not found`,
    );
  const oldUserData = lc.UserData ? Buffer.from(lc.UserData, 'base64').toString('utf8') : '';
  const userData = patch.UserData ? patchUserData(oldUserData, patch.UserData) : oldUserData;
  const imageId = patch.ImageId ?? lc.ImageId;
  const instanceType = patch.InstanceType ?? lc.InstanceType;
  if (imageId === lc.ImageId && instanceType === lc.InstanceType && userData === oldUserData) return false;
  // Launch configurations are immutable: copy it under a new name with the changes.
  const stamp = now.toISOString().replace(/[-:]/g, '').slice(0, 15);
  const name = `${lc.LaunchConfigurationName!.slice(0, 64)}-${stamp}`;
  await asg.createLaunchConfiguration({
    LaunchConfigurationName: name,
    ImageId: imageId,
    InstanceType: instanceType,
    // The API takes user data base64-encoded (plain text is refused with InvalidUserData.Malformed);
    // unlike boto3, the JavaScript SDK does not encode it for us.
    UserData: Buffer.from(userData, 'utf8').toString('base64'),
    ...(lc.AssociatePublicIpAddress !== undefined
      ? { AssociatePublicIpAddress: lc.AssociatePublicIpAddress }
      : {}),
    ...(lc.BlockDeviceMappings?.length ? { BlockDeviceMappings: lc.BlockDeviceMappings } : {}),
    ...(lc.EbsOptimized !== undefined ? { EbsOptimized: lc.EbsOptimized } : {}),
    ...(lc.IamInstanceProfile ? { IamInstanceProfile: lc.IamInstanceProfile } : {}),
    ...(lc.InstanceMonitoring ? { InstanceMonitoring: lc.InstanceMonitoring } : {}),
    ...(lc.KeyName ? { KeyName: lc.KeyName } : {}),
    ...(lc.SecurityGroups?.length ? { SecurityGroups: lc.SecurityGroups } : {}),
    ...(lc.SpotPrice ? { SpotPrice: lc.SpotPrice } : {}),
    ...(lc.MetadataOptions ? { MetadataOptions: lc.MetadataOptions } : {}),
    ...(lc.PlacementTenancy ? { PlacementTenancy: lc.PlacementTenancy } : {}),
  });
  await asg.updateGroup({ AutoScalingGroupName: group.AutoScalingGroupName, LaunchConfigurationName: name });
  return true;
}

/** `senza patch`: new instances of the groups use another image, instance type or user data. */
export async function patchCommand(
  ctx: SenzaContext,
  refArgs: string[],
  options: { image?: string; instanceType?: string; userData?: string },
): Promise<void> {
  await ctx.checkCredentials();
  const patch: Patch = {};
  if (options.image) {
    if (options.image in TAUPAGE_CHANNELS) {
      const ami = await findTaupageImage(ctx.aws, options.image as TaupageChannel);
      if (!ami) throw new CliError(`No Taupage AMI found for ${options.image}`);
      patch.ImageId = ami;
    } else if (/^ami-[0-9a-f]+$/.test(options.image)) patch.ImageId = options.image;
    else
      throw new CliError(
        `--image must be an AMI id or one of ${Object.keys(TAUPAGE_CHANNELS).join(', ')}`,
        2,
      );
  }
  if (options.instanceType) patch.InstanceType = options.instanceType;
  if (options.userData) {
    let data: unknown;
    try {
      // The original read --user-data with PyYAML (YAML 1.1): `read_only: yes` is true.
      data = parse(options.userData, { version: '1.1' });
    } catch (error) {
      throw new CliError(`--user-data is not valid YAML: ${(error as Error).message.split('\n')[0]}`, 2);
    }
    if (typeof data !== 'object' || data === null || Array.isArray(data))
      throw new CliError('--user-data must be YAML key/value pairs', 2);
    patch.UserData = data as Record<string, unknown>;
  }
  if (!Object.keys(patch).length)
    throw new CliError('Nothing to patch. Please specify at least one patch option (e.g. "--image").', 2);
  const asg = await ctx.aws.autoScaling();
  for (const name of await autoScalingGroups(ctx, refArgs)) {
    const group = await asg.describeGroup(name);
    if (!group) throw new CliError(`Auto Scaling Group ${name} not found`);
    let changed = false;
    await ctx.action(
      `Patching Auto Scaling Group ${name}`,
      async () => {
        changed = await patchGroup(ctx.aws, group, patch, ctx.now());
      },
      'OK',
    );
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- assigned inside the callback above; narrowing cannot see that
    if (!changed) ctx.info(`${name}: NO CHANGES`);
  }
}

const SUSPENDED_PROCESSES = ['AZRebalance', 'AlarmNotification', 'ScheduledActions'];
const RUNNING = new Set(['Pending', 'InService', 'Rebooting']);
/** About 30 minutes of polling at the default interval before a step counts as failed. */
const MAX_POLLS = 360;

function launchSpec(g: {
  LaunchConfigurationName?: string;
  LaunchTemplate?: { LaunchTemplateId?: string; Version?: string };
}): string | undefined {
  return (
    g.LaunchConfigurationName ??
    (g.LaunchTemplate ? `${g.LaunchTemplate.LaunchTemplateId}:${g.LaunchTemplate.Version}` : undefined)
  );
}

/** Instances in service: by ELB/ALB health when the group has load balancers, else by lifecycle. */
async function inService(aws: SenzaAws, group: AutoScalingGroup): Promise<Set<string>> {
  const ids = new Set<string>();
  if (group.LoadBalancerNames?.length || group.TargetGroupARNs?.length) {
    for (const lb of group.LoadBalancerNames ?? []) {
      for (const s of await (await aws.elb()).instanceHealth(lb))
        if (s.State === 'InService') ids.add(s.InstanceId!);
    }
    for (const tg of group.TargetGroupARNs ?? []) {
      for (const t of await (await aws.elbV2()).targetHealth(tg))
        if (t.TargetHealth?.State === 'healthy') ids.add(t.Target!.Id!);
    }
    return ids;
  }
  for (const i of group.Instances ?? []) if (i.LifecycleState === 'InService') ids.add(i.InstanceId!);
  return ids;
}

/**
 * The documented rolling respawn: suspend scaling processes, scale to n+1, wait until all are
 * healthy in the load balancer, terminate one old instance, repeat; then restore the original
 * capacity and resume the processes (also when a step fails).
 */
export async function respawnGroup(
  ctx: SenzaContext,
  name: string,
  options: { inplace?: boolean; force?: boolean; interval?: number },
): Promise<void> {
  const asg = await ctx.aws.autoScaling();
  const group = await asg.describeGroup(name);
  if (!group) throw new CliError(`Auto Scaling Group ${name} not found`);
  const desired = launchSpec(group);
  const running = (group.Instances ?? []).filter((i) => RUNNING.has(i.LifecycleState ?? ''));
  const old = running
    .filter((i) => options.force || launchSpec(i) !== desired)
    .map((i) => i.InstanceId!)
    .sort();
  ctx.info(`${old.length}/${running.length} instances need to be updated in ${name}`);
  if (!old.length) {
    ctx.info('Nothing to do');
    return;
  }
  const interval = options.interval ?? 5000;
  const extra = options.inplace ? 0 : 1;
  const min = group.MinSize!;
  const max = group.MaxSize!;
  const capacity = group.DesiredCapacity!;
  await ctx.action(`Suspending scaling processes for ${name}`, () =>
    asg.suspendProcesses(name, SUSPENDED_PROCESSES),
  );
  try {
    for (const instance of old) {
      await ctx.action(`Scaling to ${capacity + extra} instances`, async (progress) => {
        await asg.updateGroup({
          AutoScalingGroupName: name,
          MinSize: min + extra,
          MaxSize: max + extra,
          DesiredCapacity: capacity + extra,
        });
        for (let poll = 0; ; poll++) {
          const current = await asg.describeGroup(name);
          if ((await inService(ctx.aws, current!)).size >= capacity + extra) return;
          if (poll >= MAX_POLLS) throw new CliError(`${name}: instances did not become healthy in time`);
          progress();
          await ctx.sleep(interval);
        }
      });
      await ctx.action(`Terminating old instance ${instance}`, async (progress) => {
        await asg.terminateInstance(instance);
        for (let poll = 0; ; poll++) {
          const current = await asg.describeGroup(name);
          if (!(await inService(ctx.aws, current!)).has(instance)) return;
          if (poll >= MAX_POLLS) throw new CliError(`${name}: ${instance} did not leave service in time`);
          progress();
          await ctx.sleep(interval / 2);
        }
      });
    }
  } finally {
    await ctx.action(`Resetting Auto Scaling Group to original capacity (${min}-${capacity}-${max})`, () =>
      asg.updateGroup({ AutoScalingGroupName: name, MinSize: min, MaxSize: max, DesiredCapacity: capacity }),
    );
    await ctx.action(`Resuming scaling processes for ${name}`, () => asg.resumeProcesses(name));
  }
}

export async function respawnCommand(
  ctx: SenzaContext,
  refArgs: string[],
  options: { inplace?: boolean; force?: boolean },
): Promise<void> {
  await ctx.checkCredentials();
  for (const name of await autoScalingGroups(ctx, refArgs)) await respawnGroup(ctx, name, options);
}
