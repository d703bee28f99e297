import type { AuditTransaction } from '../platform/audit/create-audit.js';
import type { Generated, Kysely, Transaction } from 'kysely';
import type { Database } from '../platform/db/database.js';
import {
  fullScopeName,
  parseFullScopeName,
  type ResourceType,
  type ResourceTypeSummary,
  type Scope,
  type ScopeDefinition,
} from './contract.js';

interface EssentialsTables {
  essentials_resource_types: {
    id: string;
    name: string;
    description: string | null;
    resource_owners: unknown;
    /** The team whose members may write the type besides administrators; null: administrators only. */
    owning_team: string | null;
    created: Generated<Date>;
    last_modified: Generated<Date>;
  };
  essentials_scopes: {
    resource_type_id: string;
    id: string;
    summary: string;
    description: string | null;
    user_information: string | null;
    is_resource_owner_scope: boolean;
    criticality_level: number;
    created: Generated<Date>;
    last_modified: Generated<Date>;
  };
}

export type ResourceTypeValues = Omit<ResourceType, 'id'>;

/** A resource type with the team that owns it (not part of the API: ownership is fixed at creation). */
export type OwnedResourceType = ResourceType & { owning_team: string | null };
export type ScopeValues = Omit<Scope, 'id' | 'resource_type_id'>;

/** The read-modify-write primitives of one transaction; `lockType` serializes writers of a type. */
export interface EssentialsWriteTransaction {
  /** The transaction itself, for the audit event that must commit with the change. */
  readonly executor: AuditTransaction;
  lockType(id: string): Promise<OwnedResourceType | undefined>;
  scopes(typeId: string): Promise<Scope[]>;
  /** Updates a type, or creates it owned by `owningTeam`. */
  putType(
    id: string,
    values: ResourceTypeValues,
    existing: { exists: true } | { exists: false; owningTeam: string | null },
  ): Promise<void>;
  putScope(typeId: string, scopeId: string, values: ScopeValues, exists: boolean): Promise<void>;
  /** Deletes a type and, by the foreign key, its scopes. */
  deleteType(id: string): Promise<void>;
  /** Says whether the scope existed. */
  deleteScope(typeId: string, scopeId: string): Promise<boolean>;
}

const SCOPE_COLUMNS = [
  'id',
  'resource_type_id',
  'summary',
  'description',
  'user_information',
  'is_resource_owner_scope',
  'criticality_level',
] as const;

/** Persistence of resource types and their scopes. Knows SQL, not who may do what. */
export class EssentialsStore {
  readonly #db: Kysely<EssentialsTables>;

  constructor(database: Database) {
    this.#db = database.kysely<EssentialsTables>();
  }

  async listTypes(): Promise<ResourceTypeSummary[]> {
    return this.#db.selectFrom('essentials_resource_types').select(['id', 'name']).orderBy('id').execute();
  }

