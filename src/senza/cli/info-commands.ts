import type { Instance } from '@aws-sdk/client-ec2';
import { CliError } from '../../platform/cli/cli-error.js';
import { type Column, relativeTime, renderRows } from '../../platform/cli/output.js';
import { TAUPAGE_CHANNELS } from '../components/stups-auto-configuration.js';
import { matchesAny, splitStackName } from '../stack-ref.js';
import { type CommonOptions, formatOf, type SenzaContext } from './context.js';

const shortType = (type: string | undefined) => (type?.startsWith('AWS::') ? type.slice(5) : type);
const tag = (tags: { Key?: string; Value?: string }[] | undefined, key: string) =>
  tags?.find((t) => t.Key === key)?.Value;

function timeColumn<Row>(
  ctx: SenzaContext,
  options: CommonOptions,
  title: string,
  key: string,
  get: (r: Row) => Date | undefined,
): Column<Row> {
  const text = formatOf(options) === 'text';
  return {
    title,
    key,
    value: (r) => {
      const d = get(r);
      return d ? (text ? relativeTime(d, ctx.now()) : d.toISOString()) : undefined;
    },
  };
}

export async function listCommand(
  ctx: SenzaContext,
  refArgs: string[],
  options: CommonOptions & { all?: boolean },
): Promise<void> {
  const format = formatOf(options);
  await ctx.checkCredentials();
  const refs = ctx.stackRefs(refArgs);
  await ctx.watching(options, async () => {
    const stacks = (await ctx.stacks(refs, { all: options.all ?? false })).sort((a, b) =>
      a.name === b.name ? a.version.localeCompare(b.version) : a.name.localeCompare(b.name),
    );
    ctx.out(
      renderRows(
        stacks,
        [
          { title: 'Stack Name', key: 'stack_name', value: (s) => s.name },
          { title: 'Ver.', key: 'version', value: (s) => s.version },
          { title: 'Status', key: 'status', value: (s) => s.summary.StackStatus },
          timeColumn(ctx, options, 'Created', 'creation_time', (s) => s.summary.CreationTime),
          { title: 'Description', key: 'description', value: (s) => s.summary.TemplateDescription },
        ],
        format,
      ),
    );
  });
}

export async function resourcesCommand(
  ctx: SenzaContext,
  refArgs: string[],
  options: CommonOptions,
): Promise<void> {
  const format = formatOf(options);
  await ctx.checkCredentials();
  const refs = ctx.stackRefs(refArgs);
  const cf = await ctx.aws.cloudFormation();
  await ctx.watching(options, async () => {
    const rows = [];
    for (const stack of await ctx.stacks(refs)) {
      for (const r of await cf.describeStackResources(stack.stackName)) rows.push({ stack, r });
    }
    ctx.out(
      renderRows(
        rows,
        [
          { title: 'Stack Name', key: 'stack_name', value: (x) => x.stack.name },
          { title: 'Ver.', key: 'version', value: (x) => x.stack.version },
          { title: 'Resource ID', key: 'logical_resource_id', value: (x) => x.r.LogicalResourceId },
          { title: 'Type', key: 'resource_type', value: (x) => shortType(x.r.ResourceType) },
          { title: 'Status', key: 'resource_status', value: (x) => x.r.ResourceStatus },
          timeColumn(ctx, options, 'Modified', 'creation_time', (x) => x.r.Timestamp),
        ],
        format,
      ),
    );
  });
}

