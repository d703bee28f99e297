import { crossAccountRole as crossAccountRoleEvent, foreignGrantees } from '../rules/cross-account-role.js';
import type { PeriodicFinding, PeriodicRule } from '../rules/rule.js';
import { trustedPrincipals } from '../rules/trust-policy.js';
import { sdk } from '../aws/sdk.js';

/**
 * Every IAM role of the account whose trust policy lets an account outside the platform assume
 * it (STUPS' CrossAccountPolicyForIAMJob). The event rule sees roles created or changed while
 * CloudTrail was read; this check also finds those that existed before, came in through a gap in
 * the trail, or were changed by a call the event rule does not read.
 */
export const crossAccountRole: PeriodicRule = {
  kind: 'periodic',
  name: 'cross-account-role',
  global: true,
  // One type for both: the event rule's definition (title, severity, meta_info keys).
  type: crossAccountRoleEvent.type,
  async check({ account, clients, settings, accounts }) {
    const { paginateListRoles } = await sdk.iam();
    const findings: PeriodicFinding[] = [];
    for await (const page of paginateListRoles({ client: clients.iam }, {})) {
      for (const role of page.Roles ?? []) {
        if (!role.Arn || !role.AssumeRolePolicyDocument) continue;
        // IAM hands the document out URL-encoded; trustedPrincipals decodes it.
        const grantees = await foreignGrantees(
          trustedPrincipals(role.AssumeRolePolicyDocument),
          account,
          settings,
          accounts,
        );
        if (!grantees.length) continue;
        findings.push({
          type: 'CROSS_ACCOUNT_ROLE',
          resource: role.Arn,
          // STUPS: instance_id = role id (a role deleted and created again is a new violation).
          instanceId: role.RoleId ?? null,
          metaInfo: { role_arn: role.Arn, role_name: role.RoleName ?? null, grantees },
        });
      }
    }
    return findings;
  },
};
