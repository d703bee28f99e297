import { type Generated, type Kysely, sql } from 'kysely';
import type { Principal } from '../../platform/auth/principal.js';
import type { TeamPolicy } from '../../platform/authz/team-policy.js';
import type { Database } from '../../platform/db/database.js';
import { ConflictError, NotAllowedError, NotFoundError } from '../../platform/errors.js';
import type { Logger } from '../../platform/logger.js';
import { type Actor, type PierOneAudit, recordRefusal, type WriteTarget } from '../access.js';
import type { Manifests } from '../manifests.js';
import type { PierOneStore } from '../store.js';
import { type Expiry, expiredTags, type RetentionRule, type RetentionRuleInput, ruleScope } from './rule.js';

interface RetentionTables {
  pierone_retention_rules: {
    team: string;
    /** '' for the team's rule. */
    artifact: string;
    keep_last: number | null;
    keep_patterns: string | null;
    keep_running: boolean;
    snapshot_days: number | null;
    updated_at: Generated<Date>;
    updated_by: string;
  };
}

/**
 * Which images run, as fullstop knows it: the tags and manifest digests of `team/artifact`
 * that running instances use. Provided by a module after Pier One (contract `runningImages`).
 */
export interface RunningImageDirectory {
  runningImages(team: string, artifact: string): Promise<Set<string>>;
}

/** What one repository's rule lets go. */
export interface RepositoryPlan {
  team: string;
  artifact: string;
  /** `team` or `team/artifact`: the rule that applies. */
  rule: string;
  expired: Expiry[];
  /** Why the rule was not evaluated (it keeps running images and nobody can say which run). */
  skipped?: string | undefined;
}

/** What a run deleted, per repository, and what it could not. */
export interface RetentionRunResult {
  deleted: Array<{ team: string; artifact: string; tag: string; reason: string }>;
  failed: Array<{ team: string; artifact: string; tag: string; error: string }>;
  skipped: RepositoryPlan[];
}

/** The actor of the retention job's deletions, as the audit log and deleted tags show it. */
export const RETENTION_ACTOR = 'pierone-retention';

const retentionPrincipal: Principal = {
  uid: RETENTION_ACTOR,
  realm: 'services',
  scopes: new Set(),
  clientId: undefined,
  grantType: undefined,
  issuer: 'pierone',
  tokenId: undefined,
  expiresAt: new Date(8.64e15),
};

const NO_RUNNING_SOURCE =
  'no module provides running images (contract runningImages: fullstop is disabled or not configured)';

/** Members of a team (and platform admins) manage its rules. */
const RULE_POLICY = { admins: true } as const;

/**
 * Retention rules per team or repository, their dry run and the job that applies them. A rule
 * never deletes on its own terms: every deletion is the audited admin deletion path
 * (`Manifests.deleteTagAsSystem`), with actor `pierone-retention` and the rule in the reason, so
 * it shows in deleted tags as "deleted by pierone-retention on D because retention rule …".
 */
export class Retention {
  readonly #db: Kysely<RetentionTables>;

  constructor(
    database: Database,
    private readonly deps: {
      store: PierOneStore;
      manifests: Manifests;
      policy: TeamPolicy;
      audit: PierOneAudit;
      logger: Logger;
      /** Looked up when needed: the module providing it starts after Pier One. */
      running: () => RunningImageDirectory | undefined;
      clock?: () => Date;
    },
  ) {
    this.#db = database.kysely<RetentionTables>();
  }

  /** A team's rules: its own first, then its repositories' in name order. */
  async rules(team: string): Promise<RetentionRule[]> {
    const rows = await this.#db
      .selectFrom('pierone_retention_rules')
      .selectAll()
      .where('team', '=', team)
      .orderBy('artifact')
      .execute();
    return rows.map(toRule);
  }

