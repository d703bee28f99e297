import type { AuditTransaction } from '../platform/audit/create-audit.js';
import {
  type CompiledQuery,
  type Expression,
  type ExpressionBuilder,
  type Generated,
  type Kysely,
  type Selectable,
  type SqlBool,
  sql,
  type Transaction,
} from 'kysely';
import type { Database } from '../platform/db/database.js';
import { formatTimestamp } from '../platform/db/timestamps.js';
import type {
  Application,
  ApplicationChange,
  ApplicationDetail,
  ApplicationSearchHit,
  EditableField,
} from './contract.js';
import { APPLICATIONS_CHANNEL, SearchCache } from './search-cache.js';
import { highlightSnippet, queryTerms } from './snippet.js';

export interface KioApplicationsTable {
  id: string;
  team_id: string;
  active: boolean;
  name: string;
  subtitle: string | null;
  description: string | null;
  service_url: string | null;
  scm_url: string | null;
  documentation_url: string | null;
  specification_url: string | null;
  support_url: string | null;
  specification_type: string | null;
  criticality_level: number;
  publicly_accessible: boolean;
  incident_contact: string | null;
  required_approvers: number;
  created: Date;
  created_by: string;
  last_modified: Date;
  last_modified_by: string;
  version: Generated<number>;
}

export interface KioApplicationChangesTable {
  id: Generated<string>;
  application_id: string;
  action: string;
  changed_at: Date;
  changed_by: string;
  changed_by_realm: string | null;
  changes: unknown;
}

interface KioTables {
  kio_applications: KioApplicationsTable;
  kio_application_changes: KioApplicationChangesTable;
}

export type ApplicationRow = Selectable<KioApplicationsTable>;

/** The values of the writable fields; what a write stores. */
export type ApplicationValues = { [K in EditableField]: KioApplicationsTable[K] };

/** field → {old, new}; `old` is null on creation. */
export type FieldChanges = Record<string, { old: unknown; new: unknown }>;

export interface ApplicationFilter {
  teamId?: string | undefined;
  incidentContact?: string | undefined;
  active?: boolean | undefined;
  modifiedBefore?: Date | undefined;
  modifiedAfter?: Date | undefined;
  limit?: number | undefined;
  offset?: number | undefined;
}

export interface SearchOptions extends ApplicationFilter {
  /** How many matches are ranked at most; see `search`. */
  candidateLimit: number;
  limit: number;
}

export interface SearchCacheOptions {
  /** Search answers kept (0: none). */
  entries: number;
  /** Longest time an answer is kept, whatever the change feed says. */
  ttlMs: number;
}

export const DEFAULT_SEARCH_CACHE: SearchCacheOptions = { entries: 256, ttlMs: 60_000 };

/**
 * Answers of more hits are not cached: 256 answers of at most 200 hits stay near 50 MB (a hit
 * is about 1.2 kB), and big pages are asked for by exports, which rarely repeat.
 */
const MAX_CACHED_HITS = 200;

export interface ChangeRecord {
  applicationId: string;
  action: 'create' | 'update';
  at: Date;
  by: string;
  byRealm: string | null;
  changes: FieldChanges;
}

/** The read-modify-write primitives of one transaction. */
export interface ApplicationWriteTransaction {
  /** The transaction itself, for the audit event that must commit with the change. */
  readonly executor: AuditTransaction;
  /** Reads the row and locks it until the transaction ends (`for update`). */
  lock(id: string): Promise<ApplicationRow | undefined>;
  /** Inserts unless the id exists (a concurrent creation); says whether it inserted. */
  insert(row: Omit<ApplicationRow, 'version'>): Promise<boolean>;
  update(id: string, values: Partial<ApplicationValues>, at: Date, by: string): Promise<void>;
  recordChange(change: ChangeRecord): Promise<void>;
}

const LIST_COLUMNS = [
  'id',
  'team_id',
  'active',
  'name',
  'subtitle',
  'description',
  'service_url',
  'scm_url',
  'documentation_url',
  'specification_url',
  'support_url',
  'specification_type',
  'criticality_level',
  'publicly_accessible',
  'incident_contact',
  'created',
  'created_by',
  'last_modified',
  'last_modified_by',
] as const;

/** Persistence of applications and their change history. Knows SQL, not who may do what. */
export class ApplicationStore {
  readonly #db: Kysely<KioTables>;
  /**
   * `get`'s query, compiled once: building and compiling it cost more than the rest of the
   * JavaScript of a `GET /apps/{id}` (issue 23). Only its one parameter, the id, changes.
   */
  readonly #getById: CompiledQuery<ListRow & Pick<ApplicationRow, 'required_approvers'>>;
  readonly #database: Database;
  readonly #searchCache: SearchCache<ApplicationSearchHit[]>;

