import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  DescribeSecurityGroupsCommand,
  type IpPermission,
  RevokeSecurityGroupIngressCommand,
  type SecurityGroup,
} from '@aws-sdk/client-ec2';
import { z } from 'zod';
import { AccountFailure } from '../aws/login.js';
import type { AccountConfig } from '../contract.js';
import { readRegionNetwork } from './network.js';
import type { PlannedChange, ResourceModule } from './resource.js';

/**
 * One ingress rule reduced to what is reconciled: protocol, port range and one IPv4 source.
 * AWS groups a rule's sources; we compare them one by one so a change adds or removes exactly
 * the sources that differ.
 */
export interface IngressRule {
  protocol: string;
  from: number;
  to: number;
  cidr: string;
}

const PermissionSchema = z.strictObject({
  IpProtocol: z.string().min(1),
  FromPort: z.number().int().optional(),
  ToPort: z.number().int().optional(),
  IpRanges: z.array(z.strictObject({ CidrIp: z.string(), Description: z.string().optional() })).optional(),
});

export function ruleKey(r: IngressRule): string {
  const ports = r.protocol === '-1' ? 'all' : r.from === r.to ? `${r.from}` : `${r.from}-${r.to}`;
  return `${r.protocol === '-1' ? 'all' : r.protocol} ${ports} from ${r.cidr}`;
}

/**
 * The rules a configured group should have: its `ip_permissions`, each open to its own
 * `IpRanges` and, with `allow_from_trusted`, to every one of `trusted_networks` as well.
 */
export function wantedRules(account: AccountConfig, name: string): IngressRule[] {
  const group = account.security_groups?.[name];
  const trusted = Object.values(account.trusted_networks ?? {});
  const out = new Map<string, IngressRule>();
  for (const [i, raw] of (group?.ip_permissions ?? []).entries()) {
    const parsed = PermissionSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new AccountFailure(
        `security_groups.${name}.ip_permissions.${i}${issue.path.length ? `.${issue.path.join('.')}` : ''}: ${issue.message}`,
      );
    }
    const p = parsed.data;
    const all = p.IpProtocol === '-1';
    const cidrs = [...(p.IpRanges ?? []).map((r) => r.CidrIp), ...(group?.allow_from_trusted ? trusted : [])];
    if (!cidrs.length) {
      throw new AccountFailure(
        `security_groups.${name}.ip_permissions.${i}: no source (IpRanges, or allow_from_trusted with trusted_networks)`,
      );
    }
    for (const cidr of cidrs) {
      const rule = {
        protocol: p.IpProtocol,
        from: all ? -1 : (p.FromPort ?? -1),
        to: all ? -1 : (p.ToPort ?? p.FromPort ?? -1),
        cidr,
      };
      out.set(ruleKey(rule), rule);
    }
  }
  return [...out.values()];
}

/** The IPv4 rules a group has now (other source kinds are not ours to reconcile and are left). */
export function currentRules(group: SecurityGroup): IngressRule[] {
  return (group.IpPermissions ?? []).flatMap((p) =>
    (p.IpRanges ?? []).map((r) => ({
      protocol: p.IpProtocol ?? '-1',
      from: p.IpProtocol === '-1' ? -1 : (p.FromPort ?? -1),
      to: p.IpProtocol === '-1' ? -1 : (p.ToPort ?? -1),
      cidr: r.CidrIp ?? '',
    })),
  );
}

function asPermissions(rules: readonly IngressRule[]): IpPermission[] {
  return rules.map((r) => ({
    IpProtocol: r.protocol,
    ...(r.protocol === '-1' ? {} : { FromPort: r.from, ToPort: r.to }),
    IpRanges: [{ CidrIp: r.cidr }],
  }));
}

interface RegionGroups {
  vpcId?: string;
  groups: SecurityGroup[];
}

type SgOp =
  | { type: 'create'; region: string; name: string; description: string; add: IngressRule[] }
  | { type: 'reconcile'; region: string; groupId: string; add: IngressRule[]; remove: IngressRule[] };

