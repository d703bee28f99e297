import { isDeepStrictEqual } from 'node:util';
import {
  type CloudFormationClient,
  CreateStackCommand,
  DescribeStacksCommand,
  GetTemplateCommand,
  type Parameter,
  type Stack,
  UpdateStackCommand,
  waitUntilStackCreateComplete,
  waitUntilStackUpdateComplete,
} from '@aws-sdk/client-cloudformation';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import type { AccountClients } from '../aws/clients.js';
import { AccountFailure } from '../aws/login.js';
import { fillTemplate } from '../config.js';
import type { AccountConfig } from '../contract.js';
import { dmzSubnets } from './nat-gateways.js';
import { readRegionNetwork, type RegionNetwork, vpcCidr } from './network.js';
import { awsErrorName, type PlannedChange, type ResourceModule } from './resource.js';
import { amiAccount, taupageImages } from './taupage-images.js';

/** The stack STUPS named (config/bastion.py), with the resources it named. */
export const ODD_STACK = 'Odd';
export const ODD_NAME = 'Odd (SSH Bastion Host)';
const DEFAULT_INSTANCE_TYPE = 't3.micro';
/** How long configure waits for the stack (an instance start and its checks). */
const STACK_WAIT_SECONDS = 900;

/** The stack's parameters: what changes without the template changing. */
export type OddParameters = Record<string, string>;

interface RegionOdd {
  network: RegionNetwork;
  /** The newest Taupage image of the AMI account in the region. */
  imageId?: string;
  stack?: Stack;
  /** The template the stack runs now, parsed. */
  template?: unknown;
}

interface OddOp {
  region: string;
  create: boolean;
}

const fqdn = (d: string) => (d.endsWith('.') ? d : `${d}.`);

/** The odd host's user data: the Taupage configuration (`bastion.ami_config`) as STUPS wrote it. */
export function oddUserData(account: AccountConfig, region: string): string | undefined {
  const config = account.bastion?.ami_config;
  if (!config) return undefined;
  const filled = fillTemplate(config, { region, vpc_net: vpcCidr(account, region) });
  return `#taupage-ami-config\n${toYaml(filled)}`;
}

/**
 * The built-in Odd template: the host from the Taupage image in a dmz subnet, a security group
 * letting in SSH from each trusted network, an Elastic IP (kept when the instance is replaced)
 * and, when the account has a domain, the record odd-<region>.<domain> pointing at it.
 */
export function oddTemplate(account: AccountConfig, region: string): Record<string, unknown> {
  const userData = oddUserData(account, region);
  const resources: Record<string, unknown> = {
    OddSecurityGroup: {
      Type: 'AWS::EC2::SecurityGroup',
      Properties: {
        GroupDescription: 'SSH access to the odd bastion host from the trusted networks',
        VpcId: { Ref: 'VpcId' },
        SecurityGroupIngress: Object.entries(account.trusted_networks ?? {})
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([name, cidr]) => ({
            IpProtocol: 'tcp',
            FromPort: 22,
            ToPort: 22,
            CidrIp: cidr,
            Description: `SSH from ${name}`,
          })),
        Tags: [{ Key: 'Name', Value: ODD_NAME }],
      },
    },
    OddServerInstance: {
      Type: 'AWS::EC2::Instance',
      Properties: {
        ImageId: { Ref: 'TaupageId' },
        InstanceType: { Ref: 'InstanceType' },
        SubnetId: { Ref: 'SubnetId' },
        SecurityGroupIds: [{ 'Fn::GetAtt': ['OddSecurityGroup', 'GroupId'] }],
        ...(userData ? { UserData: { 'Fn::Base64': userData } } : {}),
        Tags: [{ Key: 'Name', Value: ODD_NAME }],
      },
    },
    OddEIP: {
      Type: 'AWS::EC2::EIP',
      Properties: { Domain: 'vpc', InstanceId: { Ref: 'OddServerInstance' } },
    },
  };
  if (account.domain) {
    resources.OddDnsRecord = {
      Type: 'AWS::Route53::RecordSet',
      Properties: {
        HostedZoneName: fqdn(account.domain),
        Name: `odd-${region}.${fqdn(account.domain)}`,
        Type: 'A',
        TTL: '60',
        ResourceRecords: [{ Ref: 'OddEIP' }],
      },
    };
  }
  return {
    AWSTemplateFormatVersion: '2010-09-09',
    Description: `Odd SSH bastion host of ${account.name} in ${region} (sevenseconds)`,
    Parameters: {
      TaupageId: { Type: 'AWS::EC2::Image::Id', Description: 'the Taupage image' },
      InstanceType: { Type: 'String', Default: DEFAULT_INSTANCE_TYPE },
      SubnetId: { Type: 'AWS::EC2::Subnet::Id', Description: 'a dmz subnet' },
      VpcId: { Type: 'AWS::EC2::VPC::Id' },
    },
    Resources: resources,
    Outputs: { PublicIp: { Description: 'the odd host address', Value: { Ref: 'OddEIP' } } },
  };
}