  constructor(database: Database, options: { searchCache?: Partial<SearchCacheOptions> } = {}) {
    this.#database = database;
    this.#db = database.kysely<KioTables>();
    const cache = { ...DEFAULT_SEARCH_CACHE, ...options.searchCache };
    this.#searchCache = new SearchCache(database.changes, { maxEntries: cache.entries, ttlMs: cache.ttlMs });
    this.#getById = this.#db
      .selectFrom('kio_applications')
      .select([...LIST_COLUMNS, 'required_approvers'])
      .where('id', '=', '')
      .compile();
  }

  async get(id: string): Promise<ApplicationDetail | undefined> {
    const { rows } = await this.#db.executeQuery<ListRow & Pick<ApplicationRow, 'required_approvers'>>({
      ...this.#getById,
      parameters: [id],
    });
    const row = rows[0];
    return row ? { ...toApplication(row), required_approvers: row.required_approvers } : undefined;
  }

  /** The owning team of an application, the cheapest lookup (service authorization asks it). */
  async teamOf(id: string): Promise<string | undefined> {
    const row = await this.#db
      .selectFrom('kio_applications')
      .select('team_id')
      .where('id', '=', id)
      .executeTakeFirst();
    return row?.team_id;
  }

  /** Every application matching the filter, by id; paged only when `limit` is given. */
  async list(filter: ApplicationFilter): Promise<Application[]> {
    let q = this.#db
      .selectFrom('kio_applications')
      .select([...LIST_COLUMNS])
      .where((eb) => eb.and(filterConditions(filter)(eb)))
      .orderBy('id');
    if (filter.limit !== undefined) q = q.limit(filter.limit);
    if (filter.offset) q = q.offset(filter.offset);
    const rows = await q.execute();
    return rows.map(toApplication);
  }

  /**
   * Full-text search, best first. Only the first `candidateLimit` matches the index yields
   * are ranked: ranking costs per matching row, and a common word matches tens of thousands
   * (PERFORMANCE.md). The queries are sent unnamed, so PostgreSQL plans each execution with
   * the actual search term instead of a generic plan that builds the whole bitmap.
   */
  async search(text: string, options: SearchOptions): Promise<ApplicationSearchHit[]> {
    if (options.limit > MAX_CACHED_HITS) return this.#search(text, options);
    const key = JSON.stringify([
      text,
      options.teamId,
      options.incidentContact,
      options.active,
      options.modifiedBefore?.toISOString(),
      options.modifiedAfter?.toISOString(),
      options.limit,
      options.offset ?? 0,
      options.candidateLimit,
    ]);
    // The hits are shared between the answers of a cached search: the callers only serialise them.
    return this.#searchCache.get(key, () => this.#search(text, options));
  }

  async #search(text: string, options: SearchOptions): Promise<ApplicationSearchHit[]> {
    const query = sql`websearch_to_tsquery('english', ${text})`;
    const conditions = filterSql(options);
    const result = await sql<ApplicationRow & { matched_rank: number; matched_query: string }>`
      with candidates as (
        select id, search_vector from kio_applications
        where search_vector @@ ${query} ${conditions}
        limit ${options.candidateLimit}
      ), ranked as (
        select id, ts_rank(search_vector, ${query}) as rank from candidates
        order by rank desc, id
        limit ${options.limit} offset ${options.offset ?? 0}
      )
      select ${sql.join(LIST_COLUMNS.map((c) => sql.ref(`a.${c}`)))},
        r.rank::float8 as matched_rank, ${query}::text as matched_query
      from ranked r join kio_applications a on a.id = r.id
      order by r.rank desc, a.id`.execute(this.#db);
    const terms = queryTerms(result.rows[0]?.matched_query ?? '');
    return result.rows.map((row) => ({
      ...toApplication(row),
      matched_rank: Number(row.matched_rank),
      matched_description: highlightSnippet(row.description, terms),
    }));
  }

  /**
   * One page of the change history of one application, newest first: at most `limit` entries
   * older than the entry `before` (all when absent). Served by the (application_id, id) index.
   */
  async history(
    id: string,
    page: { limit: number; before?: string | undefined },
  ): Promise<ApplicationChange[]> {
    let q = this.#db
      .selectFrom('kio_application_changes')
      .selectAll()
      .where('application_id', '=', id)
      .orderBy('id', 'desc')
      .limit(page.limit);
    if (page.before !== undefined) q = q.where('id', '<', page.before);
    const rows = await q.execute();
    return rows.map((r) => ({
      id: String(r.id),
      application_id: r.application_id,
      action: r.action === 'create' ? 'create' : 'update',
      changed_at: formatTimestamp(r.changed_at),
      changed_by: r.changed_by,
      changed_by_realm: r.changed_by_realm,
      changes: (typeof r.changes === 'string' ? JSON.parse(r.changes) : r.changes) as FieldChanges,
    }));
  }

  /** Runs `body` in one transaction holding the primitives of a read-modify-write. */
  async write<T>(body: (tx: ApplicationWriteTransaction) => Promise<T>): Promise<T> {
    const written = { changed: false };
    try {
      return await this.#db.transaction().execute((trx) =>
        body(
          writeTransaction(trx, async () => {
            written.changed = true;
            // Commits with the write: every replica drops its cached searches once it is visible.
            await this.#database.changes.notify(trx, APPLICATIONS_CHANNEL);
          }),
        ),
      );
    } finally {
      // This process drops its own at once (read-your-writes); harmless after a rollback.
      if (written.changed) this.#searchCache.clear();
    }
  }
}

