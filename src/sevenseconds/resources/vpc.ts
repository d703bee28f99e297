import {
  AttachInternetGatewayCommand,
  CreateInternetGatewayCommand,
  CreateTagsCommand,
  CreateVpcCommand,
  DeleteInternetGatewayCommand,
  DeleteSubnetCommand,
  DeleteVpcCommand,
  DescribeInternetGatewaysCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSubnetsCommand,
  type EC2Client,
  DetachInternetGatewayCommand,
  type InternetGateway,
} from '@aws-sdk/client-ec2';
import { AccountFailure } from '../aws/login.js';
import type { AccountConfig } from '../contract.js';
import { overlaps, readRegionNetwork, type RegionNetwork, tagMap, vpcCidr } from './network.js';
import type { PlannedChange, ResourceModule } from './resource.js';

interface RegionVpc extends RegionNetwork {
  gateways: InternetGateway[];
  /** What uses the default VPC (its network interfaces), read only when it is to be deleted. */
  defaultVpcInUse: string[];
}

/**
 * What uses a VPC: every network interface in it, named by what it belongs to. Instances, load
 * balancers, NAT gateways, databases, Lambda functions and endpoints all have one, so an empty
 * list means nothing runs there.
 */
async function usersOfVpc(ec2: EC2Client, vpcId: string): Promise<string[]> {
  const users: string[] = [];
  let NextToken: string | undefined;
  do {
    const page = await ec2.send(
      new DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }], NextToken }),
    );
    for (const eni of page.NetworkInterfaces ?? []) {
      const owner = eni.Attachment?.InstanceId ?? eni.Description ?? eni.InterfaceType ?? '';
      users.push(owner ? `${eni.NetworkInterfaceId} (${owner})` : (eni.NetworkInterfaceId ?? '?'));
    }
    NextToken = page.NextToken;
  } while (NextToken);
  return users.sort();
}

/** The one-line reason a default VPC in use is not deleted. */
function defaultVpcInUseReason(region: string, vpcId: string, cidr: string, users: string[]): string {
  const shown = users.slice(0, 3).join(', ') + (users.length > 3 ? `, and ${users.length - 3} more` : '');
  return (
    `the default VPC ${vpcId} in ${region} overlaps ${cidr} and is in use ` +
    `(${users.length} network interface${users.length === 1 ? '' : 's'}: ${shown}); ` +
    'move or delete what runs there, or configure another vpc_net cidr — sevenseconds never deletes a VPC in use'
  );
}

type VpcOp =
  | { type: 'delete-default-vpc'; region: string; vpcId: string }
  | { type: 'create-vpc'; region: string }
  | { type: 'tag-vpc'; region: string; vpcId: string }
  | { type: 'create-gateway'; region: string; vpcId?: string };

/** The VPC's tags: Name = the account name, then `vpc.tags`. */
export function wantedVpcTags(account: AccountConfig): Record<string, string> {
  return { Name: account.name, ...(account.vpc?.tags ?? {}) };
}

function asTags(tags: Record<string, string>) {
  return Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
}

/**
 * One VPC per region with the configured CIDR (default 172.31.0.0/16) and an internet gateway.
 * AWS's default VPC is deleted when it overlaps the configured network (it has 172.31.0.0/16
 * and /20 subnets that collide with the STUPS layout), as STUPS replaced it — but only while
 * nothing uses it: a default VPC with network interfaces fails the account instead (plan says so
 * too), and apply looks again right before deleting.
 */