/**
 * `security_groups`: named groups in each region's account VPC, their ingress rules reconciled
 * exactly (missing ones authorised, ones the file no longer has revoked). The VPC's `default`
 * group is AWS's own and never touched; naming it in the file is an error.
 */
export const securityGroups: ResourceModule<Map<string, RegionGroups>, SgOp> = {
  kind: 'security-groups',
  async read(clients, account) {
    const state = new Map<string, RegionGroups>();
    const names = Object.keys(account.security_groups ?? {});
    if (!names.length) return state;
    for (const region of account.regions) {
      const network = await readRegionNetwork(clients, account, region);
      const vpcId = network.vpc?.VpcId;
      const groups = vpcId
        ? (
            (
              await clients.ec2(region).send(
                new DescribeSecurityGroupsCommand({
                  // Names are matched here, not by a group-name filter: AWS reads `*` and `?`
                  // in filter values as wildcards, and STUPS names like "Odd (SSH Bastion Host)"
                  // must match literally.
                  Filters: [{ Name: 'vpc-id', Values: [vpcId] }],
                }),
              )
            ).SecurityGroups ?? []
          ).filter((g) => names.includes(g.GroupName ?? ''))
        : [];
      state.set(region, { ...(vpcId ? { vpcId } : {}), groups });
    }
    return state;
  },
  diff(account, current) {
    const changes: PlannedChange<SgOp>[] = [];
    const configured = account.security_groups ?? {};
    if ('default' in configured) {
      throw new AccountFailure(
        "security_groups.default: the VPC's default group is AWS's own; sevenseconds never changes it",
      );
    }
    for (const region of account.regions) {
      const now = current.get(region);
      for (const name of Object.keys(configured)) {
        const wanted = wantedRules(account, name);
        const base = { account: account.name, resource: `security-group/${region}/${name}` };
        const existing = now?.groups.find((g) => g.GroupName === name);
        if (!existing?.GroupId) {
          changes.push({
            ...base,
            action: 'create',
            detail: `create with ${wanted.map(ruleKey).join(', ') || 'no ingress'}`,
            op: {
              type: 'create',
              region,
              name,
              description: configured[name]?.description ?? name,
              add: wanted,
            },
          });
          continue;
        }
        const have = new Set(currentRules(existing).map(ruleKey));
        const want = new Set(wanted.map(ruleKey));
        const add = wanted.filter((r) => !have.has(ruleKey(r)));
        const remove = currentRules(existing).filter((r) => !want.has(ruleKey(r)));
        if (!add.length && !remove.length) continue;
        changes.push({
          ...base,
          action: 'update',
          detail: [...add.map((r) => `+${ruleKey(r)}`), ...remove.map((r) => `-${ruleKey(r)}`)].join(', '),
          op: { type: 'reconcile', region, groupId: existing.GroupId, add, remove },
        });
      }
    }
    return changes;
  },
  async apply(clients, account, { op }) {
    const ec2 = clients.ec2(op.region);
    let groupId: string;
    if (op.type === 'create') {
      // The VPC may have been made earlier in this same run; look it up now.
      const network = await readRegionNetwork(clients, account, op.region);
      if (!network.vpc?.VpcId)
        throw new AccountFailure(`no VPC in ${op.region} to put security group ${op.name} in`);
      const created = await ec2.send(
        new CreateSecurityGroupCommand({
          GroupName: op.name,
          Description: op.description,
          VpcId: network.vpc.VpcId,
        }),
      );
      groupId = created.GroupId ?? '';
    } else {
      groupId = op.groupId;
      if (op.remove.length) {
        await ec2.send(
          new RevokeSecurityGroupIngressCommand({
            GroupId: groupId,
            IpPermissions: asPermissions(op.remove),
          }),
        );
      }
    }
    if (op.add.length) {
      await ec2.send(
        new AuthorizeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: asPermissions(op.add) }),
      );
    }
  },
};
