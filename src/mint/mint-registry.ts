import { type Audit, type AuditActor, internalRequestId } from '../platform/audit/create-audit.js';
import type { Principal } from '../platform/auth/principal.js';
import type { TeamPolicy } from '../platform/authz/team-policy.js';
import { InputError, NotFoundError } from '../platform/errors.js';
import type { ApplicationDirectory } from '../kio/contract.js';
import type { ScopeCatalog } from '../essentials/contract.js';
import type {
  RenewalCredentials,
  MintApp,
  MintAppListQuery,
  MintAppPatch,
  MintAppPut,
  MintAppSummary,
  ScopeRef,
} from './contract.js';
import type { MintEvent } from './events.js';
import { type MintStatusValues, type MintStore, toMintApp, toSummary } from './store.js';

/** What DELETE needs besides the config: the application's credentials go with it. */
export interface CredentialRemoval {
  removeCredentials(app: { username: string; client_id: string }, actor: AuditActor): Promise<void>;
}

/**
 * The storage API's rules: an application of Kio, scopes of essentials, writes by the
 * application's team (TeamPolicy) with their audit event in the same transaction.
 */
export class MintRegistry {
  constructor(
    private readonly store: MintStore,
    private readonly deps: {
      applications: ApplicationDirectory;
      scopes: ScopeCatalog;
      policy: TeamPolicy;
      audit: Audit<MintEvent>;
      serviceUserPrefix: string;
      credentials: CredentialRemoval;
      now?: () => number;
    },
  ) {}

