import { CreateAccountAliasCommand, ListAccountAliasesCommand } from '@aws-sdk/client-iam';
import { AccountFailure } from '../aws/login.js';
import type { ResourceModule } from './resource.js';

/**
 * The IAM account alias. Set when empty; a different alias means the login reached the wrong
 * account, which fails the account (STUPS logged it and counted the skip as success).
 */
export const accountAlias: ResourceModule<string | undefined, { alias: string }> = {
  kind: 'alias',
  async read(clients) {
    return (await clients.iam.send(new ListAccountAliasesCommand({}))).AccountAliases?.[0];
  },
  diff(account, current) {
    if (current === account.alias) return [];
    if (current !== undefined) {
      throw new AccountFailure(`Connected to ${current}, but account ${account.alias} should be configured`);
    }
    return [
      {
        account: account.name,
        resource: 'alias',
        action: 'create',
        detail: `set alias ${account.alias}`,
        op: { alias: account.alias },
      },
    ];
  },
  async apply(clients, _account, change) {
    await clients.iam.send(new CreateAccountAliasCommand({ AccountAlias: change.op.alias }));
  },
};
