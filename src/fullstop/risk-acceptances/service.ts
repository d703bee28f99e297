import { type Audit, internalRequestId } from '../../platform/audit/create-audit.js';
import type { Principal } from '../../platform/auth/principal.js';
import type { TeamPolicy } from '../../platform/authz/team-policy.js';
import { formatTimestamp } from '../../platform/db/timestamps.js';
import { ConflictError, NotAllowedError, NotFoundError } from '../../platform/errors.js';
import type { TeamDirectory } from '../../teams/contract.js';
import type { FullstopEvent } from '../events.js';
import { VIOLATION_TYPES } from '../rules/index.js';
import { FULLSTOP_ACTOR, toViolation } from '../violations.js';
import {
  type Criteria,
  DRY_RUN_SAMPLE,
  type DryRun,
  type DryRunResult,
  type NewRiskAcceptance,
  type RiskAcceptance,
  type RiskAcceptanceQuery,
} from './contract.js';
import { CompiledAcceptance, fieldError } from './matcher.js';
import {
  type AcceptanceWriteTransaction,
  criteriaOf,
  type RiskAcceptanceRow,
  type RiskAcceptanceStore,
  scopeOf,
} from './store.js';

const DAY_MS = 86_400_000;

export function toRiskAcceptance(row: RiskAcceptanceRow, now: Date): RiskAcceptance {
  const expires = new Date(row.expires);
  return {
    id: Number(row.id),
    criteria: criteriaOf(row),
    reason: row.reason,
    team: row.team_id,
    created: formatTimestamp(row.created),
    created_by: row.created_by,
    expires: formatTimestamp(expires),
    expired_at: row.expired_at === null ? null : formatTimestamp(row.expired_at),
    expired_by: row.expired_by,
    // Past its expiry it is expired, even in the moments before the job has ended it.
    status: row.expired_at === null && expires > now ? 'active' : 'expired',
    covered_violations: row.covered,
  };
}

/**
 * Risk acceptances: a team's statement that violations matching some criteria are known and
 * accepted until a date. While one is active, the violations it covers carry its id as
 * `rule_id` and count as checked; when it ends they are open again.
 */
export class RiskAcceptanceService {
  readonly #clock: () => Date;

  constructor(
    private readonly store: RiskAcceptanceStore,
    private readonly deps: {
      teams: Pick<TeamDirectory, 'getTeam' | 'teamOfAccount'>;
      policy: TeamPolicy;
      audit: Audit<FullstopEvent>;
      maxLifetimeDays: number;
      clock?: (() => Date) | undefined;
    },
  ) {
    this.#clock = deps.clock ?? (() => new Date());
  }

