import { type Audit, type AuditActor, markAudited } from '../platform/audit/create-audit.js';
import type { Principal } from '../platform/auth/principal.js';
import type { TeamPolicy, TeamPolicyOptions } from '../platform/authz/team-policy.js';
import { NotAllowedError, NotFoundError, type StupsError, statusOf } from '../platform/errors.js';
import type { TeamDirectory } from '../teams/contract.js';
import type { PierOneEvent } from './events.js';
import { OciError } from './oci-errors.js';

/** Scopes that matter to Pier One. */
export const SCOPES = {
  write: 'application.write',
  writeAll: 'application.write_all',
  writeAllTrusted: 'application.write_all_trusted',
  /**
   * Deleting tags and manifests (emergencies: leaked secrets, legal reasons). Only together with
   * being a platform administrator: an admin token without it cannot delete.
   */
  adminDelete: 'pierone.admin.delete',
} as const;

/** Pier One's audit helper: `createAudit(ctx.auditLog, 'pierone', PIERONE_EVENTS)`. */
export type PierOneAudit = Audit<PierOneEvent>;

/** Who acts in a request: the verified caller and the request id every audit event carries. */
export interface Actor {
  principal: Principal;
  requestId: string;
}

/** What a write was aimed at: its event, and the id of the thing (`team/artifact:tag`, …). */
export interface WriteTarget {
  event: PierOneEvent;
  targetId: string;
}

/**
 * Who may push to a team's namespace, in the words of the one team policy: its members;
 * services with `application.write` whose application belongs to the team; services with
 * `application.write_all`. Platform administrators get no push rights of their own: an image in
 * a team's namespace is the team's word that it built it.
 */
export const PUSH_RULE: TeamPolicyOptions = { admins: false, anyTeamScope: SCOPES.writeAll };

/**
 * The push check of every Pier One write, and the record of every write it refuses.
 *
 * Every decision asks the team directory and Kio afresh (the policy caches nothing): a cached
 * decision would let a member removed from a team keep pushing until it expired, in every
 * replica that had cached it. Both questions are one primary-key lookup, small next to the
 * request they guard, even for chunked uploads that ask on every chunk.
 */
export class PushAccess {
  constructor(
    private readonly deps: {
      policy: TeamPolicy;
      teams: Pick<TeamDirectory, 'getTeam'>;
      audit: PierOneAudit;
    },
  ) {}

  /**
   * Throws a 403 (or a 404 for a team that does not exist) unless the actor may push to `team`;
   * the refusal is audited under the attempted event first.
   */
  async assertPush(actor: Actor, team: string, attempted: WriteTarget): Promise<void> {
    try {
      const grant = await this.deps.policy.assertMayActFor(actor.principal, team, PUSH_RULE);
      // Members and applications imply the team exists; a scope valid for every team does not,
      // and pushing into a team nobody owns would make images nobody answers for.
      if (grant === 'any-team-scope' && !(await this.deps.teams.getTeam(team))) {
        throw new NotFoundError(`team ${team} does not exist`, { code: 'NAME_UNKNOWN' });
      }
    } catch (error) {
      if (error instanceof NotAllowedError || error instanceof NotFoundError) {
        throw await this.refused(actor, attempted, error);
      }
      throw error;
    }
  }

  /** Whether the actor may delete: a platform administrator whose token holds `pierone.admin.delete`. */
  mayDelete(actor: Actor): boolean {
    return this.deps.policy.isAdmin(actor.principal) && actor.principal.scopes.has(SCOPES.adminDelete);
  }

  /** Records a refused write and returns the error, marked so that no route records it again. */
  refused<T extends StupsError | OciError>(
    actor: Actor,
    attempted: WriteTarget,
    error: T,
    details: Record<string, unknown> = {},
  ): Promise<T> {
    return recordRefusal(this.deps.audit, actor.principal, actor.requestId, attempted, error, details);
  }
}

/** The actor of a write refused before anyone was identified (no or an invalid token). */
export const ANONYMOUS: AuditActor = { uid: 'anonymous' };

/**
 * Records a refused write on its own (a refusal has no change to commit with, and stays a
 * refusal even when the log cannot be written), with the status, code and message the caller
 * gets, then marks `error` as audited for the kernel's refusal hook.
 */
export async function recordRefusal<T extends StupsError | OciError>(
  audit: PierOneAudit,
  actor: AuditActor,
  requestId: string,
  attempted: WriteTarget,
  error: T,
  details: Record<string, unknown> = {},
): Promise<T> {
  const status = error instanceof OciError ? error.status : statusOf(error);
  await audit.standalone({
    event: attempted.event,
    actor,
    targetId: attempted.targetId,
    outcome: 'refused',
    details: { status, code: error.code, message: error.message, ...details },
    requestId,
  });
  return markAudited(error);
}
