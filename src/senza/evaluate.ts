import type { Capability, Parameter, Tag } from '@aws-sdk/client-cloudformation';
import { CliError } from '../platform/cli/cli-error.js';
import { InputError } from '../platform/errors.js';
import { AccountInfo } from './account-info.js';
import type { SenzaAws } from './aws/senza-aws.js';
import type { CfTemplate, ComponentContext, StackInfo } from './components/component.js';
import { componentOf } from './components/registry.js';
import { type Definition, namedValue } from './definition.js';
import { type Arguments, parseArguments } from './parameters.js';
import { renderTree, usedAccountInfo } from './templating.js';

const SENZA_KMS_PREFIX = 'senza:kms:';

export interface EvaluateOptions {
  definition: Definition;
  /** The definition's YAML text: only the `AccountInfo.*` names it mentions are looked up. */
  text: string;
  version: string;
  parameters: readonly string[];
  aws: SenzaAws;
  warn?: (message: string) => void;
  /** Checks that a Taupage `source` image exists (skipped with `--force`). */
  checkImage?: (source: string) => Promise<void>;
}

/** What `create`/`update` send to CloudFormation and `print` prints. */
export interface StackTemplate {
  StackName: string;
  template: CfTemplate;
  Parameters: Parameter[];
  Tags: Tag[];
  NotificationARNs: string[];
  Capabilities: Capability[];
}

const titleCase = (s: string) => s.replace(/\b\w/g, (c) => c.toUpperCase()).replace(/-/g, ' ');

/** `senza:kms:<base64>` values in SenzaInfo are decrypted by Senza (not by Taupage) before use. */
async function decryptInfo(info: StackInfo, aws: SenzaAws): Promise<void> {
  for (const [key, value] of Object.entries(info)) {
    if (typeof value === 'string' && value.startsWith(SENZA_KMS_PREFIX)) {
      info[key] = await (await aws.kms()).decrypt(value.slice(SENZA_KMS_PREFIX.length));
    }
  }
}

/** The plain CloudFormation sections of a definition, as written (YAML `Resources:` alone is null). */
interface WrittenSections {
  Resources?: CfTemplate['Resources'] | null;
  Mappings?: CfTemplate['Mappings'] | null;
  [section: string]: unknown;
}

/**
 * Evaluates a definition into a CloudFormation template: parameters, mustache templating of
 * SenzaInfo and then of the rest, and every component in order.
 */
export async function evaluateDefinition(
  options: EvaluateOptions,
): Promise<{ template: CfTemplate; args: Arguments; info: StackInfo }> {
  const { definition, aws } = options;
  const account = new AccountInfo(aws);
  const accountValues = await account.values(usedAccountInfo(options.text));
  const args = parseArguments(definition, options.parameters, accountValues);
  const templateArgs = { ...args, region: aws.region, version: options.version };

  const info = renderTree(
    { ...definition.SenzaInfo, StackVersion: options.version },
    { Arguments: templateArgs, AccountInfo: accountValues },
  ) as StackInfo;
  await decryptInfo(info, aws);
  const { SenzaInfo: _info, SenzaComponents: rawComponents, ...rest } = definition;
  const rendered = renderTree(
    { ...rest, SenzaComponents: rawComponents ?? [] },
    { SenzaInfo: info, Arguments: templateArgs, AccountInfo: accountValues },
  );
  const { SenzaComponents: components, ...sections } = rendered;
  // The definition may leave out (or leave empty) the sections the components fill in.
  const written: WrittenSections = sections;
  const template: CfTemplate = {
    AWSTemplateFormatVersion: '2010-09-09',
    ...written,
    Resources: written.Resources ?? {},
    Mappings: { ...written.Mappings, Senza: { Info: info } },
  };

  const named = components.map((c, i) => namedValue(c, `SenzaComponents[${i}]`));
  const componentNames = named.map(([name]) => name);
  // Every component is checked even after one is found wrong, so that one run names every
  // problem of the definition (as schema problems within one component already are).
  const problems: string[] = [];
  for (const [i, [name, properties]] of named.entries()) {
    const path = `SenzaComponents[${i}].${name}`;
    const context: ComponentContext = {
      name,
      path,
      info,
      args,
      region: aws.region,
      aws,
      account,
      template,
      componentNames,
      warn: options.warn ?? (() => {}),
      checkImage: options.checkImage,
    };
    try {
      await componentOf(properties.Type, path)(properties, context);
    } catch (error) {
      if (error instanceof InputError) {
        problems.push(...problemLines(error));
        continue;
      }
      // An AWS failure after a definition problem is likely its consequence: the cause goes first.
      if (problems.length > 0) break;
      throw error;
    }
  }
  if (problems.length > 0) {
    throw new InputError(problems.join('\n'), { code: 'DEFINITION_INVALID', details: { problems } });
  }

  if (template.Description === undefined) {
    const params = Object.entries(args)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => `${k}: ${v}`)
      .join(', ');
    template.Description = `${titleCase(info.StackName)} (${params})`.slice(0, 1024);
  }
  return { template, args, info };
}

