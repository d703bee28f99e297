import type { AdminPolicy } from '../../platform/auth/http-auth.js';
import type { AwsAccount, TeamDirectory } from '../../teams/contract.js';
import type { RoleMappingEntry } from './settings.js';

/** What awsRolesOf reads of the team service: teams with members, and accounts with `disabled`. */
export interface AwsAccountDirectory extends Pick<TeamDirectory, 'teamsOfMember'> {
  listAccounts(filter?: { member?: string | undefined }): Promise<AwsAccount[]>;
}

export interface AwsRole {
  account_id: string;
  /** The owning team's id (the team service's `name` of an account), null for an unowned account. */
  account_name: string | null;
  team: string | null;
  role_name: string;
  role_arn: string;
  provider_arn: string;
}

export interface AwsRolesDeps {
  accounts: AwsAccountDirectory;
  adminPolicy: AdminPolicy;
  roleMapping: readonly RoleMappingEntry[];
  oidcProviderHost: string;
}

export const roleArnOf = (accountId: string, role: string) => `arn:aws:iam::${accountId}:role/${role}`;
export const oidcProviderArnOf = (accountId: string, host: string) =>
  `arn:aws:iam::${accountId}:oidc-provider/${host}`;

/**
 * The roles an employee may assume (ADR 0010): the one function the roles endpoint, the
 * web-identity token and (later) SAML and the console answer from, so they cannot disagree.
 * Disabled accounts are left out whatever the mapping says.
 */
export async function awsRolesOf(uid: string, deps: AwsRolesDeps): Promise<AwsRole[]> {
  const teams = await deps.accounts.teamsOfMember(uid);
  // The platform's rule for employees (isAdmin in platform/auth/http-auth.ts): listed in adminUids.
  const admin = deps.adminPolicy.adminUids.has(uid);
  const teamAccounts = new Set(teams.flatMap((t) => t.aws_accounts));
  const known = (await deps.accounts.listAccounts()).filter((a) => !a.disabled);
  const roles = new Map<string, AwsRole>();
  for (const entry of deps.roleMapping) {
    if (!applies(entry, admin, teams.length > 0)) continue;
    for (const account of known) {
      if (entry.accounts === 'team' && !teamAccounts.has(account.id)) continue;
      const roleArn = roleArnOf(account.id, entry.role);
      if (roles.has(roleArn)) continue;
      const team = account.owner || null;
      roles.set(roleArn, {
        account_id: account.id,
        account_name: account.name || null,
        team,
        role_name: entry.role,
        role_arn: roleArn,
        provider_arn: oidcProviderArnOf(account.id, deps.oidcProviderHost),
      });
    }
  }
  return [...roles.values()].sort(
    (a, b) => a.account_id.localeCompare(b.account_id) || a.role_name.localeCompare(b.role_name),
  );
}

/** `members` with `accounts: team` already means "of your own teams"; membership of some team is the test. */
function applies(entry: RoleMappingEntry, admin: boolean, isMemberOfSomeTeam: boolean): boolean {
  if (entry.who === 'everyone') return true;
  if (entry.who === 'admins') return admin;
  return isMemberOfSomeTeam;
}
