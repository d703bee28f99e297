/**
 * Subnet arithmetic as STUPS computed it (`helper/network.py calculate_subnet`): for a VPC of
 * prefix p and the availability zones sorted by name, AZ number i gets
 * - `dmz`: the i-th /(p+5) from the start of the VPC (172.31.0.0/21, 172.31.8.0/21, … for /16),
 * - `internal`: the i-th /(p+4) of the upper half (172.31.128.0/20, 172.31.144.0/20, …),
 * - `nat`: the i-th /28 of the second quarter (172.31.64.0/28, 172.31.64.16/28, …).
 */
export const DEFAULT_VPC_CIDR = '172.31.0.0/16';

export type SubnetType = 'dmz' | 'internal' | 'nat';

export interface PlannedSubnet {
  type: SubnetType;
  az: string;
  cidr: string;
  tags: Record<string, string>;
}

interface Net {
  base: number;
  prefix: number;
}

export function parseCidr(cidr: string): Net {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
  const octets = m ? m.slice(1, 5).map(Number) : [];
  const prefix = Number(m?.[5]);
  if (!m || octets.some((o) => o > 255) || prefix > 32) throw new RangeError(`not an IPv4 CIDR: ${cidr}`);
  const address = octets.reduce((acc, o) => acc * 256 + o, 0);
  const size = 2 ** (32 - prefix);
  // Host bits set (172.31.1.0/16) would make every child network wrong; netaddr rejects them too.
  if (address % size !== 0)
    throw new RangeError(
      `${cidr} has host bits set (the network is ${formatCidr({ base: address - (address % size), prefix })})`,
    );
  return { base: address, prefix };
}

export function formatCidr(net: Net): string {
  const a = net.base;
  return `${Math.floor(a / 2 ** 24) % 256}.${Math.floor(a / 2 ** 16) % 256}.${Math.floor(a / 2 ** 8) % 256}.${a % 256}/${net.prefix}`;
}

/** The i-th child network of the given prefix inside `net`. */
function child(net: Net, prefix: number, index: number): Net {
  const count = 2 ** (prefix - net.prefix);
  if (prefix > 32 || index >= count) {
    throw new RangeError(`${formatCidr(net)} has no room for subnet number ${index + 1} of size /${prefix}`);
  }
  return { base: net.base + index * 2 ** (32 - prefix), prefix };
}

/** The subnet of one type for the AZ at `azIndex` (AZs sorted by name). */
export function calculateSubnet(vpcCidr: string, type: SubnetType, azIndex: number): string {
  const vpc = parseCidr(vpcCidr);
  if (type === 'dmz') return formatCidr(child(vpc, vpc.prefix + 5, azIndex));
  if (type === 'nat') return formatCidr(child(child(vpc, vpc.prefix + 2, 1), 28, azIndex));
  return formatCidr(child(child(vpc, vpc.prefix + 1, 1), vpc.prefix + 4, azIndex));
}

/** Tags STUPS put on computed subnets: a Name Senza finds them by, and the Kubernetes ELB roles. */
function defaultTags(type: SubnetType, az: string): Record<string, string> {
  const tags: Record<string, string> = { Name: `${type}-${az}` };
  if (type === 'dmz') tags['kubernetes.io/role/elb'] = '';
  if (type === 'internal') tags['kubernetes.io/role/internal-elb'] = '';
  return tags;
}

/**
 * The default dmz + internal subnets of a VPC for the given AZs (NAT subnets only when NAT
 * instances are wanted, as in STUPS, where NAT gateways live in the dmz).
 */
export function defaultSubnets(vpcCidr: string, azs: readonly string[], withNat = false): PlannedSubnet[] {
  const sorted = [...azs].sort();
  const types: SubnetType[] = withNat ? ['dmz', 'internal', 'nat'] : ['dmz', 'internal'];
  return types.flatMap((type) =>
    sorted.map((az, i) => ({
      type,
      az,
      cidr: calculateSubnet(vpcCidr, type, i),
      tags: defaultTags(type, az),
    })),
  );
}

/** Whether `inner` lies entirely within `outer`. */
export function cidrContains(outer: string, inner: string): boolean {
  const o = parseCidr(outer);
  const i = parseCidr(inner);
  return i.prefix >= o.prefix && i.base >= o.base && i.base < o.base + 2 ** (32 - o.prefix);
}
