import {
  DeleteInternetGatewayCommand,
  DeleteNetworkInterfaceCommand,
  DeleteRouteTableCommand,
  DeleteSecurityGroupCommand,
  DeleteSubnetCommand,
  DeleteVpcCommand,
  DescribeInstancesCommand,
  DescribeInternetGatewaysCommand,
  DescribeNetworkInterfacesCommand,
  DescribeRouteTablesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
  DetachInternetGatewayCommand,
  type EC2Client,
  type Tag,
  TerminateInstancesCommand,
  waitUntilInstanceTerminated,
} from '@aws-sdk/client-ec2';
import {
  DeleteLoadBalancerCommand,
  DescribeLoadBalancersCommand,
  DescribeTagsCommand,
  type ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import {
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  DeleteUserCommand,
  DetachRolePolicyCommand,
  type IAMClient,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
  ListRolesCommand,
  ListRoleTagsCommand,
  ListUsersCommand,
  ListUserTagsCommand,
} from '@aws-sdk/client-iam';
import {
  DeleteBucketCommand,
  DeleteObjectsCommand,
  GetBucketTaggingCommand,
  ListBucketsCommand,
  ListObjectVersionsCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { PurgeIncompleteError, type PurgeItem, type PurgeResult } from './purge-result.js';

/** The clients of one account; EC2 and ELB per region, IAM and S3 once. */
export interface PurgeClients {
  regional: (region: string) => { ec2: EC2Client; elb: ElasticLoadBalancingV2Client };
  iam: IAMClient;
  s3: S3Client;
}

export interface PurgeOptions {
  regions: string[];
  keepTag: { key: string; value: string };
  dryRun: boolean;
  /** Roles and users of the baseline (prepare creates them) and the access role: never deleted. */
  baselineRoles: string[];
  baselineUsers?: string[];
  /** How long to wait for instances to terminate (seconds). */
  waitSeconds?: number;
}

export { PurgeIncompleteError, type PurgeItem, type PurgeResult } from './purge-result.js';

const keeps = (tags: Tag[] | undefined, keep: PurgeOptions['keepTag']) =>
  (tags ?? []).some((tag) => tag.Key === keep.key && tag.Value === keep.value);

/**
 * Deletes every resource of an account in dependency order (instances, then what they used), so
 * that no delete fails on a dependency. A dry run only describes: it sends no changing call.
 * Resources with the keep tag stay, and so does everything they depend on (a kept instance keeps
 * its VPC: deleting the VPC would fail anyway).
 */
export async function purgeAccount(clients: PurgeClients, options: PurgeOptions): Promise<PurgeResult> {
  const result: PurgeResult = { dryRun: options.dryRun, deleted: [], kept: [], errors: [] };
  const act = async (item: PurgeItem, change: () => Promise<unknown>) => {
    if (options.dryRun) {
      result.deleted.push(item);
      return true;
    }
    try {
      await change();
      result.deleted.push(item);
      return true;
    } catch (error) {
      result.errors.push({ item, message: (error as Error).message });
      return false;
    }
  };
  const keep = (item: PurgeItem) => {
    result.kept.push(item);
  };

  for (const region of options.regions) {
    const { ec2, elb } = clients.regional(region);
    const keptVpcs = new Set<string>();

    // 1. Instances, waiting until they are terminated (their ENIs go with them).
    const reservations = (await ec2.send(new DescribeInstancesCommand({}))).Reservations ?? [];
    const terminating: string[] = [];
    for (const instance of reservations.flatMap((r) => r.Instances ?? [])) {
      if (!instance.InstanceId || instance.State?.Name === 'terminated') continue;
      const item = { kind: 'ec2:instance', id: instance.InstanceId, region };
      if (keeps(instance.Tags, options.keepTag)) {
        keep(item);
        if (instance.VpcId) keptVpcs.add(instance.VpcId);
        continue;
      }
      if (
        await act(item, () =>
          ec2.send(new TerminateInstancesCommand({ InstanceIds: [instance.InstanceId!] })),
        )
      )
        terminating.push(instance.InstanceId);
    }
    if (!options.dryRun && terminating.length > 0) {
      await waitUntilInstanceTerminated(
        { client: ec2, maxWaitTime: options.waitSeconds ?? 600, minDelay: 1, maxDelay: 5 },
        { InstanceIds: terminating },
      );
    }

    // 2. Load balancers.
    const balancers = (await elb.send(new DescribeLoadBalancersCommand({}))).LoadBalancers ?? [];
    const balancerTags = new Map<string, Tag[]>();
    if (balancers.length > 0) {
      const described = await elb.send(
        new DescribeTagsCommand({ ResourceArns: balancers.map((b) => b.LoadBalancerArn!).slice(0, 20) }),
      );
      for (const entry of described.TagDescriptions ?? [])
        balancerTags.set(entry.ResourceArn!, entry.Tags ?? []);
    }
    for (const balancer of balancers) {
      const item = { kind: 'elb:load-balancer', id: balancer.LoadBalancerArn!, region };
      if (keeps(balancerTags.get(balancer.LoadBalancerArn!), options.keepTag)) {
        keep(item);
        if (balancer.VpcId) keptVpcs.add(balancer.VpcId);
        continue;
      }
      await act(item, () =>
        elb.send(new DeleteLoadBalancerCommand({ LoadBalancerArn: balancer.LoadBalancerArn })),
      );
    }

    // 3. Network interfaces left over (not attached to an instance we keep).
    for (const eni of (await ec2.send(new DescribeNetworkInterfacesCommand({}))).NetworkInterfaces ?? []) {
      const item = { kind: 'ec2:network-interface', id: eni.NetworkInterfaceId!, region };
      if (keeps(eni.TagSet, options.keepTag) || (eni.VpcId && keptVpcs.has(eni.VpcId))) {
        keep(item);
        if (eni.VpcId) keptVpcs.add(eni.VpcId);
        continue;
      }
      await act(item, () =>
        ec2.send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: eni.NetworkInterfaceId })),
      );
    }

    const vpcs = (await ec2.send(new DescribeVpcsCommand({}))).Vpcs ?? [];
    for (const vpc of vpcs) if (keeps(vpc.Tags, options.keepTag)) keptVpcs.add(vpc.VpcId!);
    const defaultVpcs = new Set(vpcs.filter((v) => v.IsDefault).map((v) => v.VpcId!));
    // The default VPC stays (accounts come with it); so do its subnets, routes and gateway.
    const doomedVpc = (vpcId: string | undefined) =>
      !vpcId || (!keptVpcs.has(vpcId) && !defaultVpcs.has(vpcId));

    // 4. Security groups (never the default group).
    for (const group of (await ec2.send(new DescribeSecurityGroupsCommand({}))).SecurityGroups ?? []) {
      if (group.GroupName === 'default') continue;
      const item = { kind: 'ec2:security-group', id: group.GroupId!, region };
      if (keeps(group.Tags, options.keepTag) || !doomedVpc(group.VpcId)) {
        keep(item);
        continue;
      }
      await act(item, () => ec2.send(new DeleteSecurityGroupCommand({ GroupId: group.GroupId })));
    }

    // 5. Subnets.
    for (const subnet of (await ec2.send(new DescribeSubnetsCommand({}))).Subnets ?? []) {
      const item = { kind: 'ec2:subnet', id: subnet.SubnetId!, region };
      if (keeps(subnet.Tags, options.keepTag) || !doomedVpc(subnet.VpcId)) {
        if (!defaultVpcs.has(subnet.VpcId ?? '')) keep(item);
        continue;
      }
      await act(item, () => ec2.send(new DeleteSubnetCommand({ SubnetId: subnet.SubnetId })));
    }

    // 6. Route tables (not the main one: it goes with its VPC).
    for (const table of (await ec2.send(new DescribeRouteTablesCommand({}))).RouteTables ?? []) {
      if ((table.Associations ?? []).some((a) => a.Main)) continue;
      const item = { kind: 'ec2:route-table', id: table.RouteTableId!, region };
      if (keeps(table.Tags, options.keepTag) || !doomedVpc(table.VpcId)) {
        if (!defaultVpcs.has(table.VpcId ?? '')) keep(item);
        continue;
      }
      await act(item, () => ec2.send(new DeleteRouteTableCommand({ RouteTableId: table.RouteTableId })));
    }

    // 7. Internet gateways: detached first.
    for (const gateway of (await ec2.send(new DescribeInternetGatewaysCommand({}))).InternetGateways ?? []) {
      const item = { kind: 'ec2:internet-gateway', id: gateway.InternetGatewayId!, region };
      const attachedTo = (gateway.Attachments ?? []).map((a) => a.VpcId!).filter(Boolean);
      if (keeps(gateway.Tags, options.keepTag) || attachedTo.some((vpc) => !doomedVpc(vpc))) {
        if (!attachedTo.some((vpc) => defaultVpcs.has(vpc))) keep(item);
        continue;
      }
      await act(item, async () => {
        for (const vpcId of attachedTo)
          await ec2.send(
            new DetachInternetGatewayCommand({ InternetGatewayId: gateway.InternetGatewayId, VpcId: vpcId }),
          );
        await ec2.send(new DeleteInternetGatewayCommand({ InternetGatewayId: gateway.InternetGatewayId }));
      });
    }

    // 8. VPCs (not the default one).
    for (const vpc of vpcs) {
      if (vpc.IsDefault) continue;
      const item = { kind: 'ec2:vpc', id: vpc.VpcId!, region };
      if (!doomedVpc(vpc.VpcId)) {
        keep(item);
        continue;
      }
      await act(item, () => ec2.send(new DeleteVpcCommand({ VpcId: vpc.VpcId })));
    }
  }

  // 9. S3 buckets, emptied of every version and delete marker first.
  for (const bucket of (await clients.s3.send(new ListBucketsCommand({}))).Buckets ?? []) {
    const item = { kind: 's3:bucket', id: bucket.Name!, region: 'global' };
    let tags: Tag[] = [];
    try {
      tags = (await clients.s3.send(new GetBucketTaggingCommand({ Bucket: bucket.Name }))).TagSet ?? [];
    } catch {
      // NoSuchTagSet: an untagged bucket.
    }
    if (keeps(tags, options.keepTag)) {
      keep(item);
      continue;
    }
    await act(item, async () => {
      let keyMarker: string | undefined;
      let versionMarker: string | undefined;
      for (;;) {
        const page = await clients.s3.send(
          new ListObjectVersionsCommand({
            Bucket: bucket.Name,
            KeyMarker: keyMarker,
            VersionIdMarker: versionMarker,
          }),
        );
        const objects = [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])].map((v) => ({
          Key: v.Key!,
          VersionId: v.VersionId,
        }));
        if (objects.length > 0)
          await clients.s3.send(
            new DeleteObjectsCommand({ Bucket: bucket.Name, Delete: { Objects: objects, Quiet: true } }),
          );
        if (!page.IsTruncated) break;
        keyMarker = page.NextKeyMarker;
        versionMarker = page.NextVersionIdMarker;
      }
      await clients.s3.send(new DeleteBucketCommand({ Bucket: bucket.Name }));
    });
  }

  // 10. IAM users and roles outside the baseline (service-linked roles are AWS's).
  const iam = clients.iam;
  for (const user of (await iam.send(new ListUsersCommand({}))).Users ?? []) {
    if (options.baselineUsers?.includes(user.UserName!)) continue;
    const item = { kind: 'iam:user', id: user.UserName!, region: 'global' };
    const tags = (await iam.send(new ListUserTagsCommand({ UserName: user.UserName }))).Tags ?? [];
    if (keeps(tags, options.keepTag)) {
      keep(item);
      continue;
    }
    await act(item, () => iam.send(new DeleteUserCommand({ UserName: user.UserName })));
  }
  for (const role of (await iam.send(new ListRolesCommand({}))).Roles ?? []) {
    if (options.baselineRoles.includes(role.RoleName!) || role.Path?.startsWith('/aws-service-role/'))
      continue;
    const item = { kind: 'iam:role', id: role.RoleName!, region: 'global' };
    const tags = (await iam.send(new ListRoleTagsCommand({ RoleName: role.RoleName }))).Tags ?? [];
    if (keeps(tags, options.keepTag)) {
      keep(item);
      continue;
    }
    await act(item, async () => {
      for (const name of (await iam.send(new ListRolePoliciesCommand({ RoleName: role.RoleName })))
        .PolicyNames ?? [])
        await iam.send(new DeleteRolePolicyCommand({ RoleName: role.RoleName, PolicyName: name }));
      for (const policy of (await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: role.RoleName })))
        .AttachedPolicies ?? [])
        await iam.send(new DetachRolePolicyCommand({ RoleName: role.RoleName, PolicyArn: policy.PolicyArn }));
      await iam.send(new DeleteRoleCommand({ RoleName: role.RoleName }));
    });
  }

  if (!options.dryRun && result.errors.length > 0) throw new PurgeIncompleteError(result);
  return result;
}
