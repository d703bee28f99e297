import type { ResourceRecordSet } from '@aws-sdk/client-route-53';
import { CliError } from '../../platform/cli/cli-error.js';
import { renderRows } from '../../platform/cli/output.js';
import type { Route53Adapter } from '../aws/route53.js';
import { calculateWeights, PERCENT_RESOLUTION } from '../traffic.js';
import { type CommonOptions, formatOf, type SenzaContext } from './context.js';

interface StackVersion {
  name: string;
  version: string;
  identifier: string;
  /** Main (weighted) domain names, fully qualified with a trailing dot. */
  domains: string[];
  stackId: string;
}

/** Versions of a stack that can take traffic (not rolled back), oldest first. */
async function stackVersions(ctx: SenzaContext, name: string): Promise<StackVersion[]> {
  const cf = await ctx.aws.cloudFormation();
  const versions: StackVersion[] = [];
  const stacks = (await ctx.stacks([{ name }])).filter(
    (s) => !['ROLLBACK_COMPLETE', 'CREATE_FAILED'].includes(s.summary.StackStatus ?? ''),
  );
  for (const stack of stacks.reverse()) {
    const domains = (await cf.describeStackResources(stack.stackName))
      .filter(
        (r) =>
          r.ResourceType === 'AWS::Route53::RecordSet' &&
          r.PhysicalResourceId &&
          !/version/i.test(r.LogicalResourceId ?? ''),
      )
      .map((r) => `${r.PhysicalResourceId!.replace(/\.$/, '')}.`);
    versions.push({
      name: stack.name,
      version: stack.version,
      identifier: stack.stackName,
      domains,
      stackId: stack.summary.StackId ?? stack.stackName,
    });
  }
  return versions;
}

async function zoneFor(r53: Route53Adapter, fqdn: string): Promise<string> {
  const zone = (await r53.hostedZones())
    .filter((z) => fqdn === z.Name || fqdn.endsWith(`.${z.Name}`))
    .sort((a, b) => b.Name!.length - a.Name!.length)[0];
  if (!zone) throw new CliError(`No Route53 hosted zone found for ${fqdn}`);
  return zone.Id!;
}

async function weightedRecords(
  r53: Route53Adapter,
  fqdn: string,
): Promise<{ zoneId: string; records: ResourceRecordSet[] }> {
  const zoneId = await zoneFor(r53, fqdn);
  const records = (await r53.recordSets(zoneId)).filter(
    (r) => r.Name === fqdn && r.SetIdentifier && ['CNAME', 'A', 'AAAA'].includes(r.Type ?? ''),
  );
  return { zoneId, records };
}

/** `senza traffic NAME [VERSION [PERCENTAGE]]`: show or shift the weighted DNS traffic. */
export async function trafficCommand(
  ctx: SenzaContext,
  refArg: string,
  version: string | undefined,
  percentage: string | undefined,
  options: CommonOptions,
): Promise<void> {
  const format = formatOf(options);
  await ctx.checkCredentials();
  const [ref] = ctx.stackRefs([refArg]);
  const versions = await stackVersions(ctx, ref!.name);
  const order = versions.map((v) => v.identifier);
  const target = version ? versions.find((v) => v.version === version) : versions.at(-1);
  if (!target)
    throw new CliError(
      version ? `Stack version ${version} not found` : `No stack version of "${ref!.name}" found`,
      2,
    );
  if (!target.domains.length)
    throw new CliError(`Stack ${target.name} version ${target.version} has no domain`, 2);
  const r53 = await ctx.aws.route53();
  const known = new Map<string, number>();
  for (const domain of target.domains) {
    for (const r of (await weightedRecords(r53, domain)).records) known.set(r.SetIdentifier!, r.Weight ?? 0);
  }
  for (const id of order) if (!known.has(id)) known.set(id, 0);
  const versionOf = (id: string) => versions.find((v) => v.identifier === id)?.version ?? '';
  const sortIds = (ids: Iterable<string>) =>
    [...ids].sort((a, b) => versionOf(a).localeCompare(versionOf(b)));

  if (percentage === undefined) {
    ctx.out(
      renderRows(
        sortIds(known.keys()),
        [
          { title: 'Stack Name', key: 'stack_name', value: () => target.name },
          { title: 'Version', key: 'version', value: (id) => versionOf(id) },
          { title: 'Identifier', key: 'identifier', value: (id) => id },
          { title: 'Weight%', key: 'weight%', value: (id) => known.get(id)! / PERCENT_RESOLUTION },
          ...(version
            ? [
                {
                  title: 'Current',
                  key: 'current',
                  value: (id: string) => (id === target.identifier ? '<' : ''),
                },
              ]
            : []),
        ],
        format,
      ),
    );
    return;
  }
  const percent = Number(percentage);
  if (!(percent >= 0 && percent <= 100) || percentage.trim() === '')
    throw new CliError('PERCENTAGE must be a number between 0 and 100', 2);
  const change = await ctx.action('Calculating new weights', async () =>
    calculateWeights(known, target.identifier, percent, order),
  );
  if (change.warning) ctx.info(change.warning);
  const fullSwitch = Math.max(...change.weights.values()) === 100 * PERCENT_RESOLUTION;
  const half = (n: number | undefined) => (n ? n / PERCENT_RESOLUTION : undefined);
  ctx.out(
    renderRows(
      sortIds(change.weights.keys()),
      [
        { title: 'Stack Name', key: 'stack_name', value: () => target.name },
        { title: 'Version', key: 'version', value: (id) => versionOf(id) },
        { title: 'Identifier', key: 'identifier', value: (id) => id },
        {
          title: 'Old Weight%',
          key: 'old_weight%',
          value: (id) => (known.get(id) ?? 0) / PERCENT_RESOLUTION,
        },
        {
          title: 'Delta',
          key: 'delta',
          value: (id) => {
            const d = change.deltas.get(id);
            const c = change.compensations.get(id);
            return half(fullSwitch && !d && c ? -c : d);
          },
        },
        { title: 'Compensation', key: 'compensation', value: (id) => half(change.compensations.get(id)) },
        {
          title: 'New Weight%',
          key: 'new_weight%',
          value: (id) => change.weights.get(id)! / PERCENT_RESOLUTION,
        },
        { title: 'Current', key: 'current', value: (id) => (id === target.identifier ? '<' : '') },
      ],
      format,
    ),
  );
  await applyWeights(ctx, versions, target.domains, known, change.weights);
}