export async function eventsCommand(
  ctx: SenzaContext,
  refArgs: string[],
  options: CommonOptions,
): Promise<void> {
  const format = formatOf(options);
  await ctx.checkCredentials();
  const refs = ctx.stackRefs(refArgs);
  const cf = await ctx.aws.cloudFormation();
  await ctx.watching(options, async () => {
    const rows = [];
    for (const stack of await ctx.stacks(refs)) {
      for (const e of await cf.describeStackEvents(stack.stackName)) rows.push({ stack, e });
    }
    rows.sort((a, b) => (a.e.Timestamp?.getTime() ?? 0) - (b.e.Timestamp?.getTime() ?? 0));
    ctx.out(
      renderRows(
        rows,
        [
          { title: 'Stack Name', key: 'stack_name', value: (x) => x.stack.name },
          { title: 'Ver.', key: 'version', value: (x) => x.stack.version },
          { title: 'Resource Type', key: 'resource_type', value: (x) => shortType(x.e.ResourceType) },
          { title: 'Resource ID', key: 'logical_resource_id', value: (x) => x.e.LogicalResourceId },
          { title: 'Status', key: 'resource_status', value: (x) => x.e.ResourceStatus },
          { title: 'Status Reason', key: 'resource_status_reason', value: (x) => x.e.ResourceStatusReason },
          timeColumn(ctx, options, 'Event Time', 'event_time', (x) => x.e.Timestamp),
        ],
        format,
      ),
    );
  });
}

async function stackInstances(
  ctx: SenzaContext,
  refArgs: string[],
  terminated: boolean,
): Promise<Instance[]> {
  const refs = ctx.stackRefs(refArgs);
  const filters = terminated
    ? []
    : [
        {
          Name: 'instance-state-name',
          Values: ['pending', 'running', 'stopping', 'stopped', 'shutting-down'],
        },
      ];
  const instances = await (await ctx.aws.ec2()).describeInstances(filters);
  return instances.filter((i) => {
    const stackName = tag(i.Tags, 'aws:cloudformation:stack-name') ?? tag(i.Tags, 'Name');
    return stackName !== undefined && matchesAny(refs, stackName);
  });
}

export async function instancesCommand(
  ctx: SenzaContext,
  refArgs: string[],
  options: CommonOptions & { terminated?: boolean },
): Promise<void> {
  const format = formatOf(options);
  await ctx.checkCredentials();
  await ctx.watching(options, async () => {
    const instances = await stackInstances(ctx, refArgs, options.terminated ?? false);
    const rows = instances.map((i) => {
      const [name, version] = splitStackName(
        tag(i.Tags, 'aws:cloudformation:stack-name') ?? tag(i.Tags, 'Name') ?? '',
      );
      return { i, name, version };
    });
    ctx.out(
      renderRows(
        rows,
        [
          { title: 'Stack Name', key: 'stack_name', value: (x) => x.name },
          { title: 'Ver.', key: 'version', value: (x) => x.version },
          {
            title: 'Resource ID',
            key: 'resource_id',
            value: (x) => tag(x.i.Tags, 'aws:cloudformation:logical-id'),
          },
          { title: 'Instance ID', key: 'instance_id', value: (x) => x.i.InstanceId },
          { title: 'Public IP', key: 'public_ip', value: (x) => x.i.PublicIpAddress },
          { title: 'Private IP', key: 'private_ip', value: (x) => x.i.PrivateIpAddress },
          { title: 'State', key: 'state', value: (x) => x.i.State?.Name?.toUpperCase() },
          timeColumn(ctx, options, 'Launched', 'launch_time', (x) => x.i.LaunchTime),
        ],
        format,
      ),
    );
  });
}

/** Instance id → ELB/ALB health state for every load balancer of the stack. */
async function instanceHealth(ctx: SenzaContext, stackName: string): Promise<Map<string, string>> {
  const health = new Map<string, string>();
  for (const r of await (await ctx.aws.cloudFormation()).describeStackResources(stackName)) {
    if (!r.PhysicalResourceId) continue;
    if (r.ResourceType === 'AWS::ElasticLoadBalancing::LoadBalancer') {
      for (const s of await (await ctx.aws.elb()).instanceHealth(r.PhysicalResourceId))
        health.set(s.InstanceId!, s.State!);
    } else if (r.ResourceType === 'AWS::ElasticLoadBalancingV2::TargetGroup') {
      for (const t of await (await ctx.aws.elbV2()).targetHealth(r.PhysicalResourceId)) {
        // ALB "healthy" is ELB's "InService".
        health.set(
          t.Target!.Id!,
          t.TargetHealth?.State === 'healthy' ? 'InService' : (t.TargetHealth?.State ?? ''),
        );
      }
    }
  }
  return health;
}

