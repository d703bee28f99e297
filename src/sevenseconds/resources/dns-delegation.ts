import {
  ChangeResourceRecordSetsCommand,
  GetHostedZoneCommand,
  ListHostedZonesByNameCommand,
  ListResourceRecordSetsCommand,
  type Route53Client,
} from '@aws-sdk/client-route-53';
import { AccountFailure } from '../aws/login.js';
import type { ResourceModule } from './resource.js';

interface DelegationState {
  /** The account zone's name servers; none while plan runs before the zone exists. */
  nameServers: string[];
  parentZoneId: string;
  parent: string;
  /** The NS record in the parent zone now. */
  delegated: string[];
}

interface DelegationOp {
  parentZoneId: string;
  name: string;
  nameServers: string[];
}

/** The TTL STUPS gave the delegation record (config/route53.py). */
const NS_TTL = 7200;

const fqdn = (d: string) => (d.endsWith('.') ? d : `${d}.`);
const zoneIdOf = (id: string) => id.replace(/^\/hostedzone\//, '');
const norm = (ns: string[]) => ns.map((n) => fqdn(n.toLowerCase())).sort();

async function publicZone(route53: Route53Client, name: string) {
  return (
    await route53.send(new ListHostedZonesByNameCommand({ DNSName: name, MaxItems: 1 }))
  ).HostedZones?.find((z) => z.Name === name && !z.Config?.PrivateZone);
}

/**
 * The NS record delegating `domain` from its parent zone (`example.org` for `team.example.org`),
 * which lives in the `admin_account`; written there after the account's zone exists.
 */
export const dnsDelegation: ResourceModule<DelegationState | undefined, DelegationOp> = {
  kind: 'dns-delegation',
  async read(clients, account) {
    if (!account.domain) return undefined;
    const name = fqdn(account.domain);
    const parent = name.slice(name.indexOf('.') + 1);
    if (!clients.admin) throw new AccountFailure(`no login to admin account ${account.admin_account}`);
    const admin = await clients.admin();
    const parentZone = await publicZone(admin.route53, parent);
    if (!parentZone?.Id) {
      throw new AccountFailure(
        `parent zone ${parent} of ${account.domain} is not in admin account ${account.admin_account}`,
      );
    }
    const own = await publicZone(clients.route53, name);
    const nameServers = own?.Id
      ? ((await clients.route53.send(new GetHostedZoneCommand({ Id: zoneIdOf(own.Id) }))).DelegationSet
          ?.NameServers ?? [])
      : [];
    const parentZoneId = zoneIdOf(parentZone.Id);
    const record = (
      await admin.route53.send(
        new ListResourceRecordSetsCommand({
          HostedZoneId: parentZoneId,
          StartRecordName: name,
          StartRecordType: 'NS',
          MaxItems: 1,
        }),
      )
    ).ResourceRecordSets?.find((r) => r.Type === 'NS' && r.Name === name);
    return {
      nameServers,
      parentZoneId,
      parent,
      delegated: (record?.ResourceRecords ?? []).map((r) => r.Value ?? ''),
    };
  },
  diff(account, current) {
    if (!account.domain || !current) return [];
    const wanted = norm(current.nameServers);
    const now = norm(current.delegated);
    if (wanted.length && JSON.stringify(wanted) === JSON.stringify(now)) return [];
    return [
      {
        account: account.name,
        resource: `dns-delegation/${account.domain}`,
        action: now.length ? 'update' : 'create',
        detail: `NS in ${current.parent} (account ${account.admin_account})${wanted.length ? '' : ' once the zone exists'}`,
        op: { parentZoneId: current.parentZoneId, name: fqdn(account.domain), nameServers: wanted },
      },
    ];
  },
  async apply(clients, account, { op }) {
    // Plan could not know the name servers of a zone configure made a moment ago: read them now.
    const nameServers = op.nameServers.length
      ? op.nameServers
      : ((await dnsDelegation.read(clients, account))?.nameServers ?? []);
    if (!nameServers.length) throw new AccountFailure(`hosted zone ${account.domain} has no name servers`);
    const admin = await clients.admin!();
    await admin.route53.send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: op.parentZoneId,
        ChangeBatch: {
          Changes: [
            {
              Action: 'UPSERT',
              ResourceRecordSet: {
                Name: op.name,
                Type: 'NS',
                TTL: NS_TTL,
                ResourceRecords: nameServers.map((Value) => ({ Value })),
              },
            },
          ],
        },
      }),
    );
  },
};
