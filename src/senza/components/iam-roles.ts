import { CliError } from '../../platform/cli/cli-error.js';
import type { SenzaAws } from '../aws/senza-aws.js';
import type { CfTemplate } from './component.js';
import { isStackReference, resolveStackReference } from './references.js';

export const EC2_ASSUME_ROLE_POLICY = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: ['ec2.amazonaws.com'] }, Action: ['sts:AssumeRole'] }],
};

/** The inline policies of existing roles, merged into one list (for a role that combines several). */
export async function mergedPolicies(roles: readonly string[], aws: SenzaAws): Promise<unknown[]> {
  const iam = await aws.iam();
  const policies: unknown[] = [];
  for (const role of roles) {
    if (!(await iam.role(role))) throw new CliError(`IAM role "${role}" does not exist`);
    policies.push(...(await iam.rolePolicies(role)));
  }
  return policies;
}

/**
 * `IamRoles` → an instance profile `<Name>InstanceProfile`. One role is used as it is; several
 * roles are merged into a new role `<Name>Role` holding all their inline policies.
 */
export async function addInstanceProfile(
  template: CfTemplate,
  name: string,
  roles: unknown[],
  aws: SenzaAws,
  path: string,
): Promise<string> {
  let profileRoles: unknown[];
  if (roles.length > 1) {
    if (roles.some((r) => typeof r !== 'string')) {
      throw new CliError(
        `${path}.IamRoles: Cannot merge policies of Cloud Formation references ({"Ref": ".."}): use at most one IAM role with "Ref".`,
      );
    }
    template.Resources[`${name}Role`] = {
      Type: 'AWS::IAM::Role',
      Properties: {
        AssumeRolePolicyDocument: EC2_ASSUME_ROLE_POLICY,
        Path: '/',
        Policies: await mergedPolicies(roles as string[], aws),
      },
    };
    profileRoles = [{ Ref: `${name}Role` }];
  } else if (isStackReference(roles[0])) {
    profileRoles = [await resolveStackReference(roles[0], aws)];
  } else {
    profileRoles = roles;
  }
  const logicalId = `${name}InstanceProfile`;
  template.Resources[logicalId] = {
    Type: 'AWS::IAM::InstanceProfile',
    Properties: { Path: '/', Roles: profileRoles },
  };
  return logicalId;
}