/** How long `status` waits for the version domain to answer, as documented (1 s). */
const HTTP_STATUS_TIMEOUT_MS = 1000;

/** `GET https://<version domain>/`: the status code, or `ERROR` when nothing answers in time. */
async function httpStatus(ctx: SenzaContext, domain: string): Promise<number | 'ERROR'> {
  try {
    const response = await ctx.fetch(`https://${domain}/`, {
      redirect: 'manual',
      signal: AbortSignal.timeout(HTTP_STATUS_TIMEOUT_MS),
    });
    await response.body?.cancel();
    return response.status;
  } catch {
    return 'ERROR';
  }
}

/**
 * The HTTP and Main DNS columns: the stack's Route53 records, looked up in their zones. A
 * weighted record (one with a set identifier) is the main domain, which resolves to this version
 * when this stack's record has a weight above 0, as `senza traffic` sets it; any other record is
 * the version domain, which gets one HTTP GET.
 */
async function domainStatus(
  ctx: SenzaContext,
  stackName: string,
): Promise<{ http: number | 'ERROR' | null; mainDns: boolean }> {
  const recordSets = (await (await ctx.aws.cloudFormation()).describeStackResources(stackName)).filter(
    (r) => r.ResourceType === 'AWS::Route53::RecordSet' && r.PhysicalResourceId,
  );
  let http: number | 'ERROR' | null = null;
  let mainDns = false;
  if (!recordSets.length) return { http, mainDns };
  const r53 = await ctx.aws.route53();
  const zones = await r53.hostedZones();
  const recordsByZone = new Map<string, Awaited<ReturnType<typeof r53.recordSets>>>();
  for (const resource of recordSets) {
    const fqdn = `${resource.PhysicalResourceId!.replace(/\.$/, '')}.`;
    const zone = zones
      .filter((z) => fqdn.endsWith(`.${z.Name}`))
      .sort((a, b) => b.Name!.length - a.Name!.length)[0];
    if (zone && !recordsByZone.has(zone.Id!)) recordsByZone.set(zone.Id!, await r53.recordSets(zone.Id!));
    const records = (zone ? recordsByZone.get(zone.Id!)! : []).filter((r) => r.Name === fqdn);
    // Senza names the records `<LB>MainDomain` and `<LB>VersionDomain`.
    if (records.some((r) => r.SetIdentifier) || resource.LogicalResourceId?.endsWith('MainDomain')) {
      if (records.some((r) => r.SetIdentifier === stackName && (r.Weight ?? 0) > 0)) mainDns = true;
    } else if (http === null || http === 'ERROR') {
      http = await httpStatus(ctx, fqdn.slice(0, -1));
    }
  }
  return { http, mainDns };
}

export async function statusCommand(
  ctx: SenzaContext,
  refArgs: string[],
  options: CommonOptions,
): Promise<void> {
  const format = formatOf(options);
  await ctx.checkCredentials();
  const refs = ctx.stackRefs(refArgs);
  const ec2 = await ctx.aws.ec2();
  await ctx.watching(options, async () => {
    const rows = [];
    for (const stack of await ctx.stacks(refs)) {
      const health = await instanceHealth(ctx, stack.stackName);
      const instances = await ec2.describeInstances([{ Name: 'tag:Name', Values: [stack.stackName] }]);
      const live = instances.filter((i) => i.State?.Name !== 'terminated');
      const domains = await domainStatus(ctx, stack.stackName);
      rows.push({
        stack,
        ...domains,
        total: live.length,
        running: live.filter((i) => i.State?.Name === 'running').length,
        healthy: [...health.values()].filter((s) => s === 'InService').length,
        lb: [...new Set(health.values())].sort().join(','),
      });
    }
    ctx.out(
      renderRows(
        rows,
        [
          { title: 'Stack Name', key: 'stack_name', value: (x) => x.stack.name },
          { title: 'Ver.', key: 'version', value: (x) => x.stack.version },
          { title: 'Status', key: 'status', value: (x) => x.stack.summary.StackStatus },
          { title: 'Inst.#', key: 'total_instances', value: (x) => x.total },
          { title: 'Running', key: 'running_instances', value: (x) => x.running },
          { title: 'Healthy', key: 'healthy_instances', value: (x) => x.healthy },
          { title: 'LB Status', key: 'lb_status', value: (x) => x.lb },
          { title: 'HTTP', key: 'http_status', value: (x) => x.http },
          {
            title: 'Main DNS',
            key: 'main_dns',
            value: (x) => (format === 'json' ? x.mainDns : x.mainDns ? 'yes' : 'no'),
          },
        ],
        format,
      ),
    );
  });
}

