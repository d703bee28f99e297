import type { Audit } from '../platform/audit/create-audit.js';
import type { Principal } from '../platform/auth/principal.js';
import type { TeamPolicy } from '../platform/authz/team-policy.js';
import { formatTimestamp } from '../platform/db/timestamps.js';
import { InputError, NotAllowedError, NotFoundError } from '../platform/errors.js';
import type { TeamDirectory } from '../teams/contract.js';
import type {
  InstanceLog,
  NewViolation,
  Violation,
  ViolationPage,
  ViolationQuery,
  ViolationType,
} from './contract.js';
import type { FullstopEvent } from './events.js';
import type { Finding, RuleContext } from './rules/index.js';
import { AUDIT_LOG_RULES, USER_DATA_RULES, VIOLATION_TYPES } from './rules/index.js';
import type { FullstopStore, NewViolationRow, ViolationFilter, ViolationRow } from './store.js';
import { type InstanceChange, pieroneImageOf } from './running-instances.js';
import { parseUserData } from './user-data.js';
import { parseAuditLog } from './audit-log.js';

/** Who stores violations found by fullstop itself (ingestion, instance logs). */
export const FULLSTOP_ACTOR = 'fullstop';
/** The scope a service needs to report violations (`POST /api/violations`). */
export const VIOLATION_WRITE_SCOPE = 'fullstop.violation.write';

/** The type of a stored violation; an id no rule knows (posted by an older client) gets STUPS' default. */
export function violationTypeOf(id: string): ViolationType {
  const known = VIOLATION_TYPES.get(id);
  if (known) {
    const { meta_info_keys: _keys, ...type } = known;
    return type;
  }
  return {
    id,
    help_text: 'This is only a default message',
    violation_severity: 0,
    audit_relevant: false,
    title: id,
    priority: 4,
  };
}

export function toViolation(row: ViolationRow): Violation {
  return {
    id: Number(row.id),
    version: row.version,
    event_id: row.event_id,
    account_id: row.account_id,
    region: row.region,
    meta_info: typeof row.meta_info === 'string' ? JSON.parse(row.meta_info) : row.meta_info,
    comment: row.comment,
    instance_id: row.instance_id === '' ? null : row.instance_id,
    violation_type: violationTypeOf(row.type_id),
    created: formatTimestamp(row.created),
    created_by: row.created_by,
    event_time: row.event_time === null ? null : formatTimestamp(row.event_time),
    last_modified: formatTimestamp(row.last_modified),
    last_modified_by: row.last_modified_by,
    username: row.username,
    rule_id: row.rule_id === null ? null : Number(row.rule_id),
    application_id: row.application_id,
    application_version_id: row.application_version_id,
  };
}

/** A finding of a rule as the row it is stored as. */
export function findingRow(
  finding: Finding,
  where: {
    account: string;
    region: string;
    eventId: string;
    /** When the event happened; null when the input does not say. */
    eventTime: Date | null;
    team: string | null;
    username: string | null;
  },
): NewViolationRow {
  return {
    event_id: finding.eventId ?? where.eventId,
    account_id: where.account,
    region: where.region,
    instance_id: finding.instanceId ?? '',
    type_id: finding.type,
    meta_info: finding.metaInfo ?? null,
    team_id: where.team,
    username: where.username,
    application_id: finding.applicationId ?? null,
    application_version_id: finding.applicationVersionId ?? null,
    created_by: FULLSTOP_ACTOR,
    event_time: finding.eventTime ?? where.eventTime,
  };
}

/** Violations: reading them, resolving them, reporting them, and the instance logs rules read. */
export class ViolationService {
  constructor(
    private readonly store: FullstopStore,
    private readonly deps: {
      teams: Pick<TeamDirectory, 'teamOfAccount'>;
      policy: TeamPolicy;
      audit: Audit<FullstopEvent>;
      rules: RuleContext;
    },
  ) {}

  types(): ViolationType[] {
    return [...VIOLATION_TYPES.keys()].map(violationTypeOf);
  }

  async list(query: ViolationQuery): Promise<ViolationPage> {
    const filter = filterOf(query);
    const { rows, total } = await this.store.list(filter, {
      offset: query.page * query.size,
      limit: query.size,
      sort: query.sort,
    });
    const totalPages = Math.ceil(total / query.size);
    return {
      content: rows.map(toViolation),
      totalElements: total,
      totalPages,
      first: query.page === 0,
      last: query.page >= totalPages - 1,
      number: query.page,
      size: query.size,
      numberOfElements: rows.length,
      sort: [
        {
          direction: query.sort.direction,
          property: query.sort.property,
          ascending: query.sort.direction === 'ASC',
        },
      ],
    };
  }

