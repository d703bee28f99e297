import { CreateSubnetCommand, CreateTagsCommand } from '@aws-sdk/client-ec2';
import { AccountFailure } from '../aws/login.js';
import type { PlannedSubnet } from '../subnets.js';
import { readRegionNetwork, type RegionNetwork, tagMap, wantedSubnets } from './network.js';
import type { PlannedChange, ResourceModule } from './resource.js';

type SubnetOp =
  | { type: 'create-subnet'; region: string; subnet: PlannedSubnet }
  | { type: 'tag-subnet'; region: string; subnetId: string; subnet: PlannedSubnet };

function asTags(tags: Record<string, string>) {
  return Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
}

/**
 * The dmz and internal subnets of each region's VPC (computed per AZ unless written out),
 * matched by CIDR; subnets the file does not describe are left alone, as STUPS did.
 */
export const vpcSubnets: ResourceModule<Map<string, RegionNetwork>, SubnetOp> = {
  kind: 'subnets',
  async read(clients, account) {
    const state = new Map<string, RegionNetwork>();
    for (const region of account.regions)
      state.set(region, await readRegionNetwork(clients, account, region));
    return state;
  },
  diff(account, current) {
    const changes: PlannedChange<SubnetOp>[] = [];
    for (const region of account.regions) {
      const now = current.get(region);
      if (!now) continue;
      for (const subnet of wantedSubnets(account, region, now.azs)) {
        const base = {
          account: account.name,
          resource: `subnet/${region}/${subnet.tags.Name ?? subnet.cidr}`,
        };
        const existing = now.subnets.find((s) => s.CidrBlock === subnet.cidr);
        if (!existing?.SubnetId) {
          changes.push({
            ...base,
            action: 'create',
            detail: `create ${subnet.type} subnet ${subnet.cidr} in ${subnet.az}`,
            op: { type: 'create-subnet', region, subnet },
          });
          continue;
        }
        if (existing.AvailabilityZone !== subnet.az) {
          throw new AccountFailure(
            `subnet ${subnet.cidr} in ${region} is in ${existing.AvailabilityZone}, not ${subnet.az}; move it by hand`,
          );
        }
        const tags = tagMap(existing.Tags);
        const differing = Object.entries(subnet.tags).filter(([k, v]) => tags[k] !== v);
        if (differing.length) {
          changes.push({
            ...base,
            action: 'update',
            detail: `tags ${differing.map(([k, v]) => `${k}=${v}`).join(', ')}`,
            op: { type: 'tag-subnet', region, subnetId: existing.SubnetId, subnet },
          });
        }
      }
    }
    return changes;
  },
  async apply(clients, account, { op }) {
    const ec2 = clients.ec2(op.region);
    if (op.type === 'tag-subnet') {
      await ec2.send(new CreateTagsCommand({ Resources: [op.subnetId], Tags: asTags(op.subnet.tags) }));
      return;
    }
    // The VPC was made by the vpc module in this same run; look it up now rather than at plan time.
    const network = await readRegionNetwork(clients, account, op.region);
    if (!network.vpc?.VpcId)
      throw new AccountFailure(`no VPC in ${op.region} to put subnet ${op.subnet.cidr} in`);
    await ec2.send(
      new CreateSubnetCommand({
        VpcId: network.vpc.VpcId,
        CidrBlock: op.subnet.cidr,
        AvailabilityZone: op.subnet.az,
        TagSpecifications: [{ ResourceType: 'subnet', Tags: asTags(op.subnet.tags) }],
      }),
    );
  },
};