export async function domainsCommand(
  ctx: SenzaContext,
  refArgs: string[],
  options: CommonOptions,
): Promise<void> {
  const format = formatOf(options);
  await ctx.checkCredentials();
  const refs = ctx.stackRefs(refArgs);
  const cf = await ctx.aws.cloudFormation();
  const r53 = await ctx.aws.route53();
  await ctx.watching(options, async () => {
    const zones = await r53.hostedZones();
    const recordsByZone = new Map<string, Awaited<ReturnType<typeof r53.recordSets>>>();
    const rows = [];
    for (const stack of await ctx.stacks(refs)) {
      for (const r of await cf.describeStackResources(stack.stackName)) {
        if (r.ResourceType !== 'AWS::Route53::RecordSet' || !r.PhysicalResourceId) continue;
        const fqdn = `${r.PhysicalResourceId.replace(/\.$/, '')}.`;
        const zone = zones
          .filter((z) => fqdn.endsWith(`.${z.Name}`))
          .sort((a, b) => b.Name!.length - a.Name!.length)[0];
        if (!zone) continue;
        if (!recordsByZone.has(zone.Id!)) recordsByZone.set(zone.Id!, await r53.recordSets(zone.Id!));
        const record = recordsByZone
          .get(zone.Id!)!
          .find((rec) => rec.Name === fqdn && (!rec.SetIdentifier || rec.SetIdentifier === stack.stackName));
        rows.push({
          stack,
          r,
          domain: r.PhysicalResourceId.replace(/\.$/, ''),
          weight: record?.Weight,
          type: record?.Type,
          value: record?.AliasTarget?.DNSName ?? record?.ResourceRecords?.map((x) => x.Value).join(','),
        });
      }
    }
    ctx.out(
      renderRows(
        rows,
        [
          { title: 'Stack Name', key: 'stack_name', value: (x) => x.stack.name },
          { title: 'Ver.', key: 'version', value: (x) => x.stack.version },
          { title: 'Resource ID', key: 'resource_id', value: (x) => x.r.LogicalResourceId },
          { title: 'Domain', key: 'domain', value: (x) => x.domain },
          { title: 'Weight', key: 'weight', value: (x) => x.weight },
          { title: 'Type', key: 'type', value: (x) => x.type },
          { title: 'Value', key: 'value', value: (x) => x.value },
          timeColumn(ctx, options, 'Create Time', 'creation_time', (x) => x.r.Timestamp),
        ],
        format,
      ),
    );
  });
}

const IP = /^\d{1,3}(\.\d{1,3}){3}$/;

