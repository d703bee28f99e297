import { type Audit, internalRequestId } from '../platform/audit/create-audit.js';
import type { Principal } from '../platform/auth/principal.js';
import type { TeamPolicy } from '../platform/authz/team-policy.js';
import { ConflictError, InputError, NotFoundError } from '../platform/errors.js';
import type { TeamDirectory } from '../teams/contract.js';
import {
  type Application,
  type ApplicationChange,
  type ApplicationDetail,
  type ApplicationDirectory,
  type ApplicationListQuery,
  type ApplicationPut,
  type ApplicationSearchHit,
  type ApplicationSummary,
  EDITABLE_FIELDS,
  type EditableField,
} from './contract.js';
import type { KioEvent } from './events.js';
import type {
  ApplicationRow,
  ApplicationStore,
  ApplicationValues,
  ApplicationWriteTransaction,
  FieldChanges,
} from './store.js';

/** Who makes a change: a verified principal, or the platform itself (seeding, imports). */
export type Actor = Pick<Principal, 'uid' | 'realm'> & { principal?: Principal | undefined };

export interface SearchSettings {
  /** Matches ranked at most per search (default 1,000). */
  candidateLimit: number;
  /** Hits answered when the client sends no `limit` (default 50). */
  defaultLimit: number;
}

export const DEFAULT_SEARCH_SETTINGS: SearchSettings = { candidateLimit: 1000, defaultLimit: 50 };

const REQUIRED_ON_CREATE = ['team_id', 'active', 'name'] as const;

const DEFAULTS: Omit<ApplicationValues, 'team_id' | 'active' | 'name'> = {
  subtitle: null,
  description: null,
  service_url: null,
  scm_url: null,
  documentation_url: null,
  specification_url: null,
  support_url: null,
  specification_type: null,
  criticality_level: 2,
  publicly_accessible: false,
  incident_contact: null,
  required_approvers: 2,
};

/** A write retries when the application changed team between the authorization and the lock. */
const MAX_WRITE_ATTEMPTS = 5;

export interface PutResult {
  application: ApplicationDetail;
  created: boolean;
  /** Fields that changed, old → new; empty when the PUT changed nothing. */
  changes: FieldChanges;
}

/**
 * The application registry: merge semantics, authorization and history of writes.
 * Knows nothing about HTTP; throws the platform's semantic errors.
 */
export class ApplicationRegistry implements ApplicationDirectory {
  constructor(
    private readonly store: ApplicationStore,
    private readonly deps: {
      teams: TeamDirectory;
      /** "May act for team X"; its application lookup is this registry. */
      policy: TeamPolicy;
      audit: Audit<KioEvent>;
      search?: Partial<SearchSettings>;
    },
  ) {}

  get searchSettings(): SearchSettings {
    return { ...DEFAULT_SEARCH_SETTINGS, ...this.deps.search };
  }

  async getApplication(id: string): Promise<ApplicationSummary | undefined> {
    const app = await this.store.get(id);
    return (
      app && { id: app.id, team_id: app.team_id, active: app.active, name: app.name, scm_url: app.scm_url }
    );
  }

  async get(id: string): Promise<ApplicationDetail> {
    const app = await this.store.get(id);
    if (!app) throw new NotFoundError(`application ${id} does not exist`, { code: 'APPLICATION_NOT_FOUND' });
    return app;
  }

  /** A filtered listing, or, with `search`, the best-ranked matches. */
  async list(query: ApplicationListQuery): Promise<Application[] | ApplicationSearchHit[]> {
    const filter = {
      teamId: query.team_id,
      incidentContact: query.incident_contact,
      active: query.active,
      modifiedBefore: query.modified_before ? new Date(query.modified_before) : undefined,
      modifiedAfter: query.modified_after ? new Date(query.modified_after) : undefined,
      limit: query.limit,
      offset: query.offset,
    };
    if (query.search === undefined) return this.store.list(filter);
    const settings = this.searchSettings;
    const limit = query.limit ?? settings.defaultLimit;
    return this.store.search(query.search, {
      ...filter,
      limit,
      // Explicit paging beyond the cap widens it: the client asked for those rows.
      candidateLimit: Math.max(settings.candidateLimit, (query.offset ?? 0) + (query.limit ?? 0)),
    });
  }

  /**
   * One page of an application's history, newest first, and the cursor of the next page
   * (undefined on the last page). One more row than asked for is read to know whether a next
   * page exists, so a client never gets an empty last page to find out.
   */
  async history(
    id: string,
    page: { limit: number; before?: string | undefined },
  ): Promise<{ changes: ApplicationChange[]; next: string | undefined }> {
    if ((await this.store.teamOf(id)) === undefined) {
      throw new NotFoundError(`application ${id} does not exist`, { code: 'APPLICATION_NOT_FOUND' });
    }
    const rows = await this.store.history(id, { limit: page.limit + 1, before: page.before });
    const changes = rows.slice(0, page.limit);
    return { changes, next: rows.length > page.limit ? changes.at(-1)?.id : undefined };
  }

