import { type AdminPolicy, isAdmin } from '../platform/auth/http-auth.js';
import type { Principal } from '../platform/auth/principal.js';
import { NotAllowedError } from '../platform/errors.js';
import type { TeamDirectory } from '../teams/contract.js';

/** The scope a service needs to change applications of its own team. */
export const APPLICATION_WRITE_SCOPE = 'application.write';

export interface WriteAccessDeps {
  teams: TeamDirectory;
  adminPolicy: AdminPolicy;
  /** The team owning a registered application: a service's identity is its application. */
  teamOfApplication(id: string): Promise<string | undefined>;
}

/**
 * Who may write an application owned by `teamIds` (the current team and, when it moves,
 * the new one — both must agree):
 * - platform administrators (listed employees, services with the admin scope);
 * - employees who are members of every one of these teams;
 * - services holding `application.write` whose own application belongs to every one of them.
 * Throws a NotAllowedError naming the reason; returns normally when allowed.
 */
export async function checkWriteAccess(
  principal: Principal,
  teamIds: readonly string[],
  deps: WriteAccessDeps,
): Promise<void> {
  if (isAdmin(principal, deps.adminPolicy)) return;
  const teams = [...new Set(teamIds)];
  if (principal.realm === 'employees') {
    for (const team of teams) {
      if (!(await deps.teams.isMember(team, principal.uid))) {
        throw new NotAllowedError(`${principal.uid} is not a member of team ${team}`, {
          code: 'NOT_TEAM_MEMBER',
        });
      }
    }
    return;
  }
  if (!principal.scopes.has(APPLICATION_WRITE_SCOPE)) {
    throw new NotAllowedError(`the access token lacks the scope ${APPLICATION_WRITE_SCOPE}`, {
      code: 'INSUFFICIENT_SCOPE',
      requiredScopes: [APPLICATION_WRITE_SCOPE],
    });
  }
  const ownTeam = await deps.teamOfApplication(principal.uid);
  if (ownTeam === undefined) {
    throw new NotAllowedError(`service ${principal.uid} is not a registered application`, {
      code: 'NOT_TEAM_MEMBER',
    });
  }
  for (const team of teams) {
    if (team !== ownTeam) {
      throw new NotAllowedError(`service ${principal.uid} belongs to team ${ownTeam}, not to ${team}`, {
        code: 'NOT_TEAM_MEMBER',
      });
    }
  }
}
