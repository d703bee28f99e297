import {
  AttachInternetGatewayCommand,
  CreateInternetGatewayCommand,
  CreateTagsCommand,
  CreateVpcCommand,
  DeleteInternetGatewayCommand,
  DeleteSubnetCommand,
  DeleteVpcCommand,
  DescribeInternetGatewaysCommand,
  DescribeSubnetsCommand,
  DetachInternetGatewayCommand,
  type InternetGateway,
} from '@aws-sdk/client-ec2';
import type { AccountConfig } from '../contract.js';
import { overlaps, readRegionNetwork, type RegionNetwork, tagMap, vpcCidr } from './network.js';
import type { PlannedChange, ResourceModule } from './resource.js';

interface RegionVpc extends RegionNetwork {
  gateways: InternetGateway[];
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
 * and /20 subnets that collide with the STUPS layout), as STUPS replaced it.
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
      state.set(region, { ...network, gateways });
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