/** The template the stack should run: `bastion.cf_template` when given, else the built-in one. */
function wantedTemplate(account: AccountConfig, region: string): Record<string, unknown> {
  return account.bastion?.cf_template ?? oddTemplate(account, region);
}

/**
 * The parameters the stack should have, of those the template declares. The host stays in its
 * dmz subnet while that is one; a parameter the template needs and the tool cannot give fails.
 */
export function wantedParameters(
  account: AccountConfig,
  region: string,
  now: RegionOdd,
): { values: OddParameters; subnetName?: string } {
  const dmz = dmzSubnets(account, region, now.network).filter((s) => s.id);
  const currentSubnet = now.stack?.Parameters?.find((p) => p.ParameterKey === 'SubnetId')?.ParameterValue;
  const subnet = dmz.find((s) => s.id === currentSubnet) ?? dmz[0];
  const known: Record<string, string | undefined> = {
    TaupageId: now.imageId,
    InstanceType: account.bastion?.instance_type ?? DEFAULT_INSTANCE_TYPE,
    SubnetId: subnet?.id,
    VpcId: now.network.vpc?.VpcId,
    AccountName: account.name,
    VPCNetwork: vpcCidr(account, region),
  };
  const declared = (wantedTemplate(account, region).Parameters ?? {}) as Record<
    string,
    { Default?: unknown }
  >;
  const values: OddParameters = {};
  for (const [key, spec] of Object.entries(declared)) {
    if (!(key in known)) {
      if (spec.Default === undefined)
        throw new AccountFailure(
          `bastion.cf_template: parameter ${key} has no default and sevenseconds cannot give it`,
        );
      continue;
    }
    values[key] = known[key] ?? `(${key} of the ${key === 'TaupageId' ? 'AMI account' : 'VPC to be made'})`;
  }
  return { values, ...(subnet?.tags.Name ? { subnetName: subnet.tags.Name } : {}) };
}

function asParameters(values: OddParameters): Parameter[] {
  return Object.entries(values).map(([ParameterKey, ParameterValue]) => ({ ParameterKey, ParameterValue }));
}

async function readStack(cfn: CloudFormationClient): Promise<{ stack?: Stack; template?: unknown }> {
  let stack: Stack | undefined;
  try {
    stack = (await cfn.send(new DescribeStacksCommand({ StackName: ODD_STACK }))).Stacks?.[0];
  } catch (error) {
    if (awsErrorName(error) === 'ValidationError' && /does not exist/.test((error as Error).message))
      return {};
    throw error;
  }
  if (!stack) return {};
  const body = (await cfn.send(new GetTemplateCommand({ StackName: ODD_STACK, TemplateStage: 'Original' })))
    .TemplateBody;
  // A JSON template is YAML too.
  return { stack, template: body ? (parseYaml(body) as unknown) : undefined };
}

async function readRegionOdd(
  clients: AccountClients,
  account: AccountConfig,
  region: string,
): Promise<RegionOdd> {
  const network = await readRegionNetwork(clients, account, region);
  const base = await amiAccount(clients, account);
  const imageId = (await taupageImages(base.clients, base.ownerId, account, region))[0]?.ImageId;
  if (!imageId) {
    throw new AccountFailure(
      `no Taupage image (${account.base_ami?.name ?? 'Taupage-AMI-*'}) of ${base.ownerId} in ${region} for the odd host`,
    );
  }
  return { network, imageId, ...(await readStack(clients.cloudformation(region))) };
}