  async get(id: string): Promise<Violation> {
    const row = await this.store.get(id);
    if (!row) throw new NotFoundError(`violation ${id} does not exist`, { code: 'VIOLATION_NOT_FOUND' });
    return toViolation(row);
  }

  /**
   * Sets the violation's comment: its resolution. Only for those who may act for the team that
   * owned the account when the violation was found; a violation of an account no team owned
   * only for administrators.
   */
  async resolve(principal: Principal, id: string, comment: string, requestId: string): Promise<Violation> {
    const text = comment.trim();
    if (!text)
      throw new InputError('the resolution needs a comment (the request body)', { code: 'COMMENT_MISSING' });
    if (text.length > 10_000) throw new InputError('the comment is longer than 10,000 characters');
    const existing = await this.store.get(id);
    if (!existing) throw new NotFoundError(`violation ${id} does not exist`, { code: 'VIOLATION_NOT_FOUND' });
    if (existing.team_id === null) {
      this.deps.policy.assertAdmin(
        principal,
        `resolve violations of account ${existing.account_id}, which no team owns`,
      );
    } else {
      await this.deps.policy.assertMayActFor(principal, existing.team_id);
    }
    return this.store.write(async (tx) => {
      const locked = await tx.lockViolation(existing.id);
      if (!locked) throw new NotFoundError(`violation ${id} does not exist`, { code: 'VIOLATION_NOT_FOUND' });
      const row = await tx.setComment(existing.id, text, principal.uid);
      await this.deps.audit(tx.executor, {
        event: 'fullstop.violation.resolve',
        actor: principal,
        // bigint columns come back as numbers on PGlite, as strings on PostgreSQL
        targetId: String(existing.id),
        details: { account_id: row.account_id, type: row.type_id, previous_comment: locked.comment },
        requestId,
      });
      return toViolation(row);
    });
  }

  /** A violation reported by a service holding `fullstop.violation.write`; stored once per key. */
  async create(
    principal: Principal,
    body: NewViolation,
    requestId: string,
  ): Promise<{ violation: Violation; created: boolean }> {
    if (!principal.scopes.has(VIOLATION_WRITE_SCOPE)) {
      throw new NotAllowedError(`the access token lacks the scope ${VIOLATION_WRITE_SCOPE}`, {
        code: 'INSUFFICIENT_SCOPE',
        requiredScopes: [VIOLATION_WRITE_SCOPE],
      });
    }
    const typeId = typeof body.violation_type === 'string' ? body.violation_type : body.violation_type.id;
    if (!VIOLATION_TYPES.has(typeId)) {
      throw new InputError(`unknown violation type ${typeId}; GET /api/violation-types lists them`, {
        code: 'VIOLATION_TYPE_UNKNOWN',
      });
    }
    const team = (await this.deps.teams.teamOfAccount(body.account_id))?.id ?? null;
    const row: NewViolationRow = {
      event_id: body.event_id,
      account_id: body.account_id,
      region: body.region,
      instance_id: body.instance_id ?? '',
      type_id: typeId,
      meta_info: body.meta_info ?? null,
      team_id: team,
      username: body.username ?? null,
      application_id: body.application_id ?? null,
      application_version_id: body.application_version_id ?? null,
      created_by: principal.uid,
    };
    const id = await this.store.write(async (tx) => {
      const [inserted] = await tx.insertViolations([row]);
      if (inserted !== undefined) {
        await this.deps.audit(tx.executor, {
          event: 'fullstop.violation.create',
          actor: principal,
          targetId: inserted,
          details: { account_id: row.account_id, region: row.region, type: typeId, event_id: row.event_id },
          requestId,
        });
      }
      return inserted;
    });
    if (id !== undefined) return { violation: await this.get(id), created: true };
    const existing = await this.store.findByKey(row);
    if (!existing) throw new Error('violation vanished between insert and read');
    return { violation: toViolation(existing), created: false };
  }

