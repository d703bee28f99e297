import { createHash } from 'node:crypto';
import type { ApplicationDirectory } from '../kio/contract.js';
import type { Principal } from '../platform/auth/principal.js';
import { NotAllowedError, NotFoundError } from '../platform/errors.js';
import type { TeamDirectory } from '../teams/contract.js';

/** Scopes that matter to Pier One. */
export const SCOPES = {
  write: 'application.write',
  writeAll: 'application.write_all',
  writeAllTrusted: 'application.write_all_trusted',
} as const;

interface Decision {
  allowed: boolean;
  reason: string;
  until: number;
}

/**
 * Who may push to a team's namespace: its members; services whose token has
 * `application.write` and whose application (token uid = application id) belongs to the team;
 * services with `application.write_all`. Decisions are remembered briefly, because a chunked
 * upload asks on every request.
 */
export class PushAccess {
  readonly #decisions = new Map<string, Decision>();

  constructor(
    private readonly teams: TeamDirectory,
    private readonly applications: ApplicationDirectory,
    private readonly cacheMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Throws a 403 (or 404 for a team that does not exist) unless `principal` may push to `team`. */
  async assertPush(principal: Principal, team: string): Promise<void> {
    const key = `${principal.issuer}|${principal.realm}|${principal.uid}|${team}|${scopeKey(principal)}`;
    const now = this.now();
    let decision = this.#decisions.get(key);
    if (!decision || decision.until <= now) {
      decision = { ...(await this.#decide(principal, team)), until: now + this.cacheMs };
      if (this.cacheMs > 0) {
        if (this.#decisions.size >= 10_000) this.#decisions.clear();
        this.#decisions.set(key, decision);
      }
    }
    if (!decision.allowed) throw new NotAllowedError(decision.reason, { code: 'DENIED' });
  }

  async #decide(principal: Principal, team: string): Promise<{ allowed: boolean; reason: string }> {
    if (principal.realm === 'employees') {
      if (await this.teams.isMember(team, principal.uid)) return { allowed: true, reason: 'member' };
      return { allowed: false, reason: `user ${principal.uid} is not a member of team ${team}` };
    }
    if (principal.scopes.has(SCOPES.writeAll)) {
      if (!(await this.teams.getTeam(team))) {
        throw new NotFoundError(`team ${team} does not exist`, { code: 'NAME_UNKNOWN' });
      }
      return { allowed: true, reason: SCOPES.writeAll };
    }
    if (!principal.scopes.has(SCOPES.write)) {
      return {
        allowed: false,
        reason: `service ${principal.uid} needs the scope ${SCOPES.write} (own team) or ${SCOPES.writeAll} to push`,
      };
    }
    const application = await this.applications.getApplication(principal.uid);
    if (!application) {
      return { allowed: false, reason: `service ${principal.uid} is not an application registered in Kio` };
    }
    if (application.team_id !== team) {
      return {
        allowed: false,
        reason: `application ${principal.uid} belongs to team ${application.team_id}, not to ${team}`,
      };
    }
    return { allowed: true, reason: SCOPES.write };
  }
}

function scopeKey(principal: Principal): string {
  return createHash('sha1')
    .update([...principal.scopes].sort().join(' '))
    .digest('base64url');
}
