import { CliError } from '../../platform/cli/cli-error.js';
import type { SenzaAws } from '../aws/senza-aws.js';

const COMPLETE = /_COMPLETE$/;
const isMap = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

export function isStackReference(
  value: unknown,
): value is { Stack: string; LogicalId?: string; Output?: string } {
  return (
    isMap(value) &&
    typeof value.Stack === 'string' &&
    (typeof value.LogicalId === 'string' || typeof value.Output === 'string')
  );
}

/**
 * Resolves a cross-stack reference: `{Stack, LogicalId}` to the resource's physical id (a
 * security group to its id), `{Stack, Output}` to the output's value. The referenced stack
 * must be in a complete state.
 */
export async function resolveStackReference(
  ref: { Stack: string; LogicalId?: string; Output?: string },
  aws: SenzaAws,
): Promise<string> {
  const cf = await aws.cloudFormation();
  if (ref.LogicalId !== undefined) {
    const resource = await cf.describeStackResource(ref.Stack, ref.LogicalId);
    if (
      !COMPLETE.test(resource.ResourceStatus ?? '') ||
      /DELETE|ROLLBACK/.test(resource.ResourceStatus ?? '')
    ) {
      throw new CliError(
        `Resource "${ref.LogicalId}" of stack ${ref.Stack} is not ready ("${resource.ResourceStatus}")`,
      );
    }
    const id = resource.PhysicalResourceId!;
    if (resource.ResourceType === 'AWS::EC2::SecurityGroup' && !id.startsWith('sg-')) {
      const group = await (await aws.ec2()).securityGroupByName(id);
      if (!group) throw new CliError(`Security group "${id}" (stack ${ref.Stack}) does not exist`);
      return group.GroupId!;
    }
    return id;
  }
  const stack = await cf.describeStack(ref.Stack);
  if (!stack) throw new CliError(`Stack "${ref.Stack}" does not exist (referenced for output ${ref.Output})`);
  if (!COMPLETE.test(stack.StackStatus ?? '') || /DELETE|ROLLBACK/.test(stack.StackStatus ?? '')) {
    throw new CliError(`Stack "${ref.Stack}" is not ready ("${stack.StackStatus}")`);
  }
  const output = stack.Outputs?.find((o) => o.OutputKey === ref.Output);
  if (!output) throw new CliError(`Stack "${ref.Stack}" has no output "${ref.Output}"`);
  return output.OutputValue ?? '';
}

/** Replaces every `{Stack, Output}` / `{Stack, LogicalId}` map in a tree by its resolved value. */
export async function resolveReferencesInTree(node: unknown, aws: SenzaAws): Promise<unknown> {
  if (isStackReference(node)) return resolveStackReference(node, aws);
  if (Array.isArray(node)) return Promise.all(node.map((n) => resolveReferencesInTree(n, aws)));
  if (isMap(node)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node)) out[k] = await resolveReferencesInTree(v, aws);
    return out;
  }
  return node;
}

/**
 * Security groups by name (`app-myapp`), id (`sg-…`), cross-stack reference or CloudFormation
 * function (`{Ref: MySecurityGroup}`), resolved to what CloudFormation needs: ids.
 */
export async function resolveSecurityGroups(
  groups: unknown,
  aws: SenzaAws,
  path: string,
): Promise<unknown[]> {
  const list = Array.isArray(groups) ? groups : [groups];
  const out: unknown[] = [];
  for (const group of list) {
    if (typeof group === 'string') {
      if (group.startsWith('sg-')) out.push(group);
      else {
        const found = await (await aws.ec2()).securityGroupByName(group);
        if (!found) throw new CliError(`${path}: Security group "${group}" does not exist`);
        out.push(found.GroupId);
      }
    } else if (isStackReference(group)) out.push(await resolveStackReference(group, aws));
    else out.push(group);
  }
  return out;
}
