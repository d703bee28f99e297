import {
  ChangeResourceRecordSetsCommand,
  CreateHostedZoneCommand,
  ListHostedZonesByNameCommand,
  ListResourceRecordSetsCommand,
  type ResourceRecordSet,
} from '@aws-sdk/client-route-53';
import type { AccountConfig } from '../contract.js';
import type { PlannedChange, ResourceModule } from './resource.js';

interface ZoneState {
  id: string;
  soa?: ResourceRecordSet;
}

type ZoneOp =
  | { type: 'create'; domain: string; ttl?: number }
  | { type: 'soa-ttl'; zoneId: string; soa: ResourceRecordSet; ttl: number };

/** The zone's name as Route 53 spells it: with the root dot. */
function fqdn(domain: string): string {
  return domain.endsWith('.') ? domain : `${domain}.`;
}

function soaTtl(account: AccountConfig): number | undefined {
  return account.domain_soa_ttl === undefined ? undefined : Number(account.domain_soa_ttl);
}

/**
 * The account's public hosted zone `domain` (e.g. `{account_name}.example.org`) and the TTL of its
 * SOA record (`domain_soa_ttl`: the negative-caching time of the zone). The NS delegation in the
 * admin account's parent zone is not done yet (it needs a login to that account).
 */
export const dnsZone: ResourceModule<ZoneState | undefined, ZoneOp> = {
  kind: 'dns-zone',
  async read(clients, account) {
    if (!account.domain) return undefined;
    const name = fqdn(account.domain);
    const zone = (
      await clients.route53.send(new ListHostedZonesByNameCommand({ DNSName: name, MaxItems: 1 }))
    ).HostedZones?.find((z) => z.Name === name && !z.Config?.PrivateZone);
    if (!zone?.Id) return undefined;
    const id = zone.Id.replace(/^\/hostedzone\//, '');
    const soa = (
      await clients.route53.send(
        new ListResourceRecordSetsCommand({
          HostedZoneId: id,
          StartRecordName: name,
          StartRecordType: 'SOA',
          MaxItems: 1,
        }),
      )
    ).ResourceRecordSets?.find((r) => r.Type === 'SOA' && r.Name === name);
    return { id, ...(soa ? { soa } : {}) };
  },
  diff(account, current) {
    if (!account.domain) return [];
    const ttl = soaTtl(account);
    const base = { account: account.name, resource: `dns-zone/${account.domain}` };
    if (!current) {
      return [
        {
          ...base,
          action: 'create',
          detail: `hosted zone ${account.domain}${ttl === undefined ? '' : `, SOA TTL ${ttl}`}`,
          op: { type: 'create', domain: account.domain, ...(ttl === undefined ? {} : { ttl }) },
        },
      ];
    }
    const changes: PlannedChange<ZoneOp>[] = [];
    if (ttl !== undefined && current.soa && current.soa.TTL !== ttl) {
      changes.push({
        ...base,
        action: 'update',
        detail: `SOA TTL ${current.soa.TTL} → ${ttl}`,
        op: { type: 'soa-ttl', zoneId: current.id, soa: current.soa, ttl },
      });
    }
    return changes;
  },
  async apply(clients, account, { op }) {
    let zoneId: string;
    let soa: ResourceRecordSet | undefined;
    if (op.type === 'create') {
      const created = await clients.route53.send(
        new CreateHostedZoneCommand({
          Name: op.domain,
          // Unique per request; a retried call with the same reference would not make a second zone.
          CallerReference: `sevenseconds-${account.id}-${op.domain}-${Date.now()}`,
        }),
      );
      zoneId = created.HostedZone!.Id!.replace(/^\/hostedzone\//, '');
      if (op.ttl === undefined) return;
      soa = (await dnsZone.read(clients, account))?.soa;
    } else {
      zoneId = op.zoneId;
      soa = op.soa;
    }
    if (!soa) return;
    await clients.route53.send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: zoneId,
        ChangeBatch: { Changes: [{ Action: 'UPSERT', ResourceRecordSet: { ...soa, TTL: op.ttl } }] },
      }),
    );
  },
};