  /**
   * `PUT /apps/{id}`: creates the application or merges the given fields into it. Absent
   * and `null` fields keep their value. With a principal, the write is authorized by the team
   * policy for the current team (a move to another team included); without one it is a trusted
   * platform write (seeding). The audit event commits with the change, or neither does.
   *
   * Authorization needs the team directory, which may share the single PGlite connection,
   * so it runs before the transaction; the transaction then re-reads the row under a lock
   * and starts over if the team changed meanwhile. The merge itself always uses the locked
   * row, so concurrent writers of different fields never lose each other's changes.
   */
  async put(
    actor: Actor,
    id: string,
    body: ApplicationPut,
    requestId: string = internalRequestId('kio'),
  ): Promise<PutResult> {
    if (body.id != null && body.id !== id) {
      throw new InputError(`the body's id ${body.id} differs from the id ${id} in the path`, {
        code: 'ID_MISMATCH',
      });
    }
    const given = givenValues(body);
    for (let attempt = 1; attempt <= MAX_WRITE_ATTEMPTS; attempt++) {
      const currentTeam = await this.store.teamOf(id);
      if (currentTeam === undefined) {
        const missing = REQUIRED_ON_CREATE.filter((f) => given[f] === undefined);
        if (missing.length) {
          throw new InputError(
            `a new application needs ${REQUIRED_ON_CREATE.join(', ')}; missing: ${missing.join(', ')}`,
            { code: 'MISSING_FIELDS', details: { errors: missing.map((f) => ({ field: f })) } },
          );
        }
      }
      const newTeam = given.team_id ?? currentTeam!;
      if (newTeam !== currentTeam && !(await this.deps.teams.getTeam(newTeam))) {
        throw new InputError(`team ${newTeam} does not exist`, { code: 'UNKNOWN_TEAM' });
      }
      if (actor.principal) {
        // Whoever may act for the current team may also hand the application to another team,
        // as in STUPS: the new team gains an application, it loses nothing, so its consent is
        // not asked. A new application needs the right to act for the team it is created in.
        await this.deps.policy.assertMayActFor(actor.principal, currentTeam ?? newTeam);
      }
      const outcome = await this.store.write(async (tx) => {
        const locked = await tx.lock(id);
        if ((locked?.team_id ?? undefined) !== currentTeam) return undefined; // moved or created meanwhile
        const at = new Date();
        if (!locked) {
          const values = { ...DEFAULTS, ...given } as ApplicationValues;
          const inserted = await tx.insert({
            id,
            ...values,
            created: at,
            created_by: actor.uid,
            last_modified: at,
            last_modified_by: actor.uid,
          });
          if (!inserted) return undefined;
          const changes = diff(undefined, values);
          await tx.recordChange({
            applicationId: id,
            action: 'create',
            at,
            by: actor.uid,
            byRealm: actor.realm,
            changes,
          });
          await this.#audit(tx, actor, id, true, changes, requestId);
          return { created: true, changes };
        }
        const changes = diff(locked, given);
        if (Object.keys(changes).length === 0) return { created: false, changes };
        const patch = Object.fromEntries(Object.entries(changes).map(([f, c]) => [f, c.new]));
        await tx.update(id, patch, at, actor.uid);
        await tx.recordChange({
          applicationId: id,
          action: 'update',
          at,
          by: actor.uid,
          byRealm: actor.realm,
          changes,
        });
        await this.#audit(tx, actor, id, false, changes, requestId);
        return { created: false, changes };
      });
      if (!outcome) continue;
      return { application: await this.get(id), ...outcome };
    }
    throw new ConflictError(`application ${id} changed too often while being written; try again`, {
      code: 'CONCURRENT_MODIFICATION',
    });
  }

  /**
   * A write to the deprecated version routes (`PUT /apps/{id}/versions/{v}`, `POST …/approvals`),
   * which old deploy scripts still make: authorized like a write of the application, then
   * ignored, since versions and approvals are no longer kept. Nothing changes, so there is no
   * transaction to audit in; the accepted call is recorded on its own.
   */
  async ignoreDeprecatedWrite(
    principal: Principal,
    id: string,
    version: string,
    event: Extract<KioEvent, 'kio.version.put' | 'kio.version.approve'>,
    requestId: string,
  ): Promise<void> {
    const app = await this.get(id);
    await this.deps.policy.assertMayActFor(principal, app.team_id);
    await this.deps.audit.standalone({
      event,
      actor: principal,
      targetId: `${id}/${version}`,
      details: { ignored: true, reason: 'versions and approvals are no longer kept by Kio' },
      requestId,
    });
  }

  #audit(
    tx: ApplicationWriteTransaction,
    actor: Actor,
    id: string,
    created: boolean,
    changes: FieldChanges,
    requestId: string,
  ): Promise<void> {
    return this.deps.audit(tx.executor, {
      event: 'kio.application.put',
      actor,
      targetId: id,
      details: { created, changes },
      requestId,
    });
  }
}

/** The writable fields the body sets: `null`/absent are dropped, `''` clears (stored as null). */
function givenValues(body: ApplicationPut): Partial<ApplicationValues> {
  const values: Partial<Record<EditableField, unknown>> = {};
  for (const field of EDITABLE_FIELDS) {
    const value = body[field];
    if (value === undefined || value === null) continue;
    values[field] = value === '' ? null : value;
  }
  return values as Partial<ApplicationValues>;
}

function diff(before: ApplicationRow | undefined, after: Partial<ApplicationValues>): FieldChanges {
  const changes: FieldChanges = {};
  for (const field of EDITABLE_FIELDS) {
    if (!(field in after)) continue;
    const old = before ? before[field] : null;
    const value = after[field];
    if (before && old === value) continue;
    if (!before && value === null) continue;
    changes[field] = { old, new: value };
  }
  return changes;
}
