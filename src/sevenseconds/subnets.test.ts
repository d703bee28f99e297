import { describe, expect, it } from 'vitest';
import { calculateSubnet, cidrContains, DEFAULT_VPC_CIDR, defaultSubnets, parseCidr } from './subnets.js';

describe('subnet arithmetic (STUPS calculate_subnet)', () => {
  it('computes the documented defaults for two AZs: dmz /21 from the start, internal /20 in the upper half', () => {
    expect(
      defaultSubnets(DEFAULT_VPC_CIDR, ['eu-central-1b', 'eu-central-1a']).map(
        (s) => `${s.type} ${s.az} ${s.cidr}`,
      ),
    ).toEqual([
      'dmz eu-central-1a 172.31.0.0/21',
      'dmz eu-central-1b 172.31.8.0/21',
      'internal eu-central-1a 172.31.128.0/20',
      'internal eu-central-1b 172.31.144.0/20',
    ]);
  });

  it('computes the defaults for three AZs, with NAT subnets in the second quarter', () => {
    const subnets = defaultSubnets(DEFAULT_VPC_CIDR, ['eu-west-1a', 'eu-west-1b', 'eu-west-1c'], true);
    expect(subnets.map((s) => `${s.type} ${s.az} ${s.cidr}`)).toEqual([
      'dmz eu-west-1a 172.31.0.0/21',
      'dmz eu-west-1b 172.31.8.0/21',
      'dmz eu-west-1c 172.31.16.0/21',
      'internal eu-west-1a 172.31.128.0/20',
      'internal eu-west-1b 172.31.144.0/20',
      'internal eu-west-1c 172.31.160.0/20',
      'nat eu-west-1a 172.31.64.0/28',
      'nat eu-west-1b 172.31.64.16/28',
      'nat eu-west-1c 172.31.64.32/28',
    ]);
    expect(subnets[0]!.tags).toEqual({ Name: 'dmz-eu-west-1a', 'kubernetes.io/role/elb': '' });
    expect(subnets[3]!.tags).toEqual({ Name: 'internal-eu-west-1a', 'kubernetes.io/role/internal-elb': '' });
  });

  it('follows the prefix of other VPC sizes as the STUPS doctests do', () => {
    expect(calculateSubnet('10.0.0.0/16', 'dmz', 0)).toBe('10.0.0.0/21');
    expect(calculateSubnet('10.0.0.0/16', 'internal', 0)).toBe('10.0.128.0/20');
    expect(calculateSubnet('10.0.0.0/19', 'dmz', 1)).toBe('10.0.1.0/24');
    expect(calculateSubnet('10.0.0.0/19', 'internal', 0)).toBe('10.0.16.0/23');
    expect(calculateSubnet('10.0.0.0/19', 'internal', 1)).toBe('10.0.18.0/23');
  });

  it('every computed subnet lies inside the VPC and none overlap', () => {
    const subnets = defaultSubnets(DEFAULT_VPC_CIDR, ['a', 'b', 'c'], true);
    for (const s of subnets) expect(cidrContains(DEFAULT_VPC_CIDR, s.cidr)).toBe(true);
    for (const a of subnets)
      for (const b of subnets)
        if (a !== b) expect(cidrContains(a.cidr, b.cidr) || cidrContains(b.cidr, a.cidr)).toBe(false);
  });

  it('refuses bad networks and AZ counts with no room', () => {
    expect(() => parseCidr('172.31.1.0/16')).toThrow('has host bits set (the network is 172.31.0.0/16)');
    expect(() => parseCidr('300.0.0.0/8')).toThrow('not an IPv4 CIDR');
    expect(() => calculateSubnet('10.0.0.0/16', 'dmz', 32)).toThrow(
      'has no room for subnet number 33 of size /21',
    );
  });
});