/**
 * Writes the new weights: into each stack's template (so CloudFormation keeps them) and, when
 * CloudFormation has nothing to update or the record has no stack, directly into Route53.
 */
async function applyWeights(
  ctx: SenzaContext,
  versions: StackVersion[],
  domains: string[],
  old: Map<string, number>,
  weights: Map<string, number>,
): Promise<void> {
  const cf = await ctx.aws.cloudFormation();
  const r53 = await ctx.aws.route53();
  let changed = false;
  await ctx.action(
    `Setting weights for ${domains.map((d) => d.replace(/\.$/, '')).join(', ')}`,
    async () => {
      for (const domain of domains) {
        const { zoneId, records } = await weightedRecords(r53, domain);
        for (const [identifier, weight] of weights) {
          if (old.get(identifier) === weight) continue;
          const record = records.find((r) => r.SetIdentifier === identifier);
          const stack = versions.find((v) => v.identifier === identifier);
          let updatedByStack = false;
          if (stack) {
            const template = await cf.getTemplate(stack.identifier);
            const resources = (template.Resources ?? {}) as Record<
              string,
              { Type?: string; Properties?: Record<string, unknown> }
            >;
            const resource = Object.values(resources).find(
              (r) =>
                r.Type === 'AWS::Route53::RecordSet' &&
                `${String(r.Properties?.Name).replace(/\.$/, '')}.` === domain,
            );
            if (resource?.Properties) {
              resource.Properties.Weight = weight;
              const current = await cf.describeStack(stack.identifier);
              updatedByStack = await cf.updateStack({
                StackName: stack.identifier,
                TemplateBody: JSON.stringify(template),
                Parameters: (current?.Parameters ?? []).map((p) => ({
                  ParameterKey: p.ParameterKey,
                  UsePreviousValue: true,
                })),
                Capabilities: ['CAPABILITY_IAM', 'CAPABILITY_NAMED_IAM'],
                ...(current?.NotificationARNs?.length ? { NotificationARNs: current.NotificationARNs } : {}),
              });
            }
          }
          if (!updatedByStack && record) {
            if (weight || stack) {
              await r53.change(
                zoneId,
                [{ Action: 'UPSERT', ResourceRecordSet: { ...record, Weight: weight } }],
                `Change weight of ${identifier} to ${weight}`,
              );
            } else {
              await r53.change(
                zoneId,
                [{ Action: 'DELETE', ResourceRecordSet: record }],
                `Delete ${identifier} because traffic for it is 0`,
              );
            }
          }
          changed = true;
        }
      }
    },
    'OK',
  );
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- assigned inside the callback above; narrowing cannot see that
  if (!changed) ctx.info('Weights not changed.');
}