function writeTransaction(
  trx: Transaction<KioTables>,
  announce: () => Promise<void>,
): ApplicationWriteTransaction {
  return {
    executor: trx,
    async lock(id) {
      return trx
        .selectFrom('kio_applications')
        .select([...LIST_COLUMNS, 'required_approvers', 'version'])
        .where('id', '=', id)
        .forUpdate()
        .executeTakeFirst();
    },
    async insert(row) {
      const inserted = await trx
        .insertInto('kio_applications')
        .values(row)
        .onConflict((oc) => oc.column('id').doNothing())
        .returning('id')
        .executeTakeFirst();
      if (inserted !== undefined) await announce();
      return inserted !== undefined;
    },
    async update(id, values, at, by) {
      await trx
        .updateTable('kio_applications')
        .set({ ...values, last_modified: at, last_modified_by: by, version: sql`version + 1` })
        .where('id', '=', id)
        .execute();
      await announce();
    },
    async recordChange(change) {
      await trx
        .insertInto('kio_application_changes')
        .values({
          application_id: change.applicationId,
          action: change.action,
          changed_at: change.at,
          changed_by: change.by,
          changed_by_realm: change.byRealm,
          changes: JSON.stringify(change.changes),
        })
        .execute();
    },
  };
}

function filterConditions(filter: ApplicationFilter) {
  return (eb: ExpressionBuilder<KioTables, 'kio_applications'>) => {
    const conditions: Expression<SqlBool>[] = [];
    if (filter.teamId !== undefined) conditions.push(eb('team_id', '=', filter.teamId));
    if (filter.incidentContact !== undefined)
      conditions.push(eb('incident_contact', '=', filter.incidentContact));
    if (filter.active !== undefined) conditions.push(eb('active', '=', filter.active));
    if (filter.modifiedBefore) conditions.push(eb('last_modified', '<=', filter.modifiedBefore));
    if (filter.modifiedAfter) conditions.push(eb('last_modified', '>=', filter.modifiedAfter));
    return conditions;
  };
}

/** The same filters as raw SQL (`and …`), for the hand-written search query. */
function filterSql(filter: ApplicationFilter) {
  const parts = [];
  if (filter.teamId !== undefined) parts.push(sql`and team_id = ${filter.teamId}`);
  if (filter.incidentContact !== undefined) parts.push(sql`and incident_contact = ${filter.incidentContact}`);
  if (filter.active !== undefined) parts.push(sql`and active = ${filter.active}`);
  if (filter.modifiedBefore) parts.push(sql`and last_modified <= ${filter.modifiedBefore}`);
  if (filter.modifiedAfter) parts.push(sql`and last_modified >= ${filter.modifiedAfter}`);
  return parts.length ? sql.join(parts, sql` `) : sql``;
}

type ListRow = Pick<ApplicationRow, (typeof LIST_COLUMNS)[number]>;

function toApplication(row: ListRow): Application {
  return {
    id: row.id,
    team_id: row.team_id,
    active: row.active,
    name: row.name,
    subtitle: row.subtitle,
    description: row.description,
    service_url: row.service_url,
    scm_url: row.scm_url,
    documentation_url: row.documentation_url,
    specification_url: row.specification_url,
    support_url: row.support_url,
    specification_type: row.specification_type,
    criticality_level: row.criticality_level,
    publicly_accessible: row.publicly_accessible,
    incident_contact: row.incident_contact,
    created: formatTimestamp(row.created),
    created_by: row.created_by,
    last_modified: formatTimestamp(row.last_modified),
    last_modified_by: row.last_modified_by,
  };
}
