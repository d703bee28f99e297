import {
  DescribeOrganizationCommand,
  ListAccountsForParentCommand,
  ListOrganizationalUnitsForParentCommand,
  type ListOrganizationalUnitsForParentCommandOutput,
  ListRootsCommand,
  ListTagsForResourceCommand,
  type OrganizationsClient,
  TagResourceCommand,
  UntagResourceCommand,
} from '@aws-sdk/client-organizations';
import {
  ACCOUNT_HOLDER_TAG,
  ACCOUNT_STATE_TAG,
  type AccountState,
  AccountStateSchema,
  COST_CENTER_TAG,
  type SandboxAccount,
} from '../contract.js';

/** Tag holding when the account entered a state: `account-state-since:<state>` = ISO time. */
export const stateSinceTag = (state: AccountState) => `account-state-since:${state}`;

/**
 * Reads every account of the organisation with its tags. The state lives in AWS (the tag
 * `account-state`), so the Organizations console and this service agree; an account without the
 * tag is `vanilla`.
 */
export async function listOrganizationAccounts(org: OrganizationsClient): Promise<SandboxAccount[]> {
  const roots = await org.send(new ListRootsCommand({}));
  const accounts: SandboxAccount[] = [];
  const visit = async (parentId: string, ou: { id: string; name: string } | null) => {
    let token: string | undefined;
    do {
      const page = await org.send(new ListAccountsForParentCommand({ ParentId: parentId, NextToken: token }));
      for (const account of page.Accounts ?? []) {
        if (!account.Id) continue;
        accounts.push(await describeWithTags(org, account.Id, account.Name ?? '', account.Email ?? '', ou));
      }
      token = page.NextToken;
    } while (token);
    token = undefined;
    do {
      const page: ListOrganizationalUnitsForParentCommandOutput = await org.send(
        new ListOrganizationalUnitsForParentCommand({ ParentId: parentId, NextToken: token }),
      );
      for (const child of page.OrganizationalUnits ?? []) {
        if (child.Id) await visit(child.Id, { id: child.Id, name: child.Name ?? child.Id });
      }
      token = page.NextToken;
    } while (token);
  };
  for (const root of roots.Roots ?? []) if (root.Id) await visit(root.Id, null);
  return accounts.sort((a, b) => a.id.localeCompare(b.id));
}

async function describeWithTags(
  org: OrganizationsClient,
  id: string,
  name: string,
  email: string,
  ou: { id: string; name: string } | null,
): Promise<SandboxAccount> {
  const tags: Record<string, string> = {};
  let token: string | undefined;
  do {
    const page = await org.send(new ListTagsForResourceCommand({ ResourceId: id, NextToken: token }));
    for (const tag of page.Tags ?? []) if (tag.Key) tags[tag.Key] = tag.Value ?? '';
    token = page.NextToken;
  } while (token);
  const state = AccountStateSchema.safeParse(tags[ACCOUNT_STATE_TAG]);
  const stateTimestamps: SandboxAccount['state_timestamps'] = {};
  for (const candidate of AccountStateSchema.options) {
    const since = tags[stateSinceTag(candidate)];
    if (since) stateTimestamps[candidate] = since;
  }
  return {
    id,
    name,
    email,
    organizational_unit: ou?.id ?? null,
    organizational_unit_name: ou?.name ?? null,
    state: state.success ? state.data : 'vanilla',
    holder: tags[ACCOUNT_HOLDER_TAG] || null,
    cost_center: tags[COST_CENTER_TAG] || null,
    tags,
    state_timestamps: stateTimestamps,
  };
}

/** The management account: it runs the organisation and is never anybody's sandbox. */
export async function managementAccountId(org: OrganizationsClient): Promise<string | undefined> {
  return (await org.send(new DescribeOrganizationCommand({}))).Organization?.MasterAccountId;
}

/** Writes the state tag (and its timestamp); a holder of null removes the holder tag. */
export async function writeAccountState(
  org: OrganizationsClient,
  accountId: string,
  state: AccountState,
  at: Date,
  holder?: string | null,
): Promise<void> {
  const tags = [
    { Key: ACCOUNT_STATE_TAG, Value: state },
    { Key: stateSinceTag(state), Value: at.toISOString() },
  ];
  if (holder) tags.push({ Key: ACCOUNT_HOLDER_TAG, Value: holder });
  await org.send(new TagResourceCommand({ ResourceId: accountId, Tags: tags }));
  if (holder === null)
    await org.send(new UntagResourceCommand({ ResourceId: accountId, TagKeys: [ACCOUNT_HOLDER_TAG] }));
}

/** Sets arbitrary tags (CSV import, prepare). */
export async function writeAccountTags(
  org: OrganizationsClient,
  accountId: string,
  tags: Record<string, string>,
): Promise<void> {
  const list = Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
  if (list.length > 0) await org.send(new TagResourceCommand({ ResourceId: accountId, Tags: list }));
}
