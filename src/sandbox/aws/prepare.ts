import {
  type BudgetsClient,
  CreateBudgetCommand,
  DescribeBudgetsCommand,
  DeleteBudgetCommand,
} from '@aws-sdk/client-budgets';
import { CreateRoleCommand, GetRoleCommand, type IAMClient, TagRoleCommand } from '@aws-sdk/client-iam';
import type { ResolvedAccountSettings } from '../config.js';
import { BASELINE_ROLES } from './purge-result.js';

export const BUDGET_NAME = 'sandbox-monthly';

export { BASELINE_ROLES } from './purge-result.js';

export interface PrepareResult {
  budget: string;
  roles: string[];
}

/**
 * Prepares a purged account for its next holder: the monthly budget with its alert (replaced,
 * so a changed amount takes effect) and the baseline roles (created once, tagged).
 */
export async function prepareAccount(
  clients: { budgets: BudgetsClient; iam: IAMClient },
  accountId: string,
  settings: ResolvedAccountSettings,
): Promise<PrepareResult> {
  const existing = await clients.budgets.send(new DescribeBudgetsCommand({ AccountId: accountId }));
  if ((existing.Budgets ?? []).some((b) => b.BudgetName === BUDGET_NAME)) {
    await clients.budgets.send(new DeleteBudgetCommand({ AccountId: accountId, BudgetName: BUDGET_NAME }));
  }
  const subscribers = settings.notification_topic_arn
    ? [{ SubscriptionType: 'SNS' as const, Address: settings.notification_topic_arn }]
    : [];
  await clients.budgets.send(
    new CreateBudgetCommand({
      AccountId: accountId,
      Budget: {
        BudgetName: BUDGET_NAME,
        BudgetType: 'COST',
        TimeUnit: 'MONTHLY',
        BudgetLimit: { Amount: String(settings.budget.amount), Unit: 'USD' },
      },
      NotificationsWithSubscribers: subscribers.length
        ? [
            {
              Notification: {
                NotificationType: 'ACTUAL',
                ComparisonOperator: 'GREATER_THAN',
                Threshold: settings.budget.alert_threshold,
                ThresholdType: 'PERCENTAGE',
              },
              Subscribers: subscribers,
            },
          ]
        : undefined,
    }),
  );
  const trust = {
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${accountId}:root` }, Action: 'sts:AssumeRole' },
    ],
  };
  const tags = Object.entries(settings.tags).map(([Key, Value]) => ({ Key, Value }));
  for (const role of BASELINE_ROLES) {
    const found = await clients.iam.send(new GetRoleCommand({ RoleName: role })).catch(() => undefined);
    if (!found)
      await clients.iam.send(
        new CreateRoleCommand({ RoleName: role, AssumeRolePolicyDocument: JSON.stringify(trust) }),
      );
    if (tags.length > 0) await clients.iam.send(new TagRoleCommand({ RoleName: role, Tags: tags }));
  }
  return { budget: BUDGET_NAME, roles: [...BASELINE_ROLES] };
}
