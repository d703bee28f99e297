import type { StackEvent } from '@aws-sdk/client-cloudformation';
import { resolve } from 'node:path';
import { stringify } from 'yaml';
import { CliError } from '../../platform/cli/cli-error.js';
import { AwsCallError } from '../aws/aws-error.js';
import { loadDefinition } from '../definition.js';
import { createStackTemplate, sortedJson, type StackTemplate } from '../evaluate.js';
import { checkDockerImage } from '../image-check.js';
import { readParameterFile } from '../parameters.js';
import type { SenzaContext } from './context.js';

const VERSION = /^[a-zA-Z0-9]+$/;

export interface TemplateOptions {
  parameterFile?: string;
  /** Skip the checks that need other services (the Docker image's existence). */
  force?: boolean;
}

/** Evaluates a definition file for a version: the shared first half of print, create and update. */
export async function buildTemplate(
  ctx: SenzaContext,
  file: string,
  version: string,
  parameters: readonly string[],
  options: TemplateOptions,
): Promise<StackTemplate> {
  if (!VERSION.test(version))
    throw new CliError(`Version "${version}" must satisfy regular expression pattern "[a-zA-Z0-9]+"`, 2);
  const { definition, text, warnings } = await loadDefinition(resolve(ctx.io.cwd, file));
  for (const warning of warnings) ctx.info(warning);
  const fromFile = options.parameterFile
    ? await readParameterFile(resolve(ctx.io.cwd, options.parameterFile))
    : [];
  for (const p of fromFile) {
    const key = p.slice(0, p.indexOf('='));
    if (parameters.some((q) => q.startsWith(`${key}=`))) {
      throw new CliError(
        `Parameter specified multiple times: "${key}" (in the parameter file and on the command line)`,
        2,
      );
    }
  }
  await ctx.checkCredentials();
  return ctx.action('Generating Cloud Formation template', () =>
    createStackTemplate({
      definition,
      text,
      version,
      parameters: [...parameters, ...fromFile],
      aws: ctx.aws,
      warn: (m) => ctx.info(m),
      ...(options.force ? {} : { checkImage: (source: string) => checkDockerImage(source, { io: ctx.io }) }),
    }),
  );
}

export async function printCommand(
  ctx: SenzaContext,
  file: string,
  version: string,
  parameters: string[],
  options: TemplateOptions & { output?: string },
): Promise<void> {
  const data = await buildTemplate(ctx, file, version, parameters, options);
  const format = options.output ?? 'json';
  if (format === 'yaml') ctx.out(stringify(JSON.parse(sortedJson(data.template)), { lineWidth: 0 }));
  else if (format === 'json') ctx.out(`${sortedJson(data.template)}\n`);
  else throw new CliError(`--output must be json or yaml for print (got "${format}")`, 2);
}

export interface CreateOptions extends TemplateOptions {
  region?: string;
  disableRollback?: boolean;
  dryRun?: boolean;
  tag?: string[];
  updateIfExists?: boolean;
  wait?: boolean;
  timeout?: string;
}

export async function createCommand(
  ctx: SenzaContext,
  file: string,
  version: string,
  parameters: string[],
  options: CreateOptions,
): Promise<void> {
  const data = await buildTemplate(ctx, file, version, parameters, options);
  for (const tag of options.tag ?? []) {
    const eq = tag.indexOf('=');
    if (eq <= 0) throw new CliError(`Invalid tag ${tag}. Tags should be in the form of key=value`, 2);
    data.Tags.push({ Key: tag.slice(0, eq), Value: tag.slice(eq + 1) });
  }
  const cf = await ctx.aws.cloudFormation();
  let exists = false;
  await ctx.action(
    `Creating Cloud Formation stack ${data.StackName}`,
    async () => {
      if (options.dryRun) return;
      try {
        await cf.createStack({
          StackName: data.StackName,
          TemplateBody: JSON.stringify(data.template),
          Parameters: data.Parameters,
          Tags: data.Tags,
          NotificationARNs: data.NotificationARNs,
          Capabilities: data.Capabilities,
          DisableRollback: options.disableRollback ?? false,
        });
      } catch (error) {
        if (error instanceof AwsCallError && error.code === 'AlreadyExistsException') {
          if (!options.updateIfExists)
            throw new CliError(`Stack ${data.StackName} already exists. Please choose another version.`);
          exists = true;
          return;
        }
        throw error;
      }
    },
    options.dryRun ? 'DRY-RUN' : 'OK',
  );
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- assigned inside the callback above; narrowing cannot see that
  if (exists) await updateStack(ctx, data, false);
  if (options.wait && !options.dryRun)
    await waitForStacks(ctx, [data.StackName], { timeout: options.timeout });
}

