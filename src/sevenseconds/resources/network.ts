import {
  DescribeAvailabilityZonesCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
  type Subnet,
  type Vpc,
} from '@aws-sdk/client-ec2';
import type { AccountClients } from '../aws/clients.js';
import type { AccountConfig } from '../contract.js';
import { cidrContains, DEFAULT_VPC_CIDR, defaultSubnets, type PlannedSubnet } from '../subnets.js';

/** The configured network of one region: `vpc_net.<region>.cidr`, else the STUPS default. */
export function vpcCidr(account: AccountConfig, region: string): string {
  return account.vpc_net?.[region]?.cidr ?? DEFAULT_VPC_CIDR;
}

export function overlaps(a: string, b: string): boolean {
  return cidrContains(a, b) || cidrContains(b, a);
}

export function tagMap(
  tags: readonly { Key?: string; Value?: string }[] | undefined,
): Record<string, string> {
  return Object.fromEntries((tags ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
}

export interface RegionNetwork {
  /** The account's VPC: the non-default one with the configured CIDR. */
  vpc?: Vpc;
  /** AWS's default VPC, when there is one. */
  defaultVpc?: Vpc;
  subnets: Subnet[];
  azs: string[];
}

/** Reads a region's VPCs, the account VPC's subnets and the available AZs (read-only calls). */
export async function readRegionNetwork(
  clients: AccountClients,
  account: AccountConfig,
  region: string,
): Promise<RegionNetwork> {
  const ec2 = clients.ec2(region);
  const vpcs = (await ec2.send(new DescribeVpcsCommand({}))).Vpcs ?? [];
  const cidr = vpcCidr(account, region);
  const vpc = vpcs.find((v) => !v.IsDefault && v.CidrBlock === cidr);
  const defaultVpc = vpcs.find((v) => v.IsDefault);
  const subnets = vpc?.VpcId
    ? ((await ec2.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpc.VpcId] }] })))
        .Subnets ?? [])
    : [];
  const zones = await ec2.send(
    new DescribeAvailabilityZonesCommand({ Filters: [{ Name: 'state', Values: ['available'] }] }),
  );
  const azs = (zones.AvailabilityZones ?? [])
    .map((z) => z.ZoneName ?? '')
    .filter(Boolean)
    .sort();
  return { ...(vpc ? { vpc } : {}), ...(defaultVpc ? { defaultVpc } : {}), subnets, azs };
}

/** The subnets the region should have: `vpc_net.<region>.subnets` as written, else computed for every AZ. */
export function wantedSubnets(
  account: AccountConfig,
  region: string,
  azs: readonly string[],
): PlannedSubnet[] {
  const explicit = account.vpc_net?.[region]?.subnets;
  if (explicit) {
    return Object.entries(explicit).flatMap(([az, list]) =>
      list.map((s) => ({
        type: s.type,
        az,
        cidr: s.cidr,
        tags: { Name: `${s.type}-${az}`, ...(s.tags ?? {}) },
      })),
    );
  }
  return defaultSubnets(vpcCidr(account, region), azs, false);
}