  /** Sets the rule of `team` (artifact undefined) or of one repository; members of the team only. */
  async setRule(
    actor: Actor,
    team: string,
    artifact: string | undefined,
    input: RetentionRuleInput,
  ): Promise<RetentionRule> {
    const attempted: WriteTarget = {
      event: 'pierone.retention_rule.set',
      targetId: ruleScope({ team, artifact }),
    };
    await this.#assertMayManage(actor, team, attempted);
    if (input.keep_running && !this.deps.running()) {
      // Saved, the rule would delete nothing ever (see #planRepository): say so now, not silently.
      throw new ConflictError(
        `${NO_RUNNING_SOURCE}: keep_running cannot be honoured, so the rule is refused (enable fullstop, or save the rule without keep_running)`,
        { code: 'RUNNING_IMAGES_UNAVAILABLE' },
      );
    }
    const values = {
      keep_last: input.keep_last ?? null,
      keep_patterns: input.keep_patterns.length > 0 ? JSON.stringify(input.keep_patterns) : null,
      keep_running: input.keep_running,
      snapshot_days: input.snapshot_days ?? null,
      updated_by: actor.principal.uid,
    };
    const row = await this.#db.transaction().execute(async (trx) => {
      const written = await trx
        .insertInto('pierone_retention_rules')
        .values({ team, artifact: artifact ?? '', ...values })
        .onConflict((oc) =>
          oc.columns(['team', 'artifact']).doUpdateSet({ ...values, updated_at: sql`now()` }),
        )
        .returningAll()
        .executeTakeFirstOrThrow();
      await this.deps.audit(trx, {
        event: attempted.event,
        actor: actor.principal,
        targetId: attempted.targetId,
        details: { ...input },
        requestId: actor.requestId,
      });
      return written;
    });
    return toRule(row);
  }

  /** Removes a rule; 404 when there is none. */
  async deleteRule(actor: Actor, team: string, artifact: string | undefined): Promise<void> {
    const attempted: WriteTarget = {
      event: 'pierone.retention_rule.delete',
      targetId: ruleScope({ team, artifact }),
    };
    await this.#assertMayManage(actor, team, attempted);
    const gone = await this.#db.transaction().execute(async (trx) => {
      const row = await trx
        .deleteFrom('pierone_retention_rules')
        .where('team', '=', team)
        .where('artifact', '=', artifact ?? '')
        .returning('team')
        .executeTakeFirst();
      if (!row) return false;
      await this.deps.audit(trx, {
        event: attempted.event,
        actor: actor.principal,
        targetId: attempted.targetId,
        requestId: actor.requestId,
      });
      return true;
    });
    if (!gone) throw new NotFoundError(`there is no retention rule for ${attempted.targetId}`);
  }

  /**
   * The dry run: what the rules would delete now, per repository, for one team or every team
   * with rules. Reads only.
   */
  async plan(team?: string): Promise<RepositoryPlan[]> {
    let q = this.#db.selectFrom('pierone_retention_rules').selectAll();
    if (team !== undefined) q = q.where('team', '=', team);
    const rules = (await q.orderBy('team').orderBy('artifact').execute()).map(toRule);
    const byTeam = new Map<string, RetentionRule[]>();
    for (const rule of rules) byTeam.set(rule.team, [...(byTeam.get(rule.team) ?? []), rule]);
    const now = this.deps.clock?.() ?? new Date();
    const plans: RepositoryPlan[] = [];
    for (const [name, teamRules] of byTeam) {
      const teamRule = teamRules.find((r) => r.artifact === undefined);
      for (const artifact of await this.deps.store.artifacts(name)) {
        // A repository's own rule replaces the team's for it.
        const rule = teamRules.find((r) => r.artifact === artifact) ?? teamRule;
        if (!rule) continue;
        plans.push(await this.#planRepository(rule, name, artifact, now));
      }
    }
    return plans;
  }

  async #planRepository(
    rule: RetentionRule,
    team: string,
    artifact: string,
    now: Date,
  ): Promise<RepositoryPlan> {
    const scope = ruleScope(rule);
    let running: Set<string> | undefined;
    if (rule.keepRunning) {
      const directory = this.deps.running();
      if (!directory) {
        return {
          team,
          artifact,
          rule: scope,
          expired: [],
          skipped: `the rule keeps running images and ${NO_RUNNING_SOURCE}: nothing is deleted`,
        };
      }
      try {
        running = await directory.runningImages(team, artifact);
      } catch (error) {
        // Unknown is not "nothing runs": the rule waits for the next run.
        const why = error instanceof Error ? error.message : String(error);
        return { team, artifact, rule: scope, expired: [], skipped: `running images unknown: ${why}` };
      }
    }
    const tags = (await this.deps.store.tags(team, artifact)).map((t) => ({
      name: t.name,
      digest: t.digest,
      created: t.created,
      productionReady: t.incidentId !== null,
    }));
    return { team, artifact, rule: scope, expired: expiredTags(rule, tags, running, now) };
  }

  /**
   * Applies every rule: the retention job. Each tag goes in its own transaction with its own
   * `pierone.tag.delete` event; one failing deletion is logged and the others still happen.
   */
  async run(): Promise<RetentionRunResult> {
    const result: RetentionRunResult = { deleted: [], failed: [], skipped: [] };
    const runId = `retention-${(this.deps.clock?.() ?? new Date()).toISOString()}`;
    const actor: Actor = { principal: retentionPrincipal, requestId: runId };
    for (const plan of await this.plan()) {
      if (plan.skipped) {
        this.deps.logger.warn(
          { team: plan.team, artifact: plan.artifact, rule: plan.rule },
          `retention rule ${plan.rule} not applied: ${plan.skipped}`,
        );
        result.skipped.push(plan);
        continue;
      }
      for (const expiry of plan.expired) {
        const where = { team: plan.team, artifact: plan.artifact, tag: expiry.tag };
        try {
          await this.deps.manifests.deleteTagAsSystem(
            actor,
            { team: plan.team, artifact: plan.artifact },
            expiry.tag,
            expiry.reason,
          );
          result.deleted.push({ ...where, reason: expiry.reason });
        } catch (error) {
          // Deleted meanwhile (another run, an admin) or the database failed: the next run sees.
          const message = error instanceof Error ? error.message : String(error);
          this.deps.logger.warn({ ...where, err: message }, 'retention could not delete a tag');
          result.failed.push({ ...where, error: message });
        }
      }
    }
    if (result.deleted.length > 0 || result.failed.length > 0) {
      this.deps.logger.info(
        { deleted: result.deleted.length, failed: result.failed.length, skipped: result.skipped.length },
        'retention run',
      );
    }
    return result;
  }

  async #assertMayManage(actor: Actor, team: string, attempted: WriteTarget): Promise<void> {
    try {
      await this.deps.policy.assertMayActFor(actor.principal, team, RULE_POLICY);
    } catch (error) {
      if (error instanceof NotAllowedError) {
        throw await recordRefusal(this.deps.audit, actor.principal, actor.requestId, attempted, error);
      }
      throw error;
    }
  }
}

function toRule(row: {
  team: string;
  artifact: string;
  keep_last: number | null;
  keep_patterns: string | null;
  keep_running: boolean;
  snapshot_days: number | null;
  updated_at: Date;
  updated_by: string;
}): RetentionRule {
  return {
    team: row.team,
    artifact: row.artifact === '' ? undefined : row.artifact,
    keepLast: row.keep_last ?? undefined,
    keepPatterns: row.keep_patterns ? (JSON.parse(row.keep_patterns) as string[]) : [],
    keepRunning: row.keep_running,
    snapshotDays: row.snapshot_days ?? undefined,
    updatedAt: new Date(row.updated_at),
    updatedBy: row.updated_by,
  };
}
