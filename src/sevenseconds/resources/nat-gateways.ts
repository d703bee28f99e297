import {
  AllocateAddressCommand,
  CreateNatGatewayCommand,
  DescribeAddressesCommand,
  DescribeNatGatewaysCommand,
  type EC2Client,
  type NatGateway,
  waitUntilNatGatewayAvailable,
} from '@aws-sdk/client-ec2';
import type { AccountClients } from '../aws/clients.js';
import { AccountFailure } from '../aws/login.js';
import type { AccountConfig } from '../contract.js';
import { readRegionNetwork, type RegionNetwork, wantedSubnets } from './network.js';
import type { PlannedChange, ResourceModule } from './resource.js';

/** The name STUPS gave a zone's NAT (config/vpc.py); the gateway and its Elastic IP carry it. */
export const natName = (az: string) => `NAT ${az}`;

/** How long configure waits for a new gateway (AWS takes a few minutes). */
const NAT_WAIT_SECONDS = 600;

export interface RegionNat extends RegionNetwork {
  /** The VPC's NAT gateways that are pending or available. */
  gateways: NatGateway[];
}

interface NatOp {
  region: string;
  az: string;
  /** The dmz subnet the gateway goes in. */
  cidr: string;
}

/** NAT is on unless `enable_nat: false` (the STUPS default). */
export function natEnabled(account: AccountConfig): boolean {
  return account.enable_nat !== false;
}

/** The VPC's live NAT gateways (read-only). */
export async function readNatGateways(ec2: EC2Client, vpcId: string | undefined): Promise<NatGateway[]> {
  if (!vpcId) return [];
  return (
    (
      await ec2.send(
        new DescribeNatGatewaysCommand({
          Filter: [
            { Name: 'vpc-id', Values: [vpcId] },
            { Name: 'state', Values: ['pending', 'available'] },
          ],
        }),
      )
    ).NatGateways ?? []
  );
}

export async function readRegionNat(
  clients: AccountClients,
  account: AccountConfig,
  region: string,
): Promise<RegionNat> {
  const network = await readRegionNetwork(clients, account, region);
  return { ...network, gateways: await readNatGateways(clients.ec2(region), network.vpc?.VpcId) };
}

/** The dmz subnets the file wants, per AZ, with the id of the one that exists. */
export function dmzSubnets(account: AccountConfig, region: string, network: RegionNetwork) {
  return wantedSubnets(account, region, network.azs)
    .filter((s) => s.type === 'dmz')
    .map((s) => ({ ...s, id: network.subnets.find((x) => x.CidrBlock === s.cidr)?.SubnetId }));
}

/** An Elastic IP named for the zone and not in use (left by an interrupted run), else a new one. */
async function addressFor(ec2: EC2Client, az: string): Promise<string> {
  const free = (
    (await ec2.send(new DescribeAddressesCommand({ Filters: [{ Name: 'tag:Name', Values: [natName(az)] }] })))
      .Addresses ?? []
  ).find((a) => !a.AssociationId && a.AllocationId);
  if (free?.AllocationId) return free.AllocationId;
  const made = await ec2.send(
    new AllocateAddressCommand({
      Domain: 'vpc',
      TagSpecifications: [{ ResourceType: 'elastic-ip', Tags: [{ Key: 'Name', Value: natName(az) }] }],
    }),
  );
  if (!made.AllocationId) throw new AccountFailure(`allocating an Elastic IP for ${natName(az)} gave no id`);
  return made.AllocationId;
}

/**
 * One NAT gateway per availability zone, in the zone's dmz subnet, with an Elastic IP: the
 * internal subnets reach the internet through it (their route is the routes module's). STUPS
 * replaced its NAT instances by these gateways; `enable_nat: false` makes none (and removes none).
 */
export const natGateways: ResourceModule<Map<string, RegionNat>, NatOp> = {
  kind: 'nat-gateway',
  async read(clients, account) {
    const state = new Map<string, RegionNat>();
    if (!natEnabled(account)) return state;
    for (const region of account.regions) state.set(region, await readRegionNat(clients, account, region));
    return state;
  },
  diff(account, current) {
    const changes: PlannedChange<NatOp>[] = [];
    if (!natEnabled(account)) return changes;
    for (const region of account.regions) {
      const now = current.get(region);
      if (!now) continue;
      for (const subnet of dmzSubnets(account, region, now)) {
        if (subnet.id && now.gateways.some((g) => g.SubnetId === subnet.id)) continue;
        changes.push({
          account: account.name,
          resource: `nat-gateway/${region}/${subnet.az}`,
          action: 'create',
          detail: `create NAT gateway with an Elastic IP in ${subnet.tags.Name ?? subnet.cidr} (${subnet.cidr})`,
          op: { region, az: subnet.az, cidr: subnet.cidr },
        });
      }
    }
    return changes;
  },
  async apply(clients, account, { op }) {
    const ec2 = clients.ec2(op.region);
    const network = await readRegionNetwork(clients, account, op.region);
    const SubnetId = network.subnets.find((s) => s.CidrBlock === op.cidr)?.SubnetId;
    if (!SubnetId) throw new AccountFailure(`no dmz subnet ${op.cidr} in ${op.region} for ${natName(op.az)}`);
    const AllocationId = await addressFor(ec2, op.az);
    const made = await ec2.send(
      new CreateNatGatewayCommand({
        SubnetId,
        AllocationId,
        TagSpecifications: [{ ResourceType: 'natgateway', Tags: [{ Key: 'Name', Value: natName(op.az) }] }],
      }),
    );
    const id = made.NatGateway?.NatGatewayId;
    if (!id) throw new AccountFailure(`creating ${natName(op.az)} in ${op.region} gave no id`);
    // The internal route needs it: wait until it carries traffic.
    await waitUntilNatGatewayAvailable(
      { client: ec2, maxWaitTime: NAT_WAIT_SECONDS },
      { NatGatewayIds: [id] },
    );
  },
};
