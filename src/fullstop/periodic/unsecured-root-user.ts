import { type PeriodicFinding, type PeriodicRule, violationType } from '../rules/rule.js';
import { sdk } from '../aws/sdk.js';

/** What makes a root user unsecured, from IAM's account summary (`GetAccountSummary`). */
export function rootUserProblems(summary: Partial<Record<string, number>>): string[] {
  const problems: string[] = [];
  if (summary.AccountMFAEnabled !== 1) problems.push('no MFA device');
  if (summary.AccountAccessKeysPresent === 1) problems.push('has access keys');
  return problems;
}

/** The account's root user without MFA or with access keys: whoever has its password owns the account. */
export const unsecuredRootUser: PeriodicRule = {
  kind: 'periodic',
  name: 'unsecured-root-user',
  global: true,
  type: violationType({
    id: 'UNSECURED_ROOT_USER',
    title: 'Unsecured root user',
    help_text:
      'The root user of the account has no MFA device or has access keys. Enable hardware MFA for the root user and delete its access keys.',
    violation_severity: 4,
    priority: 1,
    meta_info_keys: ['problems'],
  }),
  async check({ clients }): Promise<PeriodicFinding[]> {
    const { GetAccountSummaryCommand } = await sdk.iam();
    const { SummaryMap = {} } = await clients.iam.send(new GetAccountSummaryCommand({}));
    const problems = rootUserProblems(SummaryMap);
    if (!problems.length) return [];
    return [{ type: 'UNSECURED_ROOT_USER', resource: 'root', metaInfo: { problems } }];
  },
};