/** The problems an InputError lists (schema errors carry them one per line in `details`). */
function problemLines(error: InputError): string[] {
  const listed = error.details?.problems;
  if (Array.isArray(listed) && listed.every((p): p is string => typeof p === 'string')) return listed;
  return error.message.split('\n');
}

/** IAM resources need CAPABILITY_IAM, named ones CAPABILITY_NAMED_IAM. */
export function requiredCapabilities(template: CfTemplate): Capability[] {
  const caps = new Set<Capability>();
  for (const resource of Object.values(template.Resources)) {
    if (resource.Type.startsWith('AWS::IAM'))
      caps.add(resource.Properties?.RoleName ? 'CAPABILITY_NAMED_IAM' : 'CAPABILITY_IAM');
  }
  return [...caps];
}

/** Everything `create` needs: template, stack name, parameters, tags, notification topics. */
export async function createStackTemplate(options: EvaluateOptions): Promise<StackTemplate> {
  const { template, args, info } = await evaluateDefinition(options);
  const stackName = `${info.StackName}-${info.StackVersion}`;
  if (stackName.length > 128) {
    throw new CliError(
      `Stack name "${stackName}" cannot exceed 128 characters. Please choose another name/version.`,
    );
  }
  const tags: Record<string, string> = {};
  const senzaTags = info.Tags;
  if (Array.isArray(senzaTags)) for (const t of senzaTags) Object.assign(tags, t);
  else if (senzaTags && typeof senzaTags === 'object') Object.assign(tags, senzaTags);
  Object.assign(tags, { Name: stackName, StackName: info.StackName, StackVersion: info.StackVersion });
  info.Tags = Object.entries(tags).map(([k, v]) => ({ [k]: String(v) }));

  let topics: string[] = [];
  if (info.OperatorTopicId) {
    const topic = info.OperatorTopicId;
    topics = [
      topic.startsWith('arn:')
        ? topic
        : `arn:aws:sns:${options.aws.region}:${await new AccountInfo(options.aws).get('AccountID')}:${topic}`,
    ];
  }
  return {
    StackName: stackName,
    template,
    Parameters: Object.keys(template.Parameters ?? {}).map((name) => ({
      ParameterKey: name,
      ParameterValue: args[name],
    })),
    Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value: String(Value) })),
    NotificationARNs: topics,
    Capabilities: requiredCapabilities(template),
  };
}

/** JSON with sorted keys, the way `senza print` always printed it (stable diffs). */
export function sortedJson(value: unknown, indent = 4): string {
  const sort = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sort);
    if (v && typeof v === 'object' && !(v instanceof Date)) {
      return Object.fromEntries(
        Object.keys(v)
          .sort()
          .map((k) => [k, sort((v as Record<string, unknown>)[k])]),
      );
    }
    return v;
  };
  return JSON.stringify(sort(value), null, indent);
}
