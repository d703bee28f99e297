import pLimit from 'p-limit';
import type { AccountClients } from './aws/clients.js';
import { AccountFailure, type Login, loginToAccount } from './aws/login.js';
import type { AccountConfig, AccountReport, Change } from './contract.js';
import { accountAlias } from './resources/account-alias.js';
import { acmCertificates } from './resources/acm-certificates.js';
import { amiLaunchPermissions } from './resources/ami-launch-permissions.js';
import { ebsEncryption } from './resources/ebs-encryption.js';
import { cloudTrail, cloudTrailAfterBucket, holdsTrailBucket } from './resources/cloudtrail.js';
import { dnsDelegation } from './resources/dns-delegation.js';
import { dnsZone } from './resources/dns-zone.js';
import { iamRoles } from './resources/iam-roles.js';
import { kmsKeys } from './resources/kms-keys.js';
import { natGateways } from './resources/nat-gateways.js';
import { oddBastion } from './resources/odd-bastion.js';
import type { AnyResourceModule } from './resources/resource.js';
import { routeTables } from './resources/route-tables.js';
import { s3Buckets } from './resources/s3-buckets.js';
import { samlProviders } from './resources/saml-providers.js';
import { securityGroups } from './resources/security-groups.js';
import { subnetGroups } from './resources/subnet-groups.js';
import { vpcs } from './resources/vpc.js';
import { vpcSubnets } from './resources/vpc-subnets.js';
import { registrationChanges, type TeamRegistry } from './team-registration.js';

/**
 * The STUPS order (config/configure.py): alias, CloudTrail, SAML providers before the roles that
 * trust them (IAM refuses a trust policy naming a provider that does not exist), S3 buckets, then
 * per region KMS, EBS encryption, the DNS zone, ACM (its validation records go in the zone), AMI launch
 * permissions, the VPC, its subnets, NAT gateways, routes, the odd bastion stack, subnet groups
 * and security groups. Each module reads after the earlier ones applied, so it sees what they made.
 * The one account holding the central CloudTrail bucket makes its own trail after its buckets
 * (CloudTrail refuses a missing bucket).
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
  acmCertificates,
  amiLaunchPermissions,
  vpcs,
  vpcSubnets,
  natGateways,
  routeTables,
  oddBastion,
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
    /** Clients of another account of the file, logged in on first use (the account's own when it is that one). */
    const other = (name: string | undefined) => {
      const config = name ? options.accountNamed?.(name) : undefined;
      if (!config) return undefined;
      let made: Promise<AccountClients> | undefined;
      return () =>
        (made ??=
          config.id === account.id ? Promise.resolve(clients) : loginToAccount(options.login, config));
    };
    const admin = other(account.admin_account);
    if (admin) clients.admin = admin;
    const amiAccount = other(account.base_ami?.account_name);
    if (amiAccount) {
      clients.amiAccount = amiAccount;
      clients.amiAccountId = options.accountNamed?.(account.base_ami!.account_name)?.id ?? '';
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