  async getType(id: string): Promise<ResourceType | undefined> {
    const type = await readType(this.#db, id, false);
    return (
      type && {
        id: type.id,
        name: type.name,
        description: type.description,
        resource_owners: type.resource_owners,
      }
    );
  }

  /** The type with its owning team, for authorization. */
  async getOwnedType(id: string): Promise<OwnedResourceType | undefined> {
    return readType(this.#db, id, false);
  }

  async listScopes(typeId: string): Promise<Scope[]> {
    return readScopes(this.#db, typeId);
  }

  async getScope(typeId: string, scopeId: string): Promise<Scope | undefined> {
    const row = await this.#db
      .selectFrom('essentials_scopes')
      .select([...SCOPE_COLUMNS])
      .where('resource_type_id', '=', typeId)
      .where('id', '=', scopeId)
      .executeTakeFirst();
    return row && toScope(row);
  }

  /** Every scope of every type with its full name and owners: what the token service grants from. */
  async allScopeDefinitions(): Promise<ScopeDefinition[]> {
    const rows = await this.#db
      .selectFrom('essentials_scopes as s')
      .innerJoin('essentials_resource_types as t', 't.id', 's.resource_type_id')
      .select([...SCOPE_COLUMNS.map((c) => `s.${c}` as const), 't.resource_owners'])
      .orderBy('s.resource_type_id')
      .orderBy('s.id')
      .execute();
    return rows.map((r) => ({
      ...toScope(r),
      name: fullScopeName(r.resource_type_id, r.id),
      resource_owners: owners(r.resource_owners),
    }));
  }

  async scopeDefinition(fullName: string): Promise<ScopeDefinition | undefined> {
    const parsed = parseFullScopeName(fullName);
    if (!parsed) return undefined;
    const [type, scope] = await Promise.all([
      this.getType(parsed.resourceTypeId),
      this.getScope(parsed.resourceTypeId, parsed.scopeId),
    ]);
    return type && scope ? { ...scope, name: fullName, resource_owners: type.resource_owners } : undefined;
  }

  async write<T>(body: (tx: EssentialsWriteTransaction) => Promise<T>): Promise<T> {
    return this.#db.transaction().execute((trx) => body(writeTransaction(trx)));
  }
}

function writeTransaction(trx: Transaction<EssentialsTables>): EssentialsWriteTransaction {
  return {
    executor: trx,
    lockType: (id) => readType(trx, id, true),
    scopes: (typeId) => readScopes(trx, typeId),
    async putType(id, values, existing) {
      const row = {
        name: values.name,
        description: values.description,
        resource_owners: JSON.stringify(values.resource_owners),
      };
      if (existing.exists) {
        await trx
          .updateTable('essentials_resource_types')
          .set({ ...row, last_modified: new Date() })
          .where('id', '=', id)
          .execute();
      } else {
        await trx
          .insertInto('essentials_resource_types')
          .values({ id, ...row, owning_team: existing.owningTeam })
          .execute();
      }
    },
    async putScope(typeId, scopeId, values, exists) {
      if (exists) {
        await trx
          .updateTable('essentials_scopes')
          .set({ ...values, last_modified: new Date() })
          .where('resource_type_id', '=', typeId)
          .where('id', '=', scopeId)
          .execute();
      } else {
        await trx
          .insertInto('essentials_scopes')
          .values({ resource_type_id: typeId, id: scopeId, ...values })
          .execute();
      }
    },
    async deleteType(id) {
      await trx.deleteFrom('essentials_resource_types').where('id', '=', id).execute();
    },
    async deleteScope(typeId, scopeId) {
      const result = await trx
        .deleteFrom('essentials_scopes')
        .where('resource_type_id', '=', typeId)
        .where('id', '=', scopeId)
        .executeTakeFirst();
      return result.numDeletedRows > 0n;
    },
  };
}

async function readType(
  db: Kysely<EssentialsTables>,
  id: string,
  lock: boolean,
): Promise<OwnedResourceType | undefined> {
  let q = db
    .selectFrom('essentials_resource_types')
    .select(['id', 'name', 'description', 'resource_owners', 'owning_team'])
    .where('id', '=', id);
  if (lock) q = q.forUpdate();
  const row = await q.executeTakeFirst();
  return row && { ...row, resource_owners: owners(row.resource_owners) };
}

async function readScopes(db: Kysely<EssentialsTables>, typeId: string): Promise<Scope[]> {
  const rows = await db
    .selectFrom('essentials_scopes')
    .select([...SCOPE_COLUMNS])
    .where('resource_type_id', '=', typeId)
    .orderBy('id')
    .execute();
  return rows.map(toScope);
}

function owners(value: unknown): string[] {
  const parsed: unknown = typeof value === 'string' ? JSON.parse(value) : value;
  return Array.isArray(parsed) ? parsed.filter((v): v is string => typeof v === 'string') : [];
}

function toScope(row: Scope): Scope {
  return {
    id: row.id,
    resource_type_id: row.resource_type_id,
    summary: row.summary,
    description: row.description,
    user_information: row.user_information,
    is_resource_owner_scope: row.is_resource_owner_scope,
    criticality_level: Number(row.criticality_level),
  };
}