  async create(principal: Principal, body: NewRiskAcceptance, requestId: string): Promise<RiskAcceptance> {
    const prepared = await this.#prepare(principal, body);
    const now = this.#clock();
    const created = await this.store.write((tx) => this.#insert(tx, principal, body, prepared, requestId));
    return toRiskAcceptance(created, now);
  }

  /**
   * Ends `id` now and creates `body` in its place, in one transaction: what STUPS clients do
   * with `PUT /api/whitelisting-rules/{id}` (rules were never edited in place either).
   */
  async replace(
    principal: Principal,
    id: string,
    body: NewRiskAcceptance,
    requestId: string,
  ): Promise<RiskAcceptance> {
    const existing = await this.store.get(id);
    if (!existing) throw notFound(id);
    await this.deps.policy.assertMayActFor(principal, existing.team_id);
    const prepared = await this.#prepare(principal, body);
    const now = this.#clock();
    const created = await this.store.write(async (tx) => {
      await this.#end(tx, principal, existing.id, `replaced by a new acceptance`, now, requestId);
      return this.#insert(tx, principal, body, prepared, requestId);
    });
    return toRiskAcceptance(created, now);
  }

  /**
   * Brings the expiry of an active acceptance forward to `expires` (still in the future). Never
   * later: extending a decision takes a new acceptance, made on purpose.
   */
  async shorten(
    principal: Principal,
    id: string,
    expires: Date,
    requestId: string,
    field = 'expires',
  ): Promise<RiskAcceptance> {
    const existing = await this.store.get(id);
    if (!existing) throw notFound(id);
    await this.deps.policy.assertMayActFor(principal, existing.team_id);
    const now = this.#clock();
    await this.store.write(async (tx) => {
      const locked = await tx.lock(existing.id);
      if (!locked) throw notFound(id);
      const current = new Date(locked.expires);
      if (locked.expired_at !== null || current <= now) {
        throw new ConflictError(`risk acceptance ${id} has already ended`, { code: 'ACCEPTANCE_ENDED' });
      }
      if (expires <= now) {
        throw fieldError(field, `${field} must be in the future`, 'EXPIRES_INVALID');
      }
      if (expires > current) {
        throw fieldError(
          field,
          `${field} must not be later than the current expiry ${formatTimestamp(current)}: an acceptance is extended only by creating a new one`,
          'EXPIRES_TOO_LATE',
        );
      }
      await tx.setExpiry(existing.id, expires);
      await this.deps.audit(tx.executor, {
        event: 'fullstop.risk_acceptance.shorten',
        actor: principal,
        targetId: String(existing.id),
        details: { team: locked.team_id, from: formatTimestamp(current), to: formatTimestamp(expires) },
        requestId,
      });
    });
    return this.get(id);
  }

  /** Checks a new acceptance (permission, team, types, expiry) before any write. */
  async #prepare(
    principal: Principal,
    body: NewRiskAcceptance,
  ): Promise<{ compiled: CompiledAcceptance; teamScoped: boolean }> {
    const prepared = await this.#authorise(principal, body);
    const now = this.#clock();
    const expires = body.expires;
    if (expires <= now) {
      throw fieldError('expires', 'expires must be in the future', 'EXPIRES_INVALID');
    }
    const max = this.deps.maxLifetimeDays;
    if (expires.getTime() > now.getTime() + max * DAY_MS) {
      throw fieldError(
        'expires',
        `expires must be at most ${max} days ahead (fullstop.riskAcceptances.maxLifetimeDays): acceptances end, and are renewed on purpose`,
        'EXPIRES_TOO_LATE',
      );
    }
    return prepared;
  }

