import {
  AssociateRouteTableCommand,
  CreateRouteCommand,
  CreateRouteTableCommand,
  CreateTagsCommand,
  DescribeInternetGatewaysCommand,
  DescribeRouteTablesCommand,
  type EC2Client,
  ReplaceRouteCommand,
  ReplaceRouteTableAssociationCommand,
  type RouteTable,
} from '@aws-sdk/client-ec2';
import type { AccountClients } from '../aws/clients.js';
import { AccountFailure } from '../aws/login.js';
import type { AccountConfig } from '../contract.js';
import { dmzSubnets, natEnabled, readRegionNat, type RegionNat } from './nat-gateways.js';
import { tagMap, wantedSubnets } from './network.js';
import type { PlannedChange, ResourceModule } from './resource.js';

/** What STUPS named the VPC's main table, which the dmz subnets use (config/vpc.py). */
export const DMZ_TABLE_NAME = 'DMZ Routing Table';
const DEFAULT_ROUTE = '0.0.0.0/0';

interface RegionRoutes extends RegionNat {
  tables: RouteTable[];
  internetGatewayId?: string;
}

/** The default route's target: the internet gateway, or a NAT gateway. */
type Target = { kind: 'igw'; id?: string } | { kind: 'nat'; az: string; id?: string };

/** Everything one route table lacks, computed from one reading of the region. */
interface TablePlan {
  /** `dmz` or the internal subnet's name (`internal-<az>`), the table's Name tag. */
  key: string;
  name: string;
  table?: RouteTable;
  retag: boolean;
  route?: { target: Target; replace: boolean };
  /** Subnets to associate with the table: their id (absent in a plan before they exist) and name. */
  associate: { name: string; subnetId?: string; associationId?: string }[];
}

interface RouteOp {
  region: string;
  key: string;
}

function describeTarget(t: Target): string {
  return t.kind === 'igw'
    ? `internet gateway${t.id ? ` ${t.id}` : ''}`
    : `NAT gateway of ${t.az}${t.id ? ` (${t.id})` : ''}`;
}

function defaultRouteOk(table: RouteTable | undefined, t: Target): boolean | 'missing' {
  const route = table?.Routes?.find((r) => r.DestinationCidrBlock === DEFAULT_ROUTE);
  if (!route) return 'missing';
  if (route.State === 'blackhole') return false;
  return t.kind === 'igw' ? route.GatewayId === t.id : route.NatGatewayId === t.id;
}

/** The explicit association of a subnet, in whichever table of the VPC it is. */
function associationOf(tables: RouteTable[], subnetId: string | undefined) {
  if (!subnetId) return undefined;
  for (const table of tables) {
    const a = table.Associations?.find((x) => x.SubnetId === subnetId);
    if (a) return { tableId: table.RouteTableId, associationId: a.RouteTableAssociationId };
  }
  return undefined;
}

/** What each managed table of the region lacks: the dmz (main) table, then one table per internal subnet. */
export function routePlans(account: AccountConfig, region: string, now: RegionRoutes): TablePlan[] {
  const plans: TablePlan[] = [];
  const main = now.tables.find((t) => t.Associations?.some((a) => a.Main));
  const planFor = (
    key: string,
    name: string,
    table: RouteTable | undefined,
    target: Target,
    subnets: { name: string; id?: string }[],
  ): TablePlan => {
    const ok = table ? defaultRouteOk(table, target) : 'missing';
    const associate = subnets.flatMap((s) => {
      const current = associationOf(now.tables, s.id);
      if (table && current?.tableId === table.RouteTableId) return [];
      // A dmz subnet without an explicit association uses the main table already.
      if (key === 'dmz' && !current) return [];
      return [
        {
          name: s.name,
          ...(s.id ? { subnetId: s.id } : {}),
          ...(current?.associationId ? { associationId: current.associationId } : {}),
        },
      ];
    });
    return {
      key,
      name,
      ...(table ? { table } : {}),
      retag: tagMap(table?.Tags).Name !== name,
      ...(ok === true ? {} : { route: { target, replace: ok === false } }),
      associate,
    };
  };
  const dmz = dmzSubnets(account, region, now);
  plans.push(
    planFor(
      'dmz',
      DMZ_TABLE_NAME,
      main,
      { kind: 'igw', ...(now.internetGatewayId ? { id: now.internetGatewayId } : {}) },
      dmz.map((s) => ({ name: s.tags.Name ?? s.cidr, ...(s.id ? { id: s.id } : {}) })),
    ),
  );
  // Without NAT the internal subnets have no way out; STUPS left their tables alone then.
  if (!natEnabled(account)) return plans;
  for (const subnet of wantedSubnets(account, region, now.azs).filter((s) => s.type === 'internal')) {
    const name = subnet.tags.Name ?? `internal-${subnet.az}`;
    const id = now.subnets.find((s) => s.CidrBlock === subnet.cidr)?.SubnetId;
    const dmzId = dmz.find((d) => d.az === subnet.az)?.id;
    const nat = now.gateways.find((g) => dmzId && g.SubnetId === dmzId)?.NatGatewayId;
    const table = now.tables.find((t) => t !== main && tagMap(t.Tags).Name === name);
    plans.push(
      planFor(name, name, table, { kind: 'nat', az: subnet.az, ...(nat ? { id: nat } : {}) }, [
        { name, ...(id ? { id } : {}) },
      ]),
    );
  }
  return plans;
}

