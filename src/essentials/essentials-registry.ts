import { APPLICATION_ID_PATTERN, type ApplicationDirectory } from '../kio/contract.js';
import { type Audit, internalRequestId } from '../platform/audit/create-audit.js';
import type { Principal } from '../platform/auth/principal.js';
import type { TeamPolicy } from '../platform/authz/team-policy.js';
import { ConflictError, InputError, NotAllowedError, NotFoundError } from '../platform/errors.js';
import type {
  ResourceType,
  ResourceTypePermission,
  ResourceTypePut,
  ResourceTypeSummary,
  Scope,
  ScopeCatalog,
  ScopeDefinition,
  ScopePut,
} from './contract.js';
import type { EssentialsEvent } from './events.js';
import type { EssentialsStore, EssentialsWriteTransaction, OwnedResourceType } from './store.js';

/** Who makes a change: a verified principal, or the platform itself (seeding). */
export type EssentialsActor = Pick<Principal, 'uid' | 'realm'> & { principal?: Principal | undefined };

export interface EssentialsRegistryDeps {
  audit: Audit<EssentialsEvent>;
  /** "May act for team X"; also answers who is a platform administrator. */
  policy: TeamPolicy;
  /**
   * With it, a resource type named after an application (`pierone` or `pierone.images` →
   * application `pierone`) is owned by that application's team *when it is created*, and the
   * team may write it from then on, as in the original essentials. Without it, only
   * administrators write.
   */
  applications?: ApplicationDirectory | undefined;
  /** Allowed resource owner names; undefined allows any lowercase name. */
  validResourceOwners?: readonly string[] | undefined;
}

/**
 * Resource types and scopes with the rules of the STUPS access control model: a
 * resource-owner scope needs a type with resource owners, so owners cannot be removed
 * while such scopes exist. Every change commits with its audit event. Knows nothing about HTTP.
 *
 * Authorization reads the directories, which may share the single embedded database
 * connection, so it runs before the transaction; the transaction then checks under a lock
 * that the type's ownership is still what was authorized, and answers 409 if it changed.
 */
export class EssentialsRegistry implements ScopeCatalog {
  constructor(
    private readonly store: EssentialsStore,
    private readonly deps: EssentialsRegistryDeps,
  ) {}

  listTypes(): Promise<ResourceTypeSummary[]> {
    return this.store.listTypes();
  }

  async getType(id: string): Promise<ResourceType> {
    const type = await this.store.getType(id);
    if (!type) throw typeNotFound(id);
    return type;
  }

  async listScopesOf(typeId: string): Promise<Scope[]> {
    await this.getType(typeId);
    return this.store.listScopes(typeId);
  }

  async getScopeOf(typeId: string, scopeId: string): Promise<Scope> {
    const scope = await this.store.getScope(typeId, scopeId);
    if (!scope) {
      await this.getType(typeId);
      throw new NotFoundError(`scope ${scopeId} of resource type ${typeId} does not exist`, {
        code: 'SCOPE_NOT_FOUND',
      });
    }
    return scope;
  }

  getScope(fullName: string): Promise<ScopeDefinition | undefined> {
    return this.store.scopeDefinition(fullName);
  }

  listScopes(): Promise<ScopeDefinition[]> {
    return this.store.allScopeDefinitions();
  }

