import { z } from 'zod';
import type { RuleSettings } from '../settings.js';
import { type EventRule, type PlatformAccounts, violationType } from './rule.js';
import { trustedPrincipals } from './trust-policy.js';

const RoleRequest = z.looseObject({
  roleName: z.string().optional(),
  // CreateRole
  assumeRolePolicyDocument: z.string().optional(),
  // UpdateAssumeRolePolicy
  policyDocument: z.string().optional(),
});
const RoleResponse = z
  .looseObject({ role: z.looseObject({ arn: z.string().optional(), roleId: z.string().optional() }) })
  .nullish();

/**
 * A role whose trust policy lets an account outside the platform assume it: anyone there can act
 * in this account. Platform accounts are the own account, every account a team owns (team
 * service) and `rules.trustedAccounts`; `*` trusts every AWS account.
 */
export const crossAccountRole: EventRule = {
  kind: 'event',
  type: violationType({
    id: 'CROSS_ACCOUNT_ROLE',
    title: 'Cross account role',
    help_text:
      'An IAM role trusts an AWS account that is not one of the platform accounts, so that account may assume it. Remove the foreign account from the trust policy, or have the account registered with its team.',
    violation_severity: 0,
    priority: 4,
    meta_info_keys: ['role_arn', 'role_name', 'grantees'],
  }),
  async check(record, account, ctx) {
    if (record.eventSource !== 'iam.amazonaws.com' || record.errorCode) return [];
    if (record.eventName !== 'CreateRole' && record.eventName !== 'UpdateAssumeRolePolicy') return [];
    const request = RoleRequest.safeParse(record.requestParameters);
    if (!request.success) return [];
    const document = request.data.assumeRolePolicyDocument ?? request.data.policyDocument;
    if (!document) return [];
    if (!ctx.accounts) throw new Error('CROSS_ACCOUNT_ROLE needs the platform account look-up');
    const grantees = await foreignGrantees(trustedPrincipals(document), account, ctx.settings, ctx.accounts);
    if (!grantees.length) return [];
    const response = RoleResponse.safeParse(record.responseElements);
    const role = response.success ? response.data?.role : undefined;
    return [
      {
        type: 'CROSS_ACCOUNT_ROLE',
        instanceId: role?.roleId ?? null,
        metaInfo: {
          role_arn: role?.arn ?? null,
          role_name: request.data.roleName ?? null,
          grantees,
        },
      },
    ];
  },
};

/**
 * The accounts (or `*`) among `accounts` that are not the platform's: neither `own`, nor in
 * `rules.trustedAccounts`, nor one `platform` knows. `*` (every AWS account) comes first: it is
 * the worst a trust policy can say.
 */
export async function foreignGrantees(
  accounts: readonly string[],
  own: string,
  settings: Pick<RuleSettings, 'trustedAccounts'>,
  platform: PlatformAccounts,
): Promise<string[]> {
  const foreign: string[] = [];
  for (const grantee of accounts) {
    if (grantee === own || settings.trustedAccounts.includes(grantee)) continue;
    if (grantee !== '*' && (await platform.isPlatformAccount(grantee))) continue;
    foreign.push(grantee);
  }
  return foreign.sort((a, b) => (a === '*' ? -1 : b === '*' ? 1 : 0));
}
