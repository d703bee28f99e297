import { APPLICATION_ID_PATTERN, type ApplicationDirectory } from '../kio/contract.js';
import type { AuditLog } from '../platform/audit/audit-log.js';
import { type AdminPolicy, isAdmin } from '../platform/auth/http-auth.js';
import type { Principal } from '../platform/auth/principal.js';
import { InputError, NotAllowedError, NotFoundError } from '../platform/errors.js';
import type { TeamDirectory } from '../teams/contract.js';
import type {
  ResourceType,
  ResourceTypePut,
  ResourceTypeSummary,
  Scope,
  ScopeCatalog,
  ScopeDefinition,
  ScopePut,
} from './contract.js';
import type { EssentialsStore } from './store.js';

/** Who makes a change: a verified principal, or the platform itself (seeding). */
export type EssentialsActor = Pick<Principal, 'uid' | 'realm'> & { principal?: Principal | undefined };

export interface EssentialsRegistryDeps {
  auditLog: AuditLog;
  adminPolicy: AdminPolicy;
  /**
   * With both, members of the team owning the application a resource type is named after
   * (`pierone` or `pierone.images` → application `pierone`) may write that type, as in the
   * original essentials. Without them, only administrators write.
   */
  applications?: ApplicationDirectory | undefined;
  teams?: TeamDirectory | undefined;
  /** Allowed resource owner names; undefined allows any lowercase name. */
  validResourceOwners?: readonly string[] | undefined;
}

/**
 * Resource types and scopes with the rules of the STUPS access control model: a
 * resource-owner scope needs a type with resource owners, so owners cannot be removed
 * while such scopes exist. Knows nothing about HTTP.
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
    await this.authorize(actor, id, 'resource_type.put');
    const result = await this.store.write(async (tx) => {
      const current = await tx.lockType(id);
      if (!current && body.name == null) {
        throw new InputError('a new resource type needs a name', { code: 'MISSING_FIELDS' });
      }
      const values = {
        name: body.name ?? current!.name,
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
      await tx.putType(id, values, current !== undefined);
      return { type: { id, ...values }, created: current === undefined, before: current };
    });
    await this.audit(actor, result.created ? 'resource_type.create' : 'resource_type.update', id, {
      before: result.before ?? null,
      after: result.type,
    });
    return { type: result.type, created: result.created };
  }

  async deleteType(actor: EssentialsActor, id: string): Promise<void> {
    await this.authorize(actor, id, 'resource_type.delete');
    if (!(await this.store.deleteType(id))) throw typeNotFound(id);
    await this.audit(actor, 'resource_type.delete', id, {});
  }

  /** Creates a scope or merges fields into it; `summary` is needed on creation. */
  async putScope(
    actor: EssentialsActor,
    typeId: string,
    scopeId: string,
    body: ScopePut,
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
    await this.authorize(actor, typeId, 'scope.put');
    const result = await this.store.write(async (tx) => {
      // Locking the type serializes this with a concurrent removal of its owners.
      const type = await tx.lockType(typeId);
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
      return {
        scope: { id: scopeId, resource_type_id: typeId, ...values },
        created: !current,
        before: current,
      };
    });
    await this.audit(actor, result.created ? 'scope.create' : 'scope.update', `${typeId}.${scopeId}`, {
      before: result.before ?? null,
      after: result.scope,
    });
    return { scope: result.scope, created: result.created };
  }

  async deleteScope(actor: EssentialsActor, typeId: string, scopeId: string): Promise<void> {
    await this.authorize(actor, typeId, 'scope.delete');
    if (!(await this.store.deleteScope(typeId, scopeId))) {
      await this.getType(typeId);
      throw new NotFoundError(`scope ${scopeId} of resource type ${typeId} does not exist`, {
        code: 'SCOPE_NOT_FOUND',
      });
    }
    await this.audit(actor, 'scope.delete', `${typeId}.${scopeId}`, {});
  }

  /**
   * Administrators write everything; members of the team owning the application a type is
   * named after write that type. Runs before any transaction: the directories may share the
   * single embedded database connection.
   */
  private async authorize(actor: EssentialsActor, typeId: string, action: string): Promise<void> {
    const principal = actor.principal;
    if (!principal || isAdmin(principal, this.deps.adminPolicy)) return;
    const { applications, teams } = this.deps;
    const appId = typeId.split('.')[0]!;
    if (applications && teams && principal.realm === 'employees' && APPLICATION_ID_PATTERN.test(appId)) {
      const app = await applications.getApplication(appId);
      if (app && (await teams.isMember(app.team_id, principal.uid))) return;
    }
    const error = new NotAllowedError(
      `only platform administrators${applications && teams ? ` or members of the team owning application ${appId}` : ''} may change resource type ${typeId}`,
    );
    await this.audit(actor, action, typeId, { reason: error.code }, 'failure');
    throw error;
  }

  private async audit(
    actor: EssentialsActor,
    action: string,
    id: string,
    details: Record<string, unknown>,
    outcome: 'success' | 'failure' = 'success',
  ): Promise<void> {
    await this.deps.auditLog.record({
      service: 'essentials',
      action,
      actor: { uid: actor.uid, realm: actor.realm },
      target: { type: action.startsWith('scope') ? 'scope' : 'resource_type', id },
      outcome,
      details,
    });
  }
}

function typeNotFound(id: string): NotFoundError {
  return new NotFoundError(`resource type ${id} does not exist`, { code: 'RESOURCE_TYPE_NOT_FOUND' });
}