async function updateStack(
  ctx: SenzaContext,
  data: StackTemplate,
  dryRun: boolean,
  disableRollback?: boolean,
): Promise<void> {
  const cf = await ctx.aws.cloudFormation();
  await ctx.action(
    `Updating Cloud Formation stack ${data.StackName}`,
    async () => {
      if (dryRun) return;
      const updated = await cf.updateStack({
        StackName: data.StackName,
        TemplateBody: JSON.stringify(data.template),
        Parameters: data.Parameters,
        Tags: data.Tags,
        NotificationARNs: data.NotificationARNs,
        Capabilities: data.Capabilities,
        ...(disableRollback ? { DisableRollback: true } : {}),
      });
      if (!updated) ctx.io.stderr.write(' (no changes)');
    },
    dryRun ? 'DRY-RUN' : 'OK',
  );
}

export async function updateCommand(
  ctx: SenzaContext,
  file: string,
  version: string,
  parameters: string[],
  options: TemplateOptions & { dryRun?: boolean; disableRollback?: boolean },
): Promise<void> {
  const data = await buildTemplate(ctx, file, version, parameters, options);
  await updateStack(ctx, data, options.dryRun ?? false, options.disableRollback);
}

export async function deleteCommand(
  ctx: SenzaContext,
  refArgs: string[],
  options: { dryRun?: boolean; force?: boolean; ignoreNonExistent?: boolean },
): Promise<void> {
  const refs = ctx.stackRefs(refArgs);
  if (!refs.length) throw new CliError('Please specify at least one stack', 2);
  await ctx.checkCredentials();
  const stacks = await ctx.stacks(refs);
  const allVersioned = refs.every((r) => r.version);
  if (!allVersioned && stacks.length > 1 && !options.dryRun && !options.force) {
    throw new CliError(
      `${stacks.length} matching stacks found. Please use the "--force" flag if you really want to delete multiple stacks.`,
    );
  }
  if (!stacks.length) {
    if (options.ignoreNonExistent) return;
    throw new CliError(`Stack ${refs[0]!.name}${refs[0]!.version ? `-${refs[0]!.version}` : ''} not found!`);
  }
  const cf = await ctx.aws.cloudFormation();
  const r53 = await ctx.aws.route53();
  for (const stack of stacks) {
    if (!options.force) {
      const resources = await cf.describeStackResources(stack.stackName);
      const domains = resources.filter(
        (r) => r.ResourceType === 'AWS::Route53::RecordSet' && r.PhysicalResourceId,
      );
      if (domains.length) {
        const weights = await recordWeights(
          ctx,
          domains.map((d) => d.PhysicalResourceId!),
          stack.stackName,
          r53,
        );
        if (weights.some((w) => w > 0)) {
          throw new CliError(
            `Stack ${stack.stackName} has traffic! Use --force if you really want to delete it`,
          );
        }
      }
    }
    await ctx.action(
      `Deleting Cloud Formation stack ${stack.stackName}`,
      async () => {
        if (!options.dryRun) await cf.deleteStack(stack.stackName);
      },
      options.dryRun ? 'DRY-RUN' : 'OK',
    );
  }
}