  /**
   * Stores a Taupage log. USER_DATA is checked by the user data rules at once, in the same
   * transaction: the violations they find commit with the log and its audit event.
   */
  async receiveInstanceLog(
    principal: Principal,
    log: InstanceLog,
    requestId: string,
  ): Promise<{ violations: number }> {
    let rows: NewViolationRow[] = [];
    const instances: InstanceChange[] = [];
    if (log.log_type === 'USER_DATA') {
      const userData = parseUserData(log.log_data);
      if (!userData) {
        throw new InputError('log_data is not base64 of a YAML mapping (Taupage user data)', {
          code: 'USER_DATA_INVALID',
        });
      }
      const instance = { account: log.account_id, region: log.region, instanceId: log.instance_id };
      const source = userData.source?.trim();
      // The image it runs, for retention's keep_running (whatever the runtime: keeping is safe).
      if (source) {
        const image = pieroneImageOf(source, this.deps.rules.settings.pieroneHosts);
        instances.push({ ...instance, kind: 'image', source, image });
      }
      const findings: Finding[] = [];
      for (const rule of USER_DATA_RULES)
        findings.push(...(await rule.check(userData, instance, this.deps.rules)));
      const team = (await this.deps.teams.teamOfAccount(log.account_id))?.id ?? null;
      rows = findings.map((f) =>
        findingRow(f, {
          account: log.account_id,
          region: log.region,
          // One boot of one instance is one "event": a reboot with the same user data adds nothing.
          eventId: `user-data:${log.instance_id}:${log.instance_boot_time}`,
          // The user data is what the instance booted with.
          eventTime: timeOf(log.instance_boot_time),
          team,
          username: null,
        }),
      );
    }
    if (log.log_type === 'AUDIT_LOG') {
      const logins = parseAuditLog(log.log_data, log.instance_boot_time);
      if (!logins) {
        throw new InputError('log_data is not base64 of a (gzip-compressed) text log', {
          code: 'AUDIT_LOG_INVALID',
        });
      }
      const instance = { account: log.account_id, region: log.region, instanceId: log.instance_id };
      const findings: Finding[] = [];
      for (const rule of AUDIT_LOG_RULES)
        findings.push(...(await rule.check(logins, instance, this.deps.rules)));
      const team = (await this.deps.teams.teamOfAccount(log.account_id))?.id ?? null;
      rows = findings.map((f) =>
        findingRow(f, {
          account: log.account_id,
          region: log.region,
          eventId: `audit-log:${log.instance_id}:${log.instance_boot_time}`,
          // Each login finding says its own time; the boot time is the fallback.
          eventTime: timeOf(log.instance_boot_time),
          team,
          username: typeof f.metaInfo?.username === 'string' ? f.metaInfo.username : null,
        }),
      );
    }
    return this.store.write(async (tx) => {
      const logId = await tx.insertInstanceLog({
        account_id: log.account_id,
        region: log.region,
        instance_id: log.instance_id,
        instance_boot_time: log.instance_boot_time,
        log_type: log.log_type,
        log_data: log.log_data,
        created_by: principal.uid,
      });
      const inserted = await tx.insertViolations(rows);
      await tx.recordInstances(instances);
      await this.deps.audit(tx.executor, {
        event: 'fullstop.instance_log.create',
        actor: principal,
        targetId: logId,
        details: {
          account_id: log.account_id,
          region: log.region,
          instance_id: log.instance_id,
          log_type: log.log_type,
          violations: inserted.length,
        },
        requestId,
      });
      return { violations: inserted.length };
    });
  }

  async countByAccount(query: ViolationQuery) {
    return this.store.countByAccountAndType(filterOf(query));
  }

  async countByApplication(account: string, query: ViolationQuery) {
    return this.store.countByApplicationAndType({ ...filterOf(query), accounts: [account] });
  }
}

/** The store filter of a query; severity, priority and audit relevance select types. */
export function filterOf(q: ViolationQuery): ViolationFilter {
  let typeIds = q.type;
  if (q.severity || q.priority || q['audit-relevant'] !== undefined) {
    const matching = [...VIOLATION_TYPES.values()]
      .filter((t) => !q.severity || q.severity.includes(t.violation_severity))
      .filter((t) => !q.priority || q.priority.includes(t.priority))
      .filter((t) => q['audit-relevant'] === undefined || t.audit_relevant === q['audit-relevant'])
      .map((t) => t.id);
    typeIds = typeIds ? typeIds.filter((id) => matching.includes(id)) : matching;
  }
  return {
    accounts: q.accounts,
    from: q.from,
    to: q.to,
    afterId: q['last-violation'],
    // Whitelisted violations are checked by definition: `whitelisted=true` alone must find them.
    checked: q.checked ?? (q.whitelisted === true ? undefined : false),
    typeIds,
    applicationIds: q['application-ids'],
    applicationVersionIds: q['application-version-ids'],
    instanceIds: q['instance-ids'],
    whitelisted: q.whitelisted,
  };
}

/**
 * A timestamp an input gives as text (CloudTrail: ISO with `Z`; Taupage: `2026-11-27 10:00:00`,
 * UTC without a zone); null when it is none.
 */
export function timeOf(text: string): Date | null {
  const local = /^(\d{4}-\d\d-\d\d)[ T](\d\d:\d\d(?::\d\d(?:\.\d+)?)?)$/.exec(text.trim());
  const ms = Date.parse(local ? `${local[1]}T${local[2]}Z` : text);
  return Number.isNaN(ms) ? null : new Date(ms);
}
