import {
  CreateCacheSubnetGroupCommand,
  DescribeCacheSubnetGroupsCommand,
  ModifyCacheSubnetGroupCommand,
} from '@aws-sdk/client-elasticache';
import {
  CreateDBSubnetGroupCommand,
  DescribeDBSubnetGroupsCommand,
  ModifyDBSubnetGroupCommand,
} from '@aws-sdk/client-rds';
import type { AccountClients } from '../aws/clients.js';
import { AccountFailure } from '../aws/login.js';
import type { AccountConfig } from '../contract.js';
import { readRegionNetwork, type RegionNetwork, wantedSubnets } from './network.js';
import { awsErrorName, type PlannedChange, type ResourceModule } from './resource.js';

/** STUPS named both groups `internal` and described them so (config/rds.py, elasticache.py). */
export const SUBNET_GROUP_NAME = 'internal';
export const SUBNET_GROUP_DESCRIPTION = 'Default subnet group using all internal subnets';

type Service = 'rds' | 'elasticache';

interface RegionSubnetGroups {
  network: RegionNetwork;
  /** The subnet ids each group has now; absent = no such group. */
  rds?: string[];
  elasticache?: string[];
}

interface SubnetGroupOp {
  region: string;
  service: Service;
  exists: boolean;
}

/** The ids of the region's internal subnets that exist now (matched by CIDR, as the subnets module does). */
export function internalSubnetIds(account: AccountConfig, region: string, network: RegionNetwork): string[] {
  const cidrs = new Set(
    wantedSubnets(account, region, network.azs)
      .filter((s) => s.type === 'internal')
      .map((s) => s.cidr),
  );
  return network.subnets
    .filter((s) => s.CidrBlock && cidrs.has(s.CidrBlock) && s.SubnetId)
    .map((s) => s.SubnetId!)
    .sort();
}

async function readGroups(clients: AccountClients, region: string) {
  let rds: string[] | undefined;
  let elasticache: string[] | undefined;
  try {
    const r = await clients
      .rds(region)
      .send(new DescribeDBSubnetGroupsCommand({ DBSubnetGroupName: SUBNET_GROUP_NAME }));
    rds = (r.DBSubnetGroups?.[0]?.Subnets ?? []).map((s) => s.SubnetIdentifier ?? '').sort();
  } catch (error) {
    if (!/DBSubnetGroupNotFound/.test(awsErrorName(error))) throw error;
  }
  try {
    const r = await clients
      .elasticache(region)
      .send(new DescribeCacheSubnetGroupsCommand({ CacheSubnetGroupName: SUBNET_GROUP_NAME }));
    elasticache = (r.CacheSubnetGroups?.[0]?.Subnets ?? []).map((s) => s.SubnetIdentifier ?? '').sort();
  } catch (error) {
    if (!/CacheSubnetGroupNotFound/.test(awsErrorName(error))) throw error;
  }
  return { ...(rds ? { rds } : {}), ...(elasticache ? { elasticache } : {}) };
}

const same = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * The RDS DB subnet group and the ElastiCache cache subnet group `internal` in every region,
 * over exactly that region's internal subnets (so databases and caches never land in the dmz).
 */
export const subnetGroups: ResourceModule<Map<string, RegionSubnetGroups>, SubnetGroupOp> = {
  kind: 'subnet-groups',
  async read(clients, account) {
    const state = new Map<string, RegionSubnetGroups>();
    for (const region of account.regions) {
      const network = await readRegionNetwork(clients, account, region);
      state.set(region, { network, ...(await readGroups(clients, region)) });
    }
    return state;
  },
  diff(account, current) {
    const changes: PlannedChange<SubnetGroupOp>[] = [];
    for (const region of account.regions) {
      const now = current.get(region);
      if (!now) continue;
      // Before the first configure the subnets do not exist yet; the group will hold all of them.
      const wantedCount = wantedSubnets(account, region, now.network.azs).filter(
        (s) => s.type === 'internal',
      ).length;
      const ids = internalSubnetIds(account, region, now.network);
      for (const service of ['rds', 'elasticache'] as const) {
        const have = now[service];
        const resource = `${service === 'rds' ? 'db' : 'cache'}-subnet-group/${region}/${SUBNET_GROUP_NAME}`;
        if (!have) {
          changes.push({
            account: account.name,
            resource,
            action: 'create',
            detail: `create over the ${wantedCount} internal subnets`,
            op: { region, service, exists: false },
          });
        } else if (ids.length !== wantedCount || !same(have, ids)) {
          changes.push({
            account: account.name,
            resource,
            action: 'update',
            detail: `subnets ${have.join(' ') || '(none)'} -> the ${wantedCount} internal subnets`,
            op: { region, service, exists: true },
          });
        }
      }
    }
    return changes;
  },
  async apply(clients, account, { op }) {
    // The subnets were made by the subnets module in this same run: their ids are read now.
    const ids = internalSubnetIds(account, op.region, await readRegionNetwork(clients, account, op.region));
    if (!ids.length) throw new AccountFailure(`no internal subnets in ${op.region} for the subnet groups`);
    if (op.service === 'rds') {
      const input = {
        DBSubnetGroupName: SUBNET_GROUP_NAME,
        DBSubnetGroupDescription: SUBNET_GROUP_DESCRIPTION,
        SubnetIds: ids,
      };
      const rds = clients.rds(op.region);
      if (op.exists) await rds.send(new ModifyDBSubnetGroupCommand(input));
      else await rds.send(new CreateDBSubnetGroupCommand(input));
      return;
    }
    const input = {
      CacheSubnetGroupName: SUBNET_GROUP_NAME,
      CacheSubnetGroupDescription: SUBNET_GROUP_DESCRIPTION,
      SubnetIds: ids,
    };
    const elasticache = clients.elasticache(op.region);
    if (op.exists) await elasticache.send(new ModifyCacheSubnetGroupCommand(input));
    else await elasticache.send(new CreateCacheSubnetGroupCommand(input));
  },
};