function changed(p: TablePlan): boolean {
  return !p.table || p.retag || !!p.route || p.associate.length > 0;
}

function detailOf(p: TablePlan): string {
  const parts: string[] = [];
  if (p.table && p.retag) parts.push(`tag Name=${p.name}`);
  if (p.route)
    parts.push(
      `${p.route.replace ? 'replace' : 'route'} ${DEFAULT_ROUTE} → ${describeTarget(p.route.target)}`,
    );
  if (p.associate.length) parts.push(`associate ${p.associate.map((a) => a.name).join(', ')}`);
  if (p.table) return parts.join(', ');
  // The main table comes with the VPC; it only needs its name and route then.
  if (p.key === 'dmz') return `the new VPC's main table: tag Name=${p.name}, ${parts.join(', ')}`;
  return `create ${p.name} with ${parts.join(', ')}`;
}

async function readRegionRoutes(clients: AccountClients, account: AccountConfig, region: string) {
  const ec2 = clients.ec2(region);
  const nat = await readRegionNat(clients, account, region);
  const vpcId = nat.vpc?.VpcId;
  if (!vpcId) return { ...nat, tables: [] };
  const tables =
    (await ec2.send(new DescribeRouteTablesCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }] })))
      .RouteTables ?? [];
  const igw = (
    await ec2.send(
      new DescribeInternetGatewaysCommand({ Filters: [{ Name: 'attachment.vpc-id', Values: [vpcId] }] }),
    )
  ).InternetGateways?.[0]?.InternetGatewayId;
  return { ...nat, tables, ...(igw ? { internetGatewayId: igw } : {}) };
}

async function applyPlan(ec2: EC2Client, vpcId: string, region: string, p: TablePlan): Promise<void> {
  let tableId = p.table?.RouteTableId;
  if (!tableId) {
    const made = await ec2.send(
      new CreateRouteTableCommand({
        VpcId: vpcId,
        TagSpecifications: [{ ResourceType: 'route-table', Tags: [{ Key: 'Name', Value: p.name }] }],
      }),
    );
    tableId = made.RouteTable?.RouteTableId;
    if (!tableId) throw new AccountFailure(`creating route table ${p.name} in ${region} gave no id`);
  } else if (p.retag) {
    await ec2.send(new CreateTagsCommand({ Resources: [tableId], Tags: [{ Key: 'Name', Value: p.name }] }));
  }
  if (p.route) {
    const t = p.route.target;
    if (!t.id) throw new AccountFailure(`no ${describeTarget(t)} in ${region} for route table ${p.name}`);
    const route = {
      RouteTableId: tableId,
      DestinationCidrBlock: DEFAULT_ROUTE,
      ...(t.kind === 'igw' ? { GatewayId: t.id } : { NatGatewayId: t.id }),
    };
    await ec2.send(p.route.replace ? new ReplaceRouteCommand(route) : new CreateRouteCommand(route));
  }
  for (const a of p.associate) {
    if (!a.subnetId) throw new AccountFailure(`no subnet ${a.name} in ${region} to associate with ${p.name}`);
    if (a.associationId) {
      await ec2.send(
        new ReplaceRouteTableAssociationCommand({ AssociationId: a.associationId, RouteTableId: tableId }),
      );
    } else {
      await ec2.send(new AssociateRouteTableCommand({ SubnetId: a.subnetId, RouteTableId: tableId }));
    }
  }
}

/**
 * The VPC's routing (STUPS config/vpc.py create_routing_tables): the main table, named
 * "DMZ Routing Table", sends 0.0.0.0/0 to the internet gateway and serves the dmz subnets; each
 * internal subnet has its own table (named as the subnet) sending 0.0.0.0/0 to the NAT gateway
 * of its zone. A blackholed or wrong default route is replaced; other routes are left alone.
 */
export const routeTables: ResourceModule<Map<string, RegionRoutes>, RouteOp> = {
  kind: 'route-table',
  async read(clients, account) {
    const state = new Map<string, RegionRoutes>();
    for (const region of account.regions) state.set(region, await readRegionRoutes(clients, account, region));
    return state;
  },
  diff(account, current) {
    const changes: PlannedChange<RouteOp>[] = [];
    for (const region of account.regions) {
      const now = current.get(region);
      if (!now) continue;
      for (const p of routePlans(account, region, now).filter(changed)) {
        changes.push({
          account: account.name,
          resource: `route-table/${region}/${p.key}`,
          action: p.table || p.key === 'dmz' ? 'update' : 'create',
          detail: detailOf(p),
          op: { region, key: p.key },
        });
      }
    }
    return changes;
  },
  async apply(clients, account, { op }) {
    // Read again: the table, gateway and subnet ids are those of now (earlier tables of this run included).
    const now = await readRegionRoutes(clients, account, op.region);
    const p = routePlans(account, op.region, now).find((x) => x.key === op.key);
    if (!now.vpc?.VpcId) throw new AccountFailure(`no VPC in ${op.region} for route table ${op.key}`);
    if (!p || !changed(p)) return;
    if (op.key === 'dmz' && !p.table)
      throw new AccountFailure(`the VPC in ${op.region} has no main route table`);
    await applyPlan(clients.ec2(op.region), now.vpc.VpcId, op.region, p);
  },
};
