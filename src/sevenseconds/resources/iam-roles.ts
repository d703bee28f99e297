import {
  AttachRolePolicyCommand,
  CreateRoleCommand,
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  DetachRolePolicyCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
  PutRolePolicyCommand,
  UpdateAssumeRolePolicyCommand,
} from '@aws-sdk/client-iam';
import type { AccountClients } from '../aws/clients.js';
import { AccountFailure } from '../aws/login.js';
import type { AccountConfig, PolicyDocument, RoleConfig } from '../contract.js';
import { parsePolicyText, samePolicy } from './policy.js';
import { awsErrorName, type PlannedChange, type ResourceModule } from './resource.js';

interface RoleState {
  path: string;
  trust: PolicyDocument | undefined;
  inline: Map<string, PolicyDocument | undefined>;
  attached: string[];
}

type RoleOp =
  | { type: 'create-role'; role: string }
  | { type: 'set-trust'; role: string }
  | { type: 'put-policy'; role: string }
  | { type: 'delete-policy'; role: string; policy: string }
  | { type: 'attach'; role: string; arn: string }
  | { type: 'detach'; role: string; arn: string }
  | { type: 'delete-role'; role: string };

async function readRole(clients: AccountClients, name: string): Promise<RoleState | undefined> {
  let role;
  try {
    role = (await clients.iam.send(new GetRoleCommand({ RoleName: name }))).Role;
  } catch (error) {
    if (awsErrorName(error) === 'NoSuchEntity' || awsErrorName(error) === 'NoSuchEntityException')
      return undefined;
    throw error;
  }
  const inline = new Map<string, PolicyDocument | undefined>();
  for (const policy of (await clients.iam.send(new ListRolePoliciesCommand({ RoleName: name })))
    .PolicyNames ?? []) {
    const r = await clients.iam.send(new GetRolePolicyCommand({ RoleName: name, PolicyName: policy }));
    inline.set(policy, parsePolicyText(r.PolicyDocument));
  }
  const attached =
    (await clients.iam.send(new ListAttachedRolePoliciesCommand({ RoleName: name }))).AttachedPolicies ?? [];
  return {
    path: role?.Path ?? '/',
    trust: parsePolicyText(role?.AssumeRolePolicyDocument),
    inline,
    attached: attached.map((p) => p.PolicyArn ?? '').filter(Boolean),
  };
}

function change(
  account: AccountConfig,
  op: RoleOp,
  action: 'create' | 'update' | 'delete',
  detail: string,
): PlannedChange<RoleOp> {
  return { account: account.name, resource: `iam-role/${op.role}`, action, detail, op };
}

function roleConfig(account: AccountConfig, name: string): RoleConfig {
  const role = account.roles?.[name];
  if (!role) throw new AccountFailure(`role ${name} is not configured`);
  return role;
}

/**
 * IAM roles as STUPS kept them: the inline policy is named as the role and other inline policies
 * are removed, the trust policy is reset, the attached set reconciled, `drop: true` deletes.
 * Roles the file does not name are left alone.
 */
export const iamRoles: ResourceModule<Map<string, RoleState | undefined>, RoleOp> = {
  kind: 'iam-roles',
  async read(clients, account) {
    const state = new Map<string, RoleState | undefined>();
    for (const name of Object.keys(account.roles ?? {})) state.set(name, await readRole(clients, name));
    return state;
  },
  diff(account, current) {
    const changes: PlannedChange<RoleOp>[] = [];
    for (const [name, role] of Object.entries(account.roles ?? {})) {
      const now = current.get(name);
      if (role.drop) {
        if (name === account.login_role) {
          throw new AccountFailure(`role ${name} is marked drop but is the role sevenseconds logs in with`);
        }
        if (now)
          changes.push(change(account, { type: 'delete-role', role: name }, 'delete', `delete role ${name}`));
        continue;
      }
      if (!now) {
        const extras = [
          role.policy ? 'inline policy' : '',
          role.attached_policies.length ? `${role.attached_policies.length} attached` : '',
        ]
          .filter(Boolean)
          .join(', ');
        changes.push(
          change(
            account,
            { type: 'create-role', role: name },
            'create',
            `create role ${name}${extras ? ` (${extras})` : ''}`,
          ),
        );
        continue;
      }
      if (!samePolicy(now.trust, role.assume_role_policy)) {
        changes.push(
          change(account, { type: 'set-trust', role: name }, 'update', `trust policy of ${name} differs`),
        );
      }
      if (role.policy && !samePolicy(now.inline.get(name), role.policy)) {
        changes.push(
          change(
            account,
            { type: 'put-policy', role: name },
            'update',
            `${now.inline.has(name) ? 'inline policy differs' : 'add inline policy'} ${name}`,
          ),
        );
      }
      for (const policy of now.inline.keys()) {
        if (policy !== name || !role.policy) {
          changes.push(
            change(
              account,
              { type: 'delete-policy', role: name, policy },
              'update',
              `remove inline policy ${policy} from ${name}`,
            ),
          );
        }
      }
      for (const arn of role.attached_policies) {
        if (!now.attached.includes(arn))
          changes.push(
            change(account, { type: 'attach', role: name, arn }, 'update', `attach ${arn} to ${name}`),
          );
      }
      for (const arn of now.attached) {
        if (!role.attached_policies.includes(arn))
          changes.push(
            change(account, { type: 'detach', role: name, arn }, 'update', `detach ${arn} from ${name}`),
          );
      }
    }
    return changes;
  },
  async apply(clients, account, { op }) {
    const iam = clients.iam;
    const RoleName = op.role;
    switch (op.type) {
      case 'create-role': {
        const role = roleConfig(account, RoleName);
        await iam.send(
          new CreateRoleCommand({
            RoleName,
            Path: role.path,
            AssumeRolePolicyDocument: JSON.stringify(role.assume_role_policy),
          }),
        );
        if (role.policy)
          await iam.send(
            new PutRolePolicyCommand({
              RoleName,
              PolicyName: RoleName,
              PolicyDocument: JSON.stringify(role.policy),
            }),
          );
        for (const PolicyArn of role.attached_policies)
          await iam.send(new AttachRolePolicyCommand({ RoleName, PolicyArn }));
        return;
      }
      case 'set-trust':
        await iam.send(
          new UpdateAssumeRolePolicyCommand({
            RoleName,
            PolicyDocument: JSON.stringify(roleConfig(account, RoleName).assume_role_policy),
          }),
        );
        return;
      case 'put-policy':
        await iam.send(
          new PutRolePolicyCommand({
            RoleName,
            PolicyName: RoleName,
            PolicyDocument: JSON.stringify(roleConfig(account, RoleName).policy),
          }),
        );
        return;
      case 'delete-policy':
        await iam.send(new DeleteRolePolicyCommand({ RoleName, PolicyName: op.policy }));
        return;
      case 'attach':
        await iam.send(new AttachRolePolicyCommand({ RoleName, PolicyArn: op.arn }));
        return;
      case 'detach':
        await iam.send(new DetachRolePolicyCommand({ RoleName, PolicyArn: op.arn }));
        return;
      case 'delete-role': {
        // IAM refuses to delete a role that still has policies.
        const now = await readRole(clients, RoleName);
        for (const PolicyName of now?.inline.keys() ?? [])
          await iam.send(new DeleteRolePolicyCommand({ RoleName, PolicyName }));
        for (const PolicyArn of now?.attached ?? [])
          await iam.send(new DetachRolePolicyCommand({ RoleName, PolicyArn }));
        await iam.send(new DeleteRoleCommand({ RoleName }));
        return;
      }
    }
  },
};
