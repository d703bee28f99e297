import pLimit from 'p-limit';
import type { AccountClients } from './aws/clients.js';
import { AccountFailure, type Login, loginToAccount } from './aws/login.js';
import type { AccountConfig, AccountReport, Change } from './contract.js';
import { accountAlias } from './resources/account-alias.js';
import { ebsEncryption } from './resources/ebs-encryption.js';
import { cloudTrail, cloudTrailAfterBucket, holdsTrailBucket } from './resources/cloudtrail.js';
import { dnsDelegation } from './resources/dns-delegation.js';
import { dnsZone } from './resources/dns-zone.js';
import { iamRoles } from './resources/iam-roles.js';
import { kmsKeys } from './resources/kms-keys.js';
import type { AnyResourceModule } from './resources/resource.js';
import { s3Buckets } from './resources/s3-buckets.js';
import { samlProviders } from './resources/saml-providers.js';
import { securityGroups } from './resources/security-groups.js';
import { subnetGroups } from './resources/subnet-groups.js';
import { vpcs } from './resources/vpc.js';
import { vpcSubnets } from './resources/vpc-subnets.js';
import { registrationChanges, type TeamRegistry } from './team-registration.js';

/**
 * The STUPS order (config/configure.py), as far as this slice goes: alias, SAML providers before
 * the roles that trust them (IAM refuses a trust policy naming a provider that does not exist),
 * S3 buckets, then per region the VPC and its subnets. The one account holding the central
 * CloudTrail bucket makes its own trail after its buckets (CloudTrail refuses a missing bucket).
 */
export const RESOURCE_MODULES: readonly AnyResourceModule[] = [
  accountAlias,
  cloudTrail,
  samlProviders,
  iamRoles,
  s3Buckets,
  cloudTrailAfterBucket,
  kmsKeys,
  ebsEncryption,
  dnsZone,
  dnsDelegation,
  vpcs,
  vpcSubnets,
  subnetGroups,
  securityGroups,
];

export type Mode = 'plan' | 'configure';

export interface ConvergeOptions {
  mode: Mode;
  login: Login;
  /** Accounts worked on at once. */
  concurrency: number;
  modules?: readonly AnyResourceModule[];
  /** The team service accounts with a `team` key are registered in (after their AWS resources). */
  teams?: TeamRegistry;
  /** The file's account of a name (the admin account of the DNS delegation). */
  accountNamed?: (name: string) => AccountConfig | undefined;
  /** Called when an account starts and when it ends, with its report (progress display). */
  onProgress?: (
    account: string,
    event: 'start' | AccountReport['status'],
    done: number,
    total: number,
    report?: AccountReport,
  ) => void;
}

/** The report's one-line reason: our own failures as they are, AWS errors with their code. */
function oneLine(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const first = error.message.split('\n')[0] ?? '';
  return error instanceof AccountFailure || error.name === 'Error' ? first : `${error.name}: ${first}`;
}

/** Reads, diffs and (configure) applies every module for one account; never throws. */
export async function convergeAccount(
  account: AccountConfig,
  options: ConvergeOptions,
): Promise<AccountReport> {
  const changes: Change[] = [];
  try {
    const clients = await loginToAccount(options.login, account);
    const admin = options.accountNamed?.(account.admin_account);
    if (admin) {
      let adminClients: Promise<AccountClients> | undefined;
      clients.admin = () =>
        (adminClients ??=
          admin.id === account.id ? Promise.resolve(clients) : loginToAccount(options.login, admin));
    }
    for (const module of options.modules ?? RESOURCE_MODULES) {
      const current: unknown = await module.read(clients, account);
      const planned = module.diff(account, current);
      for (const change of planned) {
        if (options.mode === 'configure') await module.apply(clients, account, change);
        const { op: _op, ...shown } = change as Change & { op: unknown };
        changes.push(shown);
      }
    }
    if (account.team) {
      if (!options.teams) throw new AccountFailure('the account names a team but no team service is set');
      const registered = (await options.teams.accounts()).get(account.id);
      for (const { op, ...shown } of registrationChanges(account, registered)) {
        if (options.mode === 'configure') await options.teams.register(account.id, op.owner, op.description);
        changes.push(shown);
      }
    }
    return { account: account.name, status: changes.length ? 'changed' : 'unchanged', changes };
  } catch (error) {
    return { account: account.name, status: 'failed', changes, reason: oneLine(error) };
  }
}

/**
 * Every account with at most `concurrency` at once; reports in the order the accounts were given.
 * `configure` converges the accounts holding a trail bucket first: every other trail needs the
 * bucket and its policy to exist (CloudTrail checks both when a trail is made).
 */
export async function convergeAccounts(
  accounts: readonly AccountConfig[],
  options: ConvergeOptions,
): Promise<AccountReport[]> {
  const limit = pLimit(Math.max(1, options.concurrency));
  let done = 0;
  const converge = (account: AccountConfig) =>
    limit(async () => {
      options.onProgress?.(account.name, 'start', done, accounts.length);
      const report = await convergeAccount(account, options);
      options.onProgress?.(account.name, report.status, ++done, accounts.length, report);
      return report;
    });
  const first = options.mode === 'configure' ? accounts.filter((a) => holdsTrailBucket(a, accounts)) : [];
  const firstReports = new Map(await Promise.all(first.map(async (a) => [a, await converge(a)] as const)));
  return Promise.all(accounts.map(async (a) => firstReports.get(a) ?? (await converge(a))));
}