export const vpcs: ResourceModule<Map<string, RegionVpc>, VpcOp> = {
  kind: 'vpc',
  async read(clients, account) {
    const state = new Map<string, RegionVpc>();
    for (const region of account.regions) {
      const network = await readRegionNetwork(clients, account, region);
      const gateways = network.vpc?.VpcId
        ? ((
            await clients.ec2(region).send(
              new DescribeInternetGatewaysCommand({
                Filters: [{ Name: 'attachment.vpc-id', Values: [network.vpc.VpcId] }],
              }),
            )
          ).InternetGateways ?? [])
        : [];
      const dflt = network.defaultVpc;
      const defaultVpcInUse =
        dflt?.VpcId && dflt.CidrBlock && overlaps(dflt.CidrBlock, vpcCidr(account, region))
          ? await usersOfVpc(clients.ec2(region), dflt.VpcId)
          : [];
      state.set(region, { ...network, gateways, defaultVpcInUse });
    }
    return state;
  },
  diff(account, current) {
    const changes: PlannedChange<VpcOp>[] = [];
    for (const region of account.regions) {
      const now = current.get(region);
      const cidr = vpcCidr(account, region);
      const base = { account: account.name, resource: `vpc/${region}` };
      const dflt = now?.defaultVpc;
      if (dflt?.VpcId && dflt.CidrBlock && overlaps(dflt.CidrBlock, cidr)) {
        if (now?.defaultVpcInUse.length)
          throw new AccountFailure(defaultVpcInUseReason(region, dflt.VpcId, cidr, now.defaultVpcInUse));
        changes.push({
          ...base,
          action: 'delete',
          detail: `delete default VPC ${dflt.VpcId} (${dflt.CidrBlock} overlaps ${cidr})`,
          op: { type: 'delete-default-vpc', region, vpcId: dflt.VpcId },
        });
      }
      if (!now?.vpc?.VpcId) {
        changes.push({
          ...base,
          action: 'create',
          detail: `create VPC ${cidr} with internet gateway`,
          op: { type: 'create-vpc', region },
        });
        continue;
      }
      const tags = tagMap(now.vpc.Tags);
      const wanted = wantedVpcTags(account);
      const differing = Object.entries(wanted).filter(([k, v]) => tags[k] !== v);
      if (differing.length) {
        changes.push({
          ...base,
          action: 'update',
          detail: `tags ${differing.map(([k, v]) => `${k}=${v}`).join(', ')}`,
          op: { type: 'tag-vpc', region, vpcId: now.vpc.VpcId },
        });
      }
      if (!now.gateways.length) {
        changes.push({
          ...base,
          action: 'create',
          detail: 'attach an internet gateway',
          op: { type: 'create-gateway', region, vpcId: now.vpc.VpcId },
        });
      }
    }
    return changes;
  },
  async apply(clients, account, { op }) {
    const ec2 = clients.ec2(op.region);
    const attachGateway = async (VpcId: string) => {
      const igw = await ec2.send(new CreateInternetGatewayCommand({}));
      await ec2.send(
        new AttachInternetGatewayCommand({
          VpcId,
          InternetGatewayId: igw.InternetGateway?.InternetGatewayId,
        }),
      );
    };
    switch (op.type) {
      case 'delete-default-vpc': {
        const VpcId = op.vpcId;
        // Something may have started there since the account was read.
        const users = await usersOfVpc(ec2, VpcId);
        if (users.length)
          throw new AccountFailure(
            defaultVpcInUseReason(op.region, VpcId, vpcCidr(account, op.region), users),
          );
        for (const s of (
          await ec2.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'vpc-id', Values: [VpcId] }] }))
        ).Subnets ?? []) {
          await ec2.send(new DeleteSubnetCommand({ SubnetId: s.SubnetId }));
        }
        const gateways = await ec2.send(
          new DescribeInternetGatewaysCommand({ Filters: [{ Name: 'attachment.vpc-id', Values: [VpcId] }] }),
        );
        for (const g of gateways.InternetGateways ?? []) {
          await ec2.send(new DetachInternetGatewayCommand({ VpcId, InternetGatewayId: g.InternetGatewayId }));
          await ec2.send(new DeleteInternetGatewayCommand({ InternetGatewayId: g.InternetGatewayId }));
        }
        await ec2.send(new DeleteVpcCommand({ VpcId }));
        return;
      }
      case 'create-vpc': {
        const vpc = await ec2.send(
          new CreateVpcCommand({
            CidrBlock: vpcCidr(account, op.region),
            TagSpecifications: [{ ResourceType: 'vpc', Tags: asTags(wantedVpcTags(account)) }],
          }),
        );
        await attachGateway(vpc.Vpc?.VpcId ?? '');
        return;
      }
      case 'tag-vpc':
        await ec2.send(
          new CreateTagsCommand({ Resources: [op.vpcId], Tags: asTags(wantedVpcTags(account)) }),
        );
        return;
      case 'create-gateway':
        await attachGateway(op.vpcId ?? '');
        return;
    }
  },
};
