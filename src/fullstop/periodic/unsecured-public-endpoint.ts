import type { IpPermission } from '@aws-sdk/client-ec2';
import type { Action } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { AccountAwsClients } from '../aws/account-clients.js';
import { type PeriodicFinding, type PeriodicRule, violationType } from '../rules/rule.js';
import { sdk } from '../aws/sdk.js';

const WORLD_V4 = '0.0.0.0/0';
const WORLD_V6 = '::/0';

/**
 * What the internet reaches unprotected: internet-facing load balancers answering plain HTTP
 * (an ALB listener whose default action is no redirect to HTTPS; any classic ELB HTTP listener,
 * which cannot redirect), and running instances with a public IP whose security groups open a
 * port outside `rules.publicEndpointPorts` to 0.0.0.0/0 or ::/0.
 */
export const unsecuredPublicEndpoint: PeriodicRule = {
  kind: 'periodic',
  name: 'unsecured-public-endpoint',
  global: false,
  type: violationType({
    id: 'UNSECURED_PUBLIC_ENDPOINT',
    title: 'Unsecured public endpoint',
    help_text:
      'An internet-facing load balancer serves plain HTTP without redirecting to HTTPS, or an instance with a public IP is open to the world on a port that is not public. Redirect HTTP to HTTPS, and keep other ports internal.',
    violation_severity: 4,
    priority: 1,
    meta_info_keys: ['load_balancer', 'listener', 'port', 'protocol', 'public_ip', 'open'],
  }),
  async check({ clients, settings }) {
    return [
      ...(await applicationLoadBalancers(clients)),
      ...(await classicLoadBalancers(clients)),
      ...(await openInstances(clients, settings.publicEndpointPorts)),
    ];
  },
};

function redirectsToHttps(actions: readonly Action[] | undefined): boolean {
  return (actions ?? []).some((a) => a.Type === 'redirect' && a.RedirectConfig?.Protocol === 'HTTPS');
}

async function applicationLoadBalancers(clients: AccountAwsClients): Promise<PeriodicFinding[]> {
  const { paginateDescribeListeners, paginateDescribeLoadBalancers } = await sdk.elbv2();
  const findings: PeriodicFinding[] = [];
  for await (const page of paginateDescribeLoadBalancers({ client: clients.elbv2 }, {})) {
    for (const lb of page.LoadBalancers ?? []) {
      if (lb.Scheme !== 'internet-facing' || !lb.LoadBalancerArn) continue;
      const listeners = paginateDescribeListeners(
        { client: clients.elbv2 },
        { LoadBalancerArn: lb.LoadBalancerArn },
      );
      for await (const listenerPage of listeners) {
        for (const listener of listenerPage.Listeners ?? []) {
          if (listener.Protocol !== 'HTTP' || !listener.ListenerArn) continue;
          if (redirectsToHttps(listener.DefaultActions)) continue;
          findings.push({
            type: 'UNSECURED_PUBLIC_ENDPOINT',
            resource: listener.ListenerArn,
            metaInfo: {
              load_balancer: lb.LoadBalancerName ?? lb.LoadBalancerArn,
              listener: listener.ListenerArn,
              port: listener.Port ?? null,
              protocol: 'HTTP',
            },
          });
        }
      }
    }
  }
  return findings;
}

async function classicLoadBalancers(clients: AccountAwsClients): Promise<PeriodicFinding[]> {
  const { paginateDescribeLoadBalancers: paginateClassicLoadBalancers } = await sdk.elb();
  const findings: PeriodicFinding[] = [];
  for await (const page of paginateClassicLoadBalancers({ client: clients.elb }, {})) {
    for (const lb of page.LoadBalancerDescriptions ?? []) {
      if (lb.Scheme !== 'internet-facing' || !lb.LoadBalancerName) continue;
      for (const { Listener: listener } of lb.ListenerDescriptions ?? []) {
        if (listener?.Protocol?.toUpperCase() !== 'HTTP') continue;
        findings.push({
          type: 'UNSECURED_PUBLIC_ENDPOINT',
          resource: `elb/${lb.LoadBalancerName}/${listener.LoadBalancerPort}`,
          metaInfo: {
            load_balancer: lb.LoadBalancerName,
            listener: null,
            port: listener.LoadBalancerPort ?? null,
            protocol: 'HTTP',
          },
        });
      }
    }
  }
  return findings;
}

async function openInstances(
  clients: AccountAwsClients,
  publicPorts: readonly number[],
): Promise<PeriodicFinding[]> {
  const { DescribeSecurityGroupsCommand, paginateDescribeInstances } = await sdk.ec2();
  const exposed: Array<{ instanceId: string; publicIp: string; groups: string[] }> = [];
  const running = paginateDescribeInstances(
    { client: clients.ec2 },
    { Filters: [{ Name: 'instance-state-name', Values: ['running'] }] },
  );
  for await (const page of running) {
    for (const reservation of page.Reservations ?? [])
      for (const i of reservation.Instances ?? []) {
        if (!i.InstanceId || !i.PublicIpAddress) continue;
        const groups = (i.SecurityGroups ?? []).flatMap((g) => (g.GroupId ? [g.GroupId] : []));
        exposed.push({ instanceId: i.InstanceId, publicIp: i.PublicIpAddress, groups });
      }
  }
  const groupIds = [...new Set(exposed.flatMap((i) => i.groups))];
  if (!groupIds.length) return [];
  const { SecurityGroups = [] } = await clients.ec2.send(
    new DescribeSecurityGroupsCommand({ GroupIds: groupIds }),
  );
  const openOf = new Map(
    SecurityGroups.map((g) => [g.GroupId ?? '', openToTheWorld(g.IpPermissions ?? [], publicPorts)]),
  );
  return exposed.flatMap((instance) => {
    const open = instance.groups.flatMap((g) => (openOf.get(g) ?? []).map((o) => ({ group_id: g, ...o })));
    if (!open.length) return [];
    return [
      {
        type: 'UNSECURED_PUBLIC_ENDPOINT',
        resource: instance.instanceId,
        instanceId: instance.instanceId,
        metaInfo: { public_ip: instance.publicIp, open },
      },
    ];
  });
}

/** The rules of a security group letting the whole internet in on a port outside `publicPorts`. */
export function openToTheWorld(
  permissions: readonly IpPermission[],
  publicPorts: readonly number[],
): Array<{ protocol: string; from_port: number; to_port: number }> {
  return permissions.flatMap((p) => {
    const world =
      (p.IpRanges ?? []).some((r) => r.CidrIp === WORLD_V4) ||
      (p.Ipv6Ranges ?? []).some((r) => r.CidrIpv6 === WORLD_V6);
    const protocol = p.IpProtocol ?? '-1';
    // ICMP's "ports" are type and code.
    if (!world || protocol === 'icmp' || protocol === '1' || protocol === 'icmpv6' || protocol === '58')
      return [];
    const all = protocol === '-1' || p.FromPort === undefined || p.ToPort === undefined;
    const from = all ? 0 : (p.FromPort ?? 0);
    const to = all ? 65535 : (p.ToPort ?? 65535);
    const onlyPublic = to - from < publicPorts.length && allWithin(from, to, publicPorts);
    return onlyPublic ? [] : [{ protocol, from_port: from, to_port: to }];
  });
}

function allWithin(from: number, to: number, allowed: readonly number[]): boolean {
  for (let port = from; port <= to; port++) if (!allowed.includes(port)) return false;
  return true;
}
