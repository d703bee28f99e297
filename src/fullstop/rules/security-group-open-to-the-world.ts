import { z } from 'zod';
import { type EventRule, violationType } from './rule.js';

const WORLD = new Set(['0.0.0.0/0', '::/0']);
const items = <T extends z.ZodType>(item: T) => z.looseObject({ items: z.array(item) }).optional();
const Permission = z.looseObject({
  ipProtocol: z.string(),
  fromPort: z.number().int().optional(),
  toPort: z.number().int().optional(),
  ipRanges: items(z.looseObject({ cidrIp: z.string() })),
  ipv6Ranges: items(z.looseObject({ cidrIpv6: z.string() })),
});
const IngressRequest = z.looseObject({
  groupId: z.string().optional(),
  groupName: z.string().optional(),
  ipPermissions: items(Permission),
});

/**
 * A security group opened to the whole internet (0.0.0.0/0 or ::/0) on a port that is not a
 * public one (80, 443 by default): databases, SSH and admin ports must stay internal.
 */
export const securityGroupOpenToTheWorld: EventRule = {
  kind: 'event',
  type: violationType({
    id: 'SECURITY_GROUP_OPEN_TO_THE_WORLD',
    title: 'Security group open to the world',
    help_text:
      'A security group rule allows anyone on the internet (0.0.0.0/0 or ::/0) on a port that is not public. Restrict the source to the networks that need it; SSH goes through the bastion.',
    violation_severity: 4,
    priority: 1,
    meta_info_keys: ['group_id', 'protocol', 'from_port', 'to_port', 'cidr'],
  }),
  async check(record, _account, ctx) {
    if (record.eventName !== 'AuthorizeSecurityGroupIngress' || record.errorCode) return [];
    const request = IngressRequest.safeParse(record.requestParameters);
    if (!request.success) return [];
    const publicPorts = ctx.settings.publicPorts;
    const open = (request.data.ipPermissions?.items ?? []).flatMap((p) => {
      const cidrs = [
        ...(p.ipRanges?.items ?? []).map((r) => r.cidrIp),
        ...(p.ipv6Ranges?.items ?? []).map((r) => r.cidrIpv6),
      ].filter((c) => WORLD.has(c));
      const allPorts = p.ipProtocol === '-1' || p.fromPort === undefined || p.toPort === undefined;
      const from = allPorts ? 0 : (p.fromPort ?? 0);
      const to = allPorts ? 65535 : (p.toPort ?? 65535);
      // ICMP uses the port fields for type and code, which are not ports.
      const icmp = p.ipProtocol === 'icmp' || p.ipProtocol === '1' || p.ipProtocol === 'icmpv6';
      const onlyPublic = !icmp && to - from < publicPorts.length && rangeWithin(from, to, publicPorts);
      return cidrs.length && !icmp && !onlyPublic
        ? [{ protocol: p.ipProtocol, from_port: from, to_port: to, cidr: cidrs }]
        : [];
    });
    if (!open.length) return [];
    return [
      {
        type: 'SECURITY_GROUP_OPEN_TO_THE_WORLD',
        metaInfo: { group_id: request.data.groupId ?? request.data.groupName ?? null, rules: open },
      },
    ];
  },
};

function rangeWithin(from: number, to: number, allowed: readonly number[]): boolean {
  for (let port = from; port <= to; port++) if (!allowed.includes(port)) return false;
  return true;
}
