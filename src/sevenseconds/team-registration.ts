import { z } from 'zod';
import { CliError } from '../platform/cli/cli-error.js';
import type { HttpClient } from '../platform/cli/http-client.js';
import { AccountFailure } from './aws/login.js';
import type { AccountConfig } from './contract.js';
import type { PlannedChange } from './resources/resource.js';

/** What the team service knows of one AWS account (`/api/accounts/aws`). */
export interface RegisteredAccount {
  owner: string;
  description: string;
}

/**
 * The team service as sevenseconds uses it: which team owns which account, and registering one.
 * The file is the source: configure makes the team service say what the file says.
 */
export interface TeamRegistry {
  /** Every registered account by id; read once per run (one GET for any number of accounts). */
  accounts(): Promise<ReadonlyMap<string, RegisteredAccount>>;
  register(accountId: string, owner: string, description: string): Promise<void>;
}

const AccountsAnswer = z.array(
  z.looseObject({ id: z.string(), owner: z.string(), description: z.string().default('') }),
);

/** The team service's failures as the account's one-line reason, not a CLI exit. */
async function asAccountFailure<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof CliError) throw new AccountFailure(`team service: ${what}: ${error.message}`);
    throw error;
  }
}

export function httpTeamRegistry(client: HttpClient): TeamRegistry {
  let cached: Promise<ReadonlyMap<string, RegisteredAccount>> | undefined;
  return {
    accounts() {
      cached ??= asAccountFailure('list accounts', async () => {
        const answer = AccountsAnswer.parse(await client.json('GET', '/api/accounts/aws'));
        return new Map(answer.map((a) => [a.id, { owner: a.owner, description: a.description }]));
      });
      // A failed read is not cached: the next account asks again (and fails with its own line).
      cached.catch(() => {
        cached = undefined;
      });
      return cached;
    },
    async register(accountId, owner, description) {
      await asAccountFailure(`register ${accountId} for team ${owner}`, () =>
        client.json('PUT', `/api/accounts/aws/${accountId}`, { owner, description }),
      );
    },
  };
}

export interface Registration {
  owner: string;
  description: string;
}

/** The description the team service shows for an account: its name in the file. */
export function wantedRegistration(account: AccountConfig): Registration | undefined {
  return account.team ? { owner: account.team, description: account.name } : undefined;
}

/** Pure: the one change registering the account with its team, or none. */
export function registrationChanges(
  account: AccountConfig,
  registered: RegisteredAccount | undefined,
): PlannedChange<Registration>[] {
  const wanted = wantedRegistration(account);
  if (!wanted) return [];
  if (registered?.owner === wanted.owner && registered.description === wanted.description) return [];
  const detail = !registered
    ? `register with team ${wanted.owner}`
    : registered.owner !== wanted.owner
      ? `owner ${registered.owner || '(none)'} → ${wanted.owner}`
      : `description "${registered.description}" → "${wanted.description}"`;
  return [
    {
      account: account.name,
      resource: 'team-service/account',
      action: registered ? 'update' : 'create',
      detail,
      op: wanted,
    },
  ];
}
