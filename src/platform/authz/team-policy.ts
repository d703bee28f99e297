import { type AdminPolicy, isAdmin } from '../auth/http-auth.js';
import type { Principal } from '../auth/principal.js';
import { NotAllowedError } from '../errors.js';

/** The scope a service needs to act for the team owning its own application. */
export const APPLICATION_WRITE_SCOPE = 'application.write';

/** The part of the teams contract (`TeamDirectory`) the policy reads. */
export interface TeamMembership {
  isMember(teamId: string, uid: string): Promise<boolean>;
}

/** The part of Kio's contract (`ApplicationDirectory`) the policy reads: a service is its application. */
export interface ApplicationOwnership {
  getApplication(id: string): Promise<{ team_id: string } | undefined>;
}

/**
 * The part of the token service's contract (`serviceUserDirectory`) the policy reads: which
 * application a service principal belongs to, as recorded by the issuer that knows it.
 */
export interface ServiceApplications {
  /**
   * `{ applicationId }` for a service user the issuer keeps (null: it belongs to no application);
   * undefined when the principal's issuer keeps no record of it (another issuer, or an OAuth
   * client acting as itself), and the STUPS convention uid = application id applies.
   */
  applicationOf(principal: Principal): Promise<{ applicationId: string | null } | undefined>;
}

/** Why a principal may act for a team. */
export type TeamGrant = 'admin' | 'member' | 'application' | 'any-team-scope';

export interface TeamPolicyOptions {
  /** Whether platform administrators act for every team (default true). */
  admins?: boolean;
  /** A scope that lets a service act for every team, e.g. Pier One's `application.write_all`. */
  anyTeamScope?: string;
}

/**
 * "May act for team X", the one rule every service asks (ADR: authz):
 * - platform administrators (listed employees, services holding the admin scope);
 * - employees who are members of the team — checked by uid *in the employees realm only*,
 *   so a service whose name equals an employee's uid is never taken for that employee;
 * - services holding `application.write` whose own Kio application belongs to the team. A service
 *   user of our token service (e.g. `stups_hello-world`) has its application stored there, and only
 *   that counts; a service principal no issuer records (tokens of an external issuer, an OAuth
 *   client's client_credentials token) is the application whose id equals its uid, as in STUPS.
 *
 * Nothing is cached: every decision reads the directories, so a membership change holds
 * from the next request on, in every replica.
 */
export class TeamPolicy {
  constructor(
    private readonly deps: {
      teams: TeamMembership;
      applications: ApplicationOwnership;
      adminPolicy: AdminPolicy;
      /** Stored applications of service users; without it every service is its uid's application. */
      serviceApplications?: ServiceApplications | undefined;
    },
  ) {}

  isAdmin(principal: Principal): boolean {
    return isAdmin(principal, this.deps.adminPolicy);
  }

  /** Throws a 403 unless `principal` is a platform administrator; `what` ends "only … may". */
  assertAdmin(principal: Principal, what: string): void {
    if (!this.isAdmin(principal)) {
      throw new NotAllowedError(`only platform administrators may ${what}`, { code: 'NOT_ADMIN' });
    }
  }

  /** Whether `principal` is the employee `uid`; a service of the same name is not (realm-aware). */
  isEmployee(principal: Principal, uid: string): boolean {
    return principal.realm === 'employees' && principal.uid === uid;
  }

  /** Throws a 403 unless `principal` is the employee `uid` or an administrator. */
  assertSelfOrAdmin(principal: Principal, uid: string, what: string): void {
    if (!this.isEmployee(principal, uid) && !this.isAdmin(principal)) {
      throw new NotAllowedError(`only ${uid} or a platform administrator may ${what}`, {
        code: 'NOT_SELF',
      });
    }
  }

  /**
   * Why `principal` may act for every one of `teamIds` (a move between teams needs both), or
   * a NotAllowedError naming the first reason it may not.
   */
  async assertMayActFor(
    principal: Principal,
    teamIds: string | readonly string[],
    options: TeamPolicyOptions = {},
  ): Promise<TeamGrant> {
    const teams = [...new Set(typeof teamIds === 'string' ? [teamIds] : teamIds)];
    if ((options.admins ?? true) && this.isAdmin(principal)) return 'admin';
    if (principal.realm === 'employees') {
      for (const team of teams) {
        if (!(await this.deps.teams.isMember(team, principal.uid))) {
          throw new NotAllowedError(`${principal.uid} is not a member of team ${team}`, {
            code: 'NOT_TEAM_MEMBER',
          });
        }
      }
      return 'member';
    }
    if (options.anyTeamScope !== undefined && principal.scopes.has(options.anyTeamScope)) {
      return 'any-team-scope';
    }
    if (!principal.scopes.has(APPLICATION_WRITE_SCOPE)) {
      throw new NotAllowedError(`the access token lacks the scope ${APPLICATION_WRITE_SCOPE}`, {
        code: 'INSUFFICIENT_SCOPE',
        requiredScopes: [APPLICATION_WRITE_SCOPE],
      });
    }
    const own = await this.#ownApplication(principal);
    for (const team of teams) {
      if (team !== own.team_id) {
        throw new NotAllowedError(`service ${principal.uid} belongs to team ${own.team_id}, not to ${team}`, {
          code: 'NOT_TEAM_MEMBER',
        });
      }
    }
    return 'application';
  }

  /** The Kio application a service acts for: the stored one of a service user, else its uid's. */
  async #ownApplication(principal: Principal): Promise<{ team_id: string }> {
    const recorded = await this.deps.serviceApplications?.applicationOf(principal);
    if (recorded === undefined) {
      const own = await this.deps.applications.getApplication(principal.uid);
      if (own === undefined) {
        throw new NotAllowedError(`service ${principal.uid} is not a registered application`, {
          code: 'NOT_TEAM_MEMBER',
        });
      }
      return own;
    }
    if (recorded.applicationId === null) {
      throw new NotAllowedError(`service user ${principal.uid} belongs to no application`, {
        code: 'NOT_TEAM_MEMBER',
      });
    }
    const own = await this.deps.applications.getApplication(recorded.applicationId);
    if (own === undefined) {
      throw new NotAllowedError(
        `the application ${recorded.applicationId} of service user ${principal.uid} is not registered`,
        { code: 'NOT_TEAM_MEMBER' },
      );
    }
    return own;
  }

  /** The same decision as a boolean, for callers that choose between answers rather than refuse. */
  async mayActFor(
    principal: Principal,
    teamIds: string | readonly string[],
    options?: TeamPolicyOptions,
  ): Promise<boolean> {
    try {
      await this.assertMayActFor(principal, teamIds, options);
      return true;
    } catch (error) {
      if (error instanceof NotAllowedError) return false;
      throw error;
    }
  }
}