  /** Creates a type or merges fields into it; `name` is needed on creation. */
  async putType(
    actor: EssentialsActor,
    id: string,
    body: ResourceTypePut,
    requestId: string = internalRequestId('essentials'),
  ): Promise<{ type: ResourceType; created: boolean }> {
    if (body.id != null && body.id !== id) {
      throw new InputError(`the body's id ${body.id} differs from the id ${id} in the path`, {
        code: 'ID_MISMATCH',
      });
    }
    const owners = body.resource_owners == null ? undefined : [...new Set(body.resource_owners)];
    const valid = this.deps.validResourceOwners;
    const invalid = owners?.filter((o) => valid && !valid.includes(o)) ?? [];
    if (invalid.length) {
      throw new InputError(
        `unknown resource owners: ${invalid.join(', ')} (known: ${valid?.join(', ') ?? ''})`,
        { code: 'UNKNOWN_RESOURCE_OWNER' },
      );
    }
    const existing = await this.store.getOwnedType(id);
    // A new type is owned by the team of the application it is named after, as of now.
    const owningTeam = existing ? existing.owning_team : await this.#teamOfNamesake(id);
    await this.#authorize(actor, id, owningTeam);
    const result = await this.store.write(async (tx) => {
      const current = await tx.lockType(id);
      assertUnchanged(id, existing, current);
      if (!current && body.name == null) {
        throw new InputError('a new resource type needs a name', { code: 'MISSING_FIELDS' });
      }
      const values = {
        name: body.name ?? current?.name ?? '',
        description:
          body.description === undefined || body.description === null
            ? (current?.description ?? null)
            : body.description === ''
              ? null
              : body.description,
        resource_owners: owners ?? current?.resource_owners ?? [],
      };
      if (values.resource_owners.length === 0 && current) {
        const ownerScopes = (await tx.scopes(id)).filter((s) => s.is_resource_owner_scope).map((s) => s.id);
        if (ownerScopes.length) {
          throw new InputError(
            `resource type ${id} needs resource owners: its resource-owner scopes ${ownerScopes.join(', ')} depend on them`,
            {
              code: 'RESOURCE_OWNER_SCOPES_EXIST',
              details: { errors: ownerScopes.map((s) => ({ scope: s })) },
            },
          );
        }
      }
      await tx.putType(id, values, current ? { exists: true } : { exists: false, owningTeam });
      const type = { id, ...values };
      await this.#audit(tx, actor, 'essentials.resource_type.put', id, requestId, {
        created: !current,
        ...(current ? {} : { owning_team: owningTeam }),
        before: current ? publicType(current) : null,
        after: type,
      });
      return { type, created: !current };
    });
    return result;
  }

  async deleteType(
    actor: EssentialsActor,
    id: string,
    requestId: string = internalRequestId('essentials'),
  ): Promise<void> {
    const existing = await this.store.getOwnedType(id);
    if (!existing) throw typeNotFound(id);
    await this.#authorize(actor, id, existing.owning_team);
    await this.store.write(async (tx) => {
      const current = await tx.lockType(id);
      assertUnchanged(id, existing, current);
      await tx.deleteType(id);
      await this.#audit(tx, actor, 'essentials.resource_type.delete', id, requestId, {
        before: publicType(existing),
      });
    });
  }

  /** Creates a scope or merges fields into it; `summary` is needed on creation. */
  async putScope(
    actor: EssentialsActor,
    typeId: string,
    scopeId: string,
    body: ScopePut,
    requestId: string = internalRequestId('essentials'),
  ): Promise<{ scope: Scope; created: boolean }> {
    if (body.id != null && body.id !== scopeId) {
      throw new InputError(`the body's id ${body.id} differs from the scope id ${scopeId} in the path`, {
        code: 'ID_MISMATCH',
      });
    }
    if (body.resource_type_id != null && body.resource_type_id !== typeId) {
      throw new InputError(
        `the body's resource_type_id ${body.resource_type_id} differs from ${typeId} in the path`,
        { code: 'ID_MISMATCH' },
      );
    }
    const existing = await this.store.getOwnedType(typeId);
    if (!existing) throw typeNotFound(typeId);
    await this.#authorize(actor, typeId, existing.owning_team);
    return this.store.write(async (tx) => {
      // Locking the type serializes this with a concurrent removal of its owners.
      const type = await tx.lockType(typeId);
      assertUnchanged(typeId, existing, type);
      if (!type) throw typeNotFound(typeId);
      const current = (await tx.scopes(typeId)).find((s) => s.id === scopeId);
      if (!current && body.summary == null) {
        throw new InputError('a new scope needs a summary', { code: 'MISSING_FIELDS' });
      }
      const keep = <K extends keyof Scope>(
        field: K,
        given: Scope[K] | null | undefined,
        fallback: Scope[K],
      ) => (given === undefined || given === null ? (current ? current[field] : fallback) : given);
      const values = {
        summary: keep('summary', body.summary, ''),
        description: keep('description', body.description === '' ? null : body.description, null),
        user_information: keep(
          'user_information',
          body.user_information === '' ? null : body.user_information,
          null,
        ),
        is_resource_owner_scope: keep('is_resource_owner_scope', body.is_resource_owner_scope, false),
        criticality_level: keep('criticality_level', body.criticality_level, 2),
      };
      if (values.is_resource_owner_scope && type.resource_owners.length === 0) {
        throw new InputError(
          `resource type ${typeId} has no resource owners, so ${scopeId} can only be an application scope`,
          { code: 'NO_RESOURCE_OWNERS' },
        );
      }
      await tx.putScope(typeId, scopeId, values, current !== undefined);
      const scope = { id: scopeId, resource_type_id: typeId, ...values };
      await this.#audit(tx, actor, 'essentials.scope.put', `${typeId}.${scopeId}`, requestId, {
        created: !current,
        before: current ?? null,
        after: scope,
      });
      return { scope, created: !current };
    });
  }

  async deleteScope(
    actor: EssentialsActor,
    typeId: string,
    scopeId: string,
    requestId: string = internalRequestId('essentials'),
  ): Promise<void> {
    const existing = await this.store.getOwnedType(typeId);
    if (!existing) throw typeNotFound(typeId);
    await this.#authorize(actor, typeId, existing.owning_team);
    await this.store.write(async (tx) => {
      assertUnchanged(typeId, existing, await tx.lockType(typeId));
      if (!(await tx.deleteScope(typeId, scopeId))) {
        throw new NotFoundError(`scope ${scopeId} of resource type ${typeId} does not exist`, {
          code: 'SCOPE_NOT_FOUND',
        });
      }
      await this.#audit(tx, actor, 'essentials.scope.delete', `${typeId}.${scopeId}`, requestId, {});
    });
  }

  /** Whether `principal` may write the type `id` (create it, when it does not exist): the write's own rule. */
  async permission(principal: Principal, id: string): Promise<ResourceTypePermission> {
    const existing = await this.store.getOwnedType(id);
    const owningTeam = existing ? existing.owning_team : await this.#teamOfNamesake(id);
    let mayWrite = true;
    try {
      await this.#authorize({ uid: principal.uid, realm: principal.realm, principal }, id, owningTeam);
    } catch (error) {
      if (!(error instanceof NotAllowedError)) throw error;
      mayWrite = false;
    }
    return { may_write: mayWrite, exists: existing !== undefined, owning_team: owningTeam };
  }

  /** The team owning the application a type is named after (`pierone.images` → `pierone`). */
  async #teamOfNamesake(typeId: string): Promise<string | null> {
    const appId = typeId.split('.')[0] ?? typeId;
    if (!this.deps.applications || !APPLICATION_ID_PATTERN.test(appId)) return null;
    return (await this.deps.applications.getApplication(appId))?.team_id ?? null;
  }

  /**
   * Administrators write everything; whoever may act for the type's owning team (fixed when
   * the type was created) writes that type. No principal: a trusted platform write.
   */
  async #authorize(actor: EssentialsActor, typeId: string, owningTeam: string | null): Promise<void> {
    const principal = actor.principal;
    if (!principal || this.deps.policy.isAdmin(principal)) return;
    if (owningTeam !== null && (await this.deps.policy.mayActFor(principal, owningTeam))) return;
    throw new NotAllowedError(
      owningTeam === null
        ? `only platform administrators may change resource type ${typeId}`
        : `only platform administrators or members of team ${owningTeam}, which owns it, may change resource type ${typeId}`,
      { code: 'NOT_TYPE_OWNER' },
    );
  }

  #audit(
    tx: EssentialsWriteTransaction,
    actor: EssentialsActor,
    event: EssentialsEvent,
    targetId: string,
    requestId: string,
    details: Record<string, unknown>,
  ): Promise<void> {
    return this.deps.audit(tx.executor, { event, actor, targetId, details, requestId });
  }
}

/** Refuses a write when the type appeared, vanished or changed owner since it was authorized. */
function assertUnchanged(
  id: string,
  authorized: OwnedResourceType | undefined,
  locked: OwnedResourceType | undefined,
): void {
  if (
    authorized?.owning_team !== locked?.owning_team ||
    (authorized === undefined) !== (locked === undefined)
  ) {
    throw new ConflictError(`resource type ${id} changed while being written; try again`, {
      code: 'CONCURRENT_MODIFICATION',
    });
  }
}

function publicType(type: OwnedResourceType): ResourceType {
  return {
    id: type.id,
    name: type.name,
    description: type.description,
    resource_owners: type.resource_owners,
  };
}

function typeNotFound(id: string): NotFoundError {
  return new NotFoundError(`resource type ${id} does not exist`, { code: 'RESOURCE_TYPE_NOT_FOUND' });
}