export async function consoleCommand(
  ctx: SenzaContext,
  args: string[],
  options: CommonOptions & { limit?: string },
): Promise<void> {
  const limit = Number(options.limit ?? 25);
  if (!Number.isInteger(limit) || limit < 1) throw new CliError('--limit must be a positive whole number', 2);
  await ctx.checkCredentials();
  const ec2 = await ctx.aws.ec2();
  await ctx.watching(options, async () => {
    let instances: Instance[];
    const ips = args.filter((a) => IP.test(a));
    const ids = args.filter((a) => /^i-[0-9a-f]+$/.test(a));
    if (ips.length || ids.length) {
      instances = [
        ...(ips.length ? await ec2.describeInstances([{ Name: 'private-ip-address', Values: ips }]) : []),
        ...(ids.length ? await ec2.describeInstances([], ids) : []),
      ];
    } else instances = await stackInstances(ctx, args, false);
    if (!instances.length) throw new CliError(`No instances found for ${args.join(' ') || 'any stack'}`);
    for (const i of instances) {
      const output = await ec2.consoleOutput(i.InstanceId!);
      const lines = output
        .split(/\r?\n/)
        .filter((l, n, all) => n < all.length - 1 || l)
        .slice(-limit);
      ctx.out(`Showing last ${limit} lines of ${i.PrivateIpAddress ?? ''}/${i.InstanceId}..\n`);
      ctx.out(lines.length ? `${lines.join('\n')}\n` : '(no console output yet)\n');
    }
  });
}

export async function imagesCommand(
  ctx: SenzaContext,
  refArgs: string[],
  options: CommonOptions & { hideOlderThan?: string; showInstances?: boolean },
): Promise<void> {
  const format = formatOf(options);
  await ctx.checkCredentials();
  const refs = ctx.stackRefs(refArgs);
  const ec2 = await ctx.aws.ec2();
  const instances = (await ec2.describeInstances([])).filter((i) => i.State?.Name !== 'terminated');
  const byImage = new Map<string, Instance[]>();
  for (const i of instances) {
    const stackName = tag(i.Tags, 'aws:cloudformation:stack-name');
    if (refs.length && !(stackName && matchesAny(refs, stackName))) continue;
    byImage.set(i.ImageId!, [...(byImage.get(i.ImageId!) ?? []), i]);
  }
  const images = new Map(
    (await ec2.describeImages({ imageIds: [...byImage.keys()] })).map((im) => [im.ImageId!, im]),
  );
  if (!refs.length) {
    for (const channel of Object.values(TAUPAGE_CHANNELS)) {
      for (const pattern of [channel.private, channel.public]) {
        const found = await ec2.describeImages({
          filters: [
            { Name: 'name', Values: [pattern] },
            { Name: 'state', Values: ['available'] },
          ],
        });
        for (const im of found) images.set(im.ImageId!, im);
      }
    }
  }
  const cutoff = ctx.now().getTime() - Number(options.hideOlderThan ?? 21) * 86_400_000;
  const rows = [...images.values()]
    .map((im) => {
      const users = byImage.get(im.ImageId!) ?? [];
      const stacks = [
        ...new Set(users.map((i) => tag(i.Tags, 'aws:cloudformation:stack-name')).filter(Boolean)),
      ].sort();
      return { im, users, stacks, created: im.CreationDate ? new Date(im.CreationDate) : undefined };
    })
    .filter((r) => r.created && (r.created.getTime() > cutoff || r.users.length))
    .sort((a, b) => (a.im.Name ?? '').localeCompare(b.im.Name ?? ''));
  ctx.out(
    renderRows(
      rows,
      [
        { title: 'ID', key: 'ImageId', value: (r) => r.im.ImageId },
        { title: 'Name', key: 'Name', value: (r) => r.im.Name },
        { title: 'Owner', key: 'OwnerId', value: (r) => r.im.OwnerId },
        { title: 'Description', key: 'Description', value: (r) => r.im.Description },
        { title: 'Stacks', key: 'stacks', value: (r) => r.stacks.join(', ') },
        options.showInstances
          ? {
              title: 'Instances',
              key: 'instances',
              value: (r) =>
                r.users
                  .map((i) => i.InstanceId)
                  .sort()
                  .join(', '),
            }
          : { title: 'Inst.#', key: 'total_instances', value: (r) => r.users.length },
        timeColumn(ctx, options, 'Created', 'creation_time', (r) => r.created),
      ],
      format,
    ),
  );
}
