import { type Generated, type Kysely, type Selectable, sql, type Transaction } from 'kysely';
import type { Database } from '../platform/db/database.js';
import type { MintApp, MintAppSummary, ScopeRef } from './contract.js';

export interface MintAppsTable {
  id: string;
  username: string;
  client_id: string;
  is_client_confidential: boolean;
  redirect_url: string | null;
  s3_buckets: unknown;
  scopes: unknown;
  last_password_rotation: Date | null;
  last_client_rotation: Date | null;
  last_modified: Date;
  last_modified_by: string;
  last_synced: Date | null;
  has_problems: Generated<boolean>;
  message: Generated<string>;
  s3_errors: Generated<number>;
  renewal_requested: Generated<boolean>;
  password_distributed: Generated<boolean>;
  client_distributed: Generated<boolean>;
  client_secret_sealed: string | null;
  claimed_until: Date | null;
  renewal_password: Generated<boolean>;
  renewal_client: Generated<boolean>;
  password_previous_valid_until: Date | null;
  client_previous_valid_until: Date | null;
}

export interface MintTables {
  mint_apps: MintAppsTable;
}

export type MintAppRow = Omit<Selectable<MintAppsTable>, 's3_buckets' | 'scopes'> & {
  s3_buckets: string[];
  scopes: ScopeRef[];
};

/** The configuration fields the storage API writes. */
export interface MintConfigValues {
  username: string;
  client_id: string;
  is_client_confidential: boolean;
  redirect_url: string | null;
  s3_buckets: string[];
  scopes: ScopeRef[];
}

/** Worker-maintained fields; the ones given are set. */
export type MintStatusValues = Partial<
  Pick<
    Selectable<MintAppsTable>,
    | 'last_password_rotation'
    | 'last_client_rotation'
    | 'last_synced'
    | 'has_problems'
    | 'message'
    | 's3_errors'
    | 'renewal_requested'
    | 'renewal_password'
    | 'renewal_client'
    | 'password_previous_valid_until'
    | 'client_previous_valid_until'
    | 'password_distributed'
    | 'client_distributed'
    | 'client_id'
    | 'client_secret_sealed'
  >
>;

export type MintExecutor = Kysely<MintTables>;

/** mint's persistence: the `mint_apps` table. No HTTP, no rules. */
export class MintStore {
  private readonly db: Kysely<MintTables>;

  constructor(database: Database) {
    this.db = database.kysely<MintTables>();
  }

  async get(id: string, executor: MintExecutor = this.db): Promise<MintAppRow | undefined> {
    const row = await executor.selectFrom('mint_apps').selectAll().where('id', '=', id).executeTakeFirst();
    return row && fromRow(row);
  }

  /** Every configuration, optionally only those with a scope of a resource type (and scope id). */
  async list(
    filter: { resourceTypeId?: string | undefined; scopeId?: string | undefined } = {},
  ): Promise<MintAppRow[]> {
    let query = this.db.selectFrom('mint_apps').selectAll().orderBy('id');
    const wanted: Record<string, string> = {};
    if (filter.resourceTypeId !== undefined) wanted.resource_type_id = filter.resourceTypeId;
    if (filter.scopeId !== undefined) wanted.scope_id = filter.scopeId;
    if (Object.keys(wanted).length > 0) {
      query = query.where(sql<boolean>`scopes @> ${JSON.stringify([wanted])}::jsonb`);
    }
    return (await query.execute()).map(fromRow);
  }

  /** Runs `fn` in one transaction: a write and its audit event commit together. */
  write<T>(fn: (trx: Transaction<MintTables>) => Promise<T>): Promise<T> {
    return this.db.transaction().execute(fn);
  }

  async upsert(trx: MintExecutor, id: string, values: MintConfigValues, at: Date, by: string): Promise<void> {
    const row = {
      ...values,
      s3_buckets: JSON.stringify(values.s3_buckets),
      scopes: JSON.stringify(values.scopes),
      last_modified: at,
      last_modified_by: by,
    };
    await trx
      .insertInto('mint_apps')
      .values({ id, ...row })
      .onConflict((oc) => oc.column('id').doUpdateSet(row))
      .execute();
  }

  async delete(trx: MintExecutor, id: string): Promise<boolean> {
    const result = await trx.deleteFrom('mint_apps').where('id', '=', id).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async setStatus(trx: MintExecutor, id: string, values: MintStatusValues): Promise<boolean> {
    if (Object.keys(values).length === 0) return (await this.get(id, trx)) !== undefined;
    const result = await trx.updateTable('mint_apps').set(values).where('id', '=', id).executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  /**
   * Asks for a rotation on the next run and clears the error counter. Kinds add up: a pending
   * password renewal and a new client renewal make a renewal of both.
   */
  async requestRenewal(
    trx: MintExecutor,
    id: string,
    kinds: { password: boolean; client: boolean },
  ): Promise<void> {
    await trx
      .updateTable('mint_apps')
      .set({
        s3_errors: 0,
        renewal_requested: true,
        renewal_password: sql<boolean>`renewal_password or ${kinds.password}`,
        renewal_client: sql<boolean>`renewal_client or ${kinds.client}`,
      })
      .where('id', '=', id)
      .execute();
  }

  /**
   * Claims an application for one worker until `until`: true for exactly one of several replicas
   * asking at once, so a rotation never runs twice even when job ticks of two replicas overlap.
   */
  async claim(id: string, now: Date, until: Date): Promise<boolean> {
    const result = await this.db
      .updateTable('mint_apps')
      .set({ claimed_until: until })
      .where('id', '=', id)
      .where((eb) => eb.or([eb('claimed_until', 'is', null), eb('claimed_until', '<=', now)]))
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async release(id: string): Promise<void> {
    await this.db.updateTable('mint_apps').set({ claimed_until: null }).where('id', '=', id).execute();
  }
}

function fromRow(row: Selectable<MintAppsTable>): MintAppRow {
  return {
    ...row,
    s3_buckets: jsonArray(row.s3_buckets).filter(isString),
    scopes: jsonArray(row.scopes).filter(isScopeRef),
  };
}

function jsonArray(value: unknown): unknown[] {
  const parsed: unknown = typeof value === 'string' ? JSON.parse(value) : value;
  return Array.isArray(parsed) ? parsed : [];
}

const isString = (v: unknown): v is string => typeof v === 'string';
const isScopeRef = (v: unknown): v is ScopeRef =>
  typeof v === 'object' &&
  v !== null &&
  'resource_type_id' in v &&
  'scope_id' in v &&
  typeof v.resource_type_id === 'string' &&
  typeof v.scope_id === 'string';

const iso = (d: Date | null) => (d === null ? null : d.toISOString());

export function toSummary(row: MintAppRow): MintAppSummary {
  return {
    id: row.id,
    last_password_rotation: iso(row.last_password_rotation),
    last_client_rotation: iso(row.last_client_rotation),
    last_modified: row.last_modified.toISOString(),
    last_synced: iso(row.last_synced),
    has_problems: row.has_problems,
    message: row.message,
    s3_errors: row.s3_errors,
  };
}

export function toMintApp(row: MintAppRow): MintApp {
  return {
    ...toSummary(row),
    username: row.username,
    client_id: row.client_id,
    is_client_confidential: row.is_client_confidential,
    redirect_url: row.redirect_url,
    s3_buckets: row.s3_buckets,
    scopes: row.scopes.map((s) => ({ resource_type_id: s.resource_type_id, scope_id: s.scope_id })),
  };
}