/** Weights of the records with this stack's set identifier among the given domain names. */
async function recordWeights(
  ctx: SenzaContext,
  domains: string[],
  identifier: string,
  r53: Awaited<ReturnType<SenzaContext['aws']['route53']>>,
): Promise<number[]> {
  const zones = await r53.hostedZones();
  const weights: number[] = [];
  for (const domain of domains) {
    const fqdn = `${domain.replace(/\.$/, '')}.`;
    const zone = zones
      .filter((z) => fqdn.endsWith(`.${z.Name}`))
      .sort((a, b) => b.Name!.length - a.Name!.length)[0];
    if (!zone) continue;
    for (const record of await r53.recordSets(zone.Id!)) {
      if (record.Name === fqdn && record.SetIdentifier === identifier) weights.push(record.Weight ?? 0);
    }
  }
  return weights;
}

const isFailure = (e: StackEvent) =>
  Boolean(e.ResourceStatusReason) && /FAIL|ROLLBACK/.test(e.ResourceStatus ?? '');

/**
 * Polls until every stack is complete (or deleted). Prints new stack events as they arrive,
 * and fails (exit code 1) on ROLLBACK/FAILED states, listing the failure events.
 */
export async function waitForStacks(
  ctx: SenzaContext,
  stackNames: string[] | undefined,
  options: { deletion?: boolean; timeout?: string; interval?: string; refArgs?: string[] },
): Promise<void> {
  const timeout = Math.min(Math.max(Number(options.timeout ?? 1800), 0), 7200) * 1000;
  const interval = Math.min(Math.max(Number(options.interval ?? 5), 1), 600) * 1000;
  const targets = options.deletion ? ['DELETE_COMPLETE'] : ['CREATE_COMPLETE', 'UPDATE_COMPLETE'];
  const started = ctx.now().getTime();
  const cf = await ctx.aws.cloudFormation();
  const seenEvents = new Set<string>();
  const refs = stackNames
    ? stackNames.map((n) => ({
        name: n.slice(0, n.lastIndexOf('-')),
        version: n.slice(n.lastIndexOf('-') + 1),
      }))
    : ctx.stackRefs(options.refArgs ?? []);
  for (;;) {
    const stacks = await ctx.stacks(refs, { all: true, uniqueOnly: true });
    if (!stacks.length)
      throw new CliError(`No matching stack for "${(stackNames ?? options.refArgs ?? []).join(' ')}" found`);
    const inProgress: string[] = [];
    const done: string[] = [];
    const actions = new Set<string>();
    for (const stack of stacks) {
      const status = stack.summary.StackStatus ?? '';
      if (status !== 'DELETE_COMPLETE') {
        const events = (await cf.describeStackEvents(stack.summary.StackId ?? stack.stackName)).reverse();
        for (const e of events) {
          if (seenEvents.has(e.EventId!)) continue;
          seenEvents.add(e.EventId!);
          ctx.info(
            `${stack.stackName} ${e.ResourceType} ${e.LogicalResourceId} ${e.ResourceStatus}${e.ResourceStatusReason ? ` ${e.ResourceStatusReason}` : ''}`,
          );
        }
        if (!targets.includes(status) && !status.endsWith('_IN_PROGRESS')) {
          for (const e of events.filter(isFailure))
            ctx.info(`ERROR: ${e.LogicalResourceId} ${e.ResourceStatus}: ${e.ResourceStatusReason}`);
          throw new CliError(`ERROR: Stack ${stack.stackName} has status ${status}`);
        }
      }
      if (targets.includes(status)) {
        done.push(stack.stackName);
        actions.add(`${status.split('_')[0]!.toLowerCase()}d`);
      } else if (status.endsWith('_IN_PROGRESS')) inProgress.push(`${stack.stackName} (${status})`);
      else throw new CliError(`ERROR: Stack ${stack.stackName} has status ${status}`);
    }
    if (!inProgress.length) {
      ctx.info(`OK: Stack(s) ${done.sort().join(', ')} ${[...actions].join('/')} successfully.`);
      return;
    }
    const left = timeout - (ctx.now().getTime() - started);
    if (left <= 0) throw new CliError(`Timeout: stack(s) still in progress: ${inProgress.join(', ')}`);
    ctx.info(
      `Waiting up to ${Math.round(left / 1000)} more secs for stack${inProgress.length > 1 ? 's' : ''} ${inProgress.sort().join(', ')}..`,
    );
    await ctx.sleep(interval);
  }
}
