import type { AccountInfo } from '../account-info.js';
import type { SenzaAws } from '../aws/senza-aws.js';
import type { Arguments } from '../parameters.js';

/** A CloudFormation template being built: plain JSON, sections created on demand. */
export interface CfTemplate {
  AWSTemplateFormatVersion: string;
  Description?: string;
  Parameters?: Record<string, Record<string, unknown>>;
  Mappings?: Record<string, Record<string, Record<string, unknown>>>;
  Resources: Record<string, CfResource>;
  Outputs?: Record<string, unknown>;
  [section: string]: unknown;
}

export interface CfResource {
  Type: string;
  Properties?: Record<string, unknown>;
  [attribute: string]: unknown;
}

/** SenzaInfo after templating, with the stack version of this run. */
export interface StackInfo {
  StackName: string;
  StackVersion: string;
  OperatorTopicId?: string;
  Parameters?: Record<string, Record<string, unknown>>[];
  [key: string]: unknown;
}

/** What a component sees: its name and YAML path, the stack, the arguments and AWS. */
export interface ComponentContext {
  /** The component's name, e.g. `AppServer`; most resources are named after it. */
  name: string;
  /** Where the component is in the definition, e.g. `SenzaComponents[1].AppServer`; errors start with it. */
  path: string;
  info: StackInfo;
  args: Arguments;
  region: string;
  aws: SenzaAws;
  account: AccountInfo;
  template: CfTemplate;
  /** Names of all components of the definition (a group may refer to a load balancer defined after it). */
  componentNames: readonly string[];
  /** Warnings for the user (stderr), e.g. an internet-facing load balancer. */
  warn(message: string): void;
  /** Checks that a Taupage `source` image exists; absent with `--force`. */
  checkImage?: ((source: string) => Promise<void>) | undefined;
}

/** A component adds resources, mappings or parameters to the template. */
export type Component = (properties: Record<string, unknown>, context: ComponentContext) => Promise<void>;

export function mapping(template: CfTemplate, name: string): Record<string, Record<string, unknown>> {
  template.Mappings ??= {};
  return (template.Mappings[name] ??= {});
}

/** The standard Name / StackName / StackVersion tags Senza puts on everything it creates. */
export function stackTags(info: StackInfo, propagate?: boolean): Record<string, unknown>[] {
  const tag = (Key: string, Value: string) =>
    propagate === undefined ? { Key, Value } : { Key, PropagateAtLaunch: propagate, Value };
  return [
    tag('Name', `${info.StackName}-${info.StackVersion}`),
    tag('StackName', info.StackName),
    tag('StackVersion', info.StackVersion),
  ];
}