  async #insert(
    tx: AcceptanceWriteTransaction,
    principal: Principal,
    body: NewRiskAcceptance,
    prepared: { compiled: CompiledAcceptance; teamScoped: boolean },
    requestId: string,
  ): Promise<RiskAcceptanceRow> {
    const row = await tx.insert({
      criteria: body.criteria,
      reason: body.reason,
      team_id: body.team,
      team_scoped: prepared.teamScoped,
      created_by: principal.uid,
      expires: body.expires,
    });
    const covered = await tx.coverStored(
      new CompiledAcceptance(String(row.id), prepared.compiled.scope),
      principal.uid,
    );
    await this.deps.audit(tx.executor, {
      event: 'fullstop.risk_acceptance.create',
      actor: principal,
      targetId: String(row.id),
      details: {
        team: body.team,
        criteria: body.criteria,
        expires: formatTimestamp(body.expires),
        reason: body.reason,
        covered,
      },
      requestId,
    });
    return { ...row, covered };
  }

  /** Ends an active acceptance inside `tx`, with its audit event. */
  async #end(
    tx: AcceptanceWriteTransaction,
    principal: Principal,
    id: string,
    reason: string | null,
    now: Date,
    requestId: string,
  ): Promise<void> {
    const locked = await tx.lock(id);
    if (!locked) throw notFound(id);
    if (locked.expired_at !== null) {
      throw new ConflictError(`risk acceptance ${id} has already ended`, { code: 'ACCEPTANCE_ENDED' });
    }
    const ended = await tx.end(id, { at: now, by: principal.uid, reason, now });
    await this.deps.audit(tx.executor, {
      event: 'fullstop.risk_acceptance.expire',
      actor: principal,
      targetId: String(id),
      details: { team: locked.team_id, automatic: false, reason, ...ended },
      requestId,
    });
  }

  /** The longest an acceptance may run, in days (`fullstop.riskAcceptances.maxLifetimeDays`). */
  get maxLifetimeDays(): number {
    return this.deps.maxLifetimeDays;
  }

  now(): Date {
    return this.#clock();
  }

  /** What `create` would cover now, storing nothing. */
  async dryRun(principal: Principal, body: DryRun): Promise<DryRunResult> {
    const { compiled } = await this.#authorise(principal, body);
    const preview = await this.store.preview(compiled, DRY_RUN_SAMPLE);
    return { matching: preview.matching, sample: preview.sample.map(toViolation) };
  }

  async get(id: string): Promise<RiskAcceptance> {
    const row = await this.store.get(id);
    if (!row) throw notFound(id);
    return toRiskAcceptance(row, this.#clock());
  }

  async list(query: RiskAcceptanceQuery): Promise<RiskAcceptance[]> {
    const now = this.#clock();
    const rows = await this.store.list({ team: query.team, status: query.status, at: now });
    return rows.map((r) => toRiskAcceptance(r, now));
  }

  /** Ends an acceptance now: what it covered is open again (unless resolved or covered by another). */
  async expire(
    principal: Principal,
    id: string,
    reason: string | undefined,
    requestId: string,
  ): Promise<RiskAcceptance> {
    const existing = await this.store.get(id);
    if (!existing) throw notFound(id);
    await this.deps.policy.assertMayActFor(principal, existing.team_id);
    const now = this.#clock();
    await this.store.write((tx) => this.#end(tx, principal, existing.id, reason ?? null, now, requestId));
    return this.get(id);
  }

  /**
   * The job: ends every acceptance past its expiry. Each ends in its own transaction, and a
   * second worker finding it ended already leaves it, so overlapping runs end each once.
   */
  async expireDue(at: Date = this.#clock()): Promise<number> {
    let ended = 0;
    for (const id of await this.store.due(at)) {
      const done = await this.store.write(async (tx) => {
        const locked = await tx.lock(id);
        if (!locked || locked.expired_at !== null) return false;
        const expiredAt = new Date(locked.expires);
        const result = await tx.end(id, { at: expiredAt, by: FULLSTOP_ACTOR, reason: null, now: at });
        await this.deps.audit(tx.executor, {
          event: 'fullstop.risk_acceptance.expire',
          actor: { uid: FULLSTOP_ACTOR, realm: 'services' },
          targetId: id,
          details: { team: locked.team_id, automatic: true, expires: formatTimestamp(expiredAt), ...result },
          requestId: internalRequestId('fullstop-acceptance-expiry'),
        });
        return true;
      });
      if (done) ended++;
    }
    return ended;
  }

  /**
   * The one permission rule: members of the team (or administrators) act for it. Accounts named
   * by a member must be the team's; an administrator may name any account.
   */
  async #authorise(
    principal: Principal,
    body: { criteria: Criteria; team: string },
  ): Promise<{ compiled: CompiledAcceptance; teamScoped: boolean }> {
    const grant = await this.deps.policy.assertMayActFor(principal, body.team);
    if (!(await this.deps.teams.getTeam(body.team))) {
      throw fieldError('team', `team ${body.team} does not exist`, 'TEAM_UNKNOWN');
    }
    const unknownType = body.criteria.types?.find((t) => !VIOLATION_TYPES.has(t));
    if (unknownType !== undefined) {
      throw fieldError(
        'criteria.types',
        `criteria.types: unknown violation type ${unknownType}; GET /api/violation-types lists them`,
        'VIOLATION_TYPE_UNKNOWN',
      );
    }
    const admin = grant === 'admin';
    if (!admin) {
      for (const account of body.criteria.accounts ?? []) {
        const owner = await this.deps.teams.teamOfAccount(account);
        if (owner?.id !== body.team) {
          throw new NotAllowedError(`account ${account} is not an account of team ${body.team}`, {
            code: 'ACCOUNT_NOT_OF_TEAM',
          });
        }
      }
    }
    const teamScoped = !admin || body.criteria.accounts === undefined;
    const scope = scopeOf({
      criteria: JSON.stringify(body.criteria),
      team_id: body.team,
      team_scoped: teamScoped,
    });
    return { compiled: new CompiledAcceptance(undefined, scope), teamScoped };
  }
}

function notFound(id: string): NotFoundError {
  return new NotFoundError(`risk acceptance ${id} does not exist`, { code: 'ACCEPTANCE_NOT_FOUND' });
}