/** What differs between the stack and the file; empty when the stack is as wanted. */
function differences(account: AccountConfig, region: string, now: RegionOdd): string[] {
  const { values } = wantedParameters(account, region, now);
  const current = Object.fromEntries(
    (now.stack?.Parameters ?? []).map((p) => [p.ParameterKey ?? '', p.ParameterValue ?? '']),
  );
  const out = Object.entries(values)
    .filter(([k, v]) => current[k] !== v)
    .map(([k, v]) => `${k} ${current[k] ?? '(none)'} → ${v}`);
  if (!isDeepStrictEqual(now.template, wantedTemplate(account, region))) out.unshift('template');
  return out;
}

/**
 * The odd SSH bastion host (`enable_odd`, off by default as at STUPS HEAD): the CloudFormation
 * stack `Odd` in each region, updated when its template or parameters (a newer Taupage image, a
 * changed trusted network) differ, left alone otherwise.
 */
export const oddBastion: ResourceModule<Map<string, RegionOdd>, OddOp> = {
  kind: 'odd',
  async read(clients, account) {
    const state = new Map<string, RegionOdd>();
    if (!account.enable_odd) return state;
    for (const region of account.regions) state.set(region, await readRegionOdd(clients, account, region));
    return state;
  },
  diff(account, current) {
    const changes: PlannedChange<OddOp>[] = [];
    if (!account.enable_odd) return changes;
    for (const region of account.regions) {
      const now = current.get(region);
      if (!now) continue;
      const base = { account: account.name, resource: `odd/${region}` };
      if (!now.stack) {
        const { values, subnetName } = wantedParameters(account, region, now);
        const dns = account.domain ? `, odd-${region}.${account.domain}` : '';
        changes.push({
          ...base,
          action: 'create',
          detail:
            `create stack ${ODD_STACK}: ${values.InstanceType ?? 'host'} from ${values.TaupageId} in ` +
            `${subnetName ?? 'the first dmz subnet'}, SSH from ${Object.keys(account.trusted_networks ?? {}).join(', ') || 'nowhere'}${dns}`,
          op: { region, create: true },
        });
        continue;
      }
      const status = now.stack.StackStatus ?? '';
      if (!/_COMPLETE$/.test(status) || /^(ROLLBACK|DELETE)_COMPLETE$/.test(status)) {
        throw new AccountFailure(
          `stack ${ODD_STACK} in ${region} is ${status}; run again once it is settled, or delete it if it failed`,
        );
      }
      const diffs = differences(account, region, now);
      if (diffs.length) {
        changes.push({
          ...base,
          action: 'update',
          detail: `update stack ${ODD_STACK}: ${diffs.join(', ')}`,
          op: { region, create: false },
        });
      }
    }
    return changes;
  },
  async apply(clients, account, { op }) {
    // Read again: the VPC and subnets may have been made earlier in this run.
    const now = await readRegionOdd(clients, account, op.region);
    const { values } = wantedParameters(account, op.region, now);
    if (!values.SubnetId?.startsWith('subnet-') || !values.VpcId?.startsWith('vpc-'))
      throw new AccountFailure(`no VPC with a dmz subnet in ${op.region} for the odd host`);
    const cfn = clients.cloudformation(op.region);
    const input = {
      StackName: ODD_STACK,
      TemplateBody: JSON.stringify(wantedTemplate(account, op.region)),
      Parameters: asParameters(values),
    };
    const waiter = { client: cfn, maxWaitTime: STACK_WAIT_SECONDS };
    if (op.create) {
      await cfn.send(new CreateStackCommand({ ...input, OnFailure: 'DELETE' }));
      await waitUntilStackCreateComplete(waiter, { StackName: ODD_STACK });
    } else {
      await cfn.send(new UpdateStackCommand(input));
      await waitUntilStackUpdateComplete(waiter, { StackName: ODD_STACK });
    }
  },
};