  #now(): Date {
    return new Date(this.deps.now ? this.deps.now() : Date.now());
  }

  async list(query: MintAppListQuery): Promise<MintAppSummary[]> {
    const rows = await this.store.list({ resourceTypeId: query.resource_type_id, scopeId: query.scope_id });
    return rows.map(toSummary);
  }

  async get(id: string): Promise<MintApp> {
    const row = await this.store.get(id);
    if (!row) throw new NotFoundError(`application ${id} has no mint configuration`, { code: 'NOT_FOUND' });
    return toMintApp(row);
  }

  /** `PUT /apps/{app}`: creates or replaces the configuration; the worker picks the change up. */
  async put(
    principal: Principal,
    id: string,
    body: MintAppPut,
    requestId: string = internalRequestId('mint'),
  ): Promise<{ app: MintApp; created: boolean }> {
    if (body.id != null && body.id !== id) {
      throw new InputError(`the body's id ${body.id} differs from the id ${id} in the path`, {
        code: 'ID_MISMATCH',
      });
    }
    const application = await this.deps.applications.getApplication(id);
    if (!application) {
      throw new InputError(`application ${id} does not exist in Kio`, { code: 'UNKNOWN_APPLICATION' });
    }
    await this.deps.policy.assertMayActFor(principal, application.team_id);
    const scopes = uniqueScopes(body.scopes ?? []);
    for (const scope of scopes) {
      const name = `${scope.resource_type_id}.${scope.scope_id}`;
      if (!(await this.deps.scopes.getScope(name))) {
        throw new InputError(`scope ${name} does not exist in essentials`, {
          code: 'UNKNOWN_SCOPE',
          details: { scope: name },
        });
      }
    }
    const existing = await this.store.get(id);
    const username = `${this.deps.serviceUserPrefix}${id}`;
    const values = {
      username,
      client_id: existing?.client_id ?? username,
      is_client_confidential: body.is_client_confidential ?? existing?.is_client_confidential ?? true,
      redirect_url: body.redirect_url ? body.redirect_url : null,
      s3_buckets: [...new Set(body.s3_buckets)],
      scopes,
    };
    await this.store.write(async (trx) => {
      await this.store.upsert(trx, id, values, this.#now(), principal.uid);
      await this.deps.audit(trx, {
        event: 'mint.app.put',
        actor: principal,
        targetId: id,
        details: {
          created: !existing,
          is_client_confidential: values.is_client_confidential,
          redirect_url: values.redirect_url,
          s3_buckets: values.s3_buckets,
          scopes: scopes.map((s) => `${s.resource_type_id}.${s.scope_id}`),
        },
        requestId,
      });
    });
    return { app: await this.get(id), created: !existing };
  }

  /**
   * `DELETE /apps/{app}`: the service user and client are removed first (idempotent), then the
   * configuration with its audit event; an application gone from Kio only by administrators.
   */
  async delete(
    principal: Principal,
    id: string,
    requestId: string = internalRequestId('mint'),
  ): Promise<void> {
    const row = await this.store.get(id);
    if (!row) throw new NotFoundError(`application ${id} has no mint configuration`, { code: 'NOT_FOUND' });
    await this.#assertMayWrite(
      principal,
      id,
      'delete the mint configuration of an application Kio does not know',
    );
    await this.deps.credentials.removeCredentials(row, principal);
    await this.store.write(async (trx) => {
      await this.store.delete(trx, id);
      await this.deps.audit(trx, {
        event: 'mint.app.delete',
        actor: principal,
        targetId: id,
        details: { username: row.username, client_id: row.client_id },
        requestId,
      });
    });
  }

  /**
   * `POST /apps/{app}/renewal`: clears the error counter and rotates the named credentials (both
   * unless told) on the next run. A public client has no secret: a renewal of the client alone is
   * refused rather than silently doing nothing.
   */
  async renew(
    principal: Principal,
    id: string,
    requestId: string = internalRequestId('mint'),
    credentials: RenewalCredentials = 'both',
  ): Promise<MintApp> {
    const app = await this.store.get(id);
    if (!app) {
      throw new NotFoundError(`application ${id} has no mint configuration`, { code: 'NOT_FOUND' });
    }
    await this.#assertMayWrite(principal, id, 'renew the credentials of an application Kio does not know');
    if (credentials === 'client' && !app.is_client_confidential) {
      throw new InputError(`the client of ${id} is public: it has no secret to rotate`);
    }
    await this.store.write(async (trx) => {
      await this.store.requestRenewal(trx, id, {
        password: credentials !== 'client',
        client: credentials !== 'password',
      });
      await this.deps.audit(trx, {
        event: 'mint.app.renew',
        actor: principal,
        targetId: id,
        details: { credentials },
        requestId,
      });
    });
    return this.get(id);
  }

  /** `PATCH /apps/{app}`: the worker's status update, for administrators (the worker itself writes directly). */
  async patch(
    principal: Principal,
    id: string,
    body: MintAppPatch,
    requestId: string = internalRequestId('mint'),
  ): Promise<MintApp> {
    this.deps.policy.assertAdmin(principal, "update mint's status (the worker's PATCH)");
    const values: MintStatusValues = {};
    if (body.has_problems != null) values.has_problems = body.has_problems;
    if (body.message != null) values.message = body.message;
    if (body.s3_errors != null) values.s3_errors = body.s3_errors;
    if (body.last_synced != null) values.last_synced = new Date(body.last_synced);
    if (body.last_password_rotation != null)
      values.last_password_rotation = new Date(body.last_password_rotation);
    if (body.last_client_rotation != null) values.last_client_rotation = new Date(body.last_client_rotation);
    if (body.client_id != null) values.client_id = body.client_id;
    await this.store.write(async (trx) => {
      if (!(await this.store.setStatus(trx, id, values))) {
        throw new NotFoundError(`application ${id} has no mint configuration`, { code: 'NOT_FOUND' });
      }
      await this.deps.audit(trx, {
        event: 'mint.app.patch',
        actor: principal,
        targetId: id,
        details: { changed: Object.keys(values).sort() },
        requestId,
      });
    });
    return this.get(id);
  }

  async #assertMayWrite(principal: Principal, id: string, adminOnly: string): Promise<void> {
    const application = await this.deps.applications.getApplication(id);
    if (application) await this.deps.policy.assertMayActFor(principal, application.team_id);
    else this.deps.policy.assertAdmin(principal, adminOnly);
  }
}

function uniqueScopes(scopes: ScopeRef[]): ScopeRef[] {
  const seen = new Map<string, ScopeRef>();
  for (const s of scopes) {
    seen.set(`${s.resource_type_id}.${s.scope_id}`, {
      resource_type_id: s.resource_type_id,
      scope_id: s.scope_id,
    });
  }
  return [...seen.values()];
}
