import type { Kysely, Selectable } from 'kysely';
import { PRINCIPAL_STATUS_CHANNEL, principalStatusKey } from '../platform/auth/principal-status.js';
import type { ChangeFeed } from '../platform/db/change-feed.js';
import { ConflictError, InputError, NotFoundError } from '../platform/errors.js';
import { dummyPasswordHash } from '../platform/passwords.js';
import type { AuditActor } from '../platform/audit/create-audit.js';
import { SYSTEM_ACTOR, systemRequestId, type TokenServiceAudit } from './audit.js';
import { jsonList } from './client-store.js';
import { PASSWORD_GENERATIONS, retirePrevious, rotateWithOverlap } from './credential-generations.js';
import {
  type ServiceUser,
  type ServiceUserChange,
  type ServiceUserInput,
  ServiceUserInputSchema,
} from './contract.js';
import { hashSecret, randomToken, validPrevious, verifySecret } from './secrets.js';
import type { ServiceUsersTable, TokenServiceTables } from './tables.js';

type ServiceUserRow = Selectable<ServiceUsersTable>;

/** Service users of the `/services` realm (mint's `user.json`); passwords are kept only as scrypt hashes. */
export class ServiceUserStore {
  constructor(
    private readonly db: Kysely<TokenServiceTables>,
    private readonly audit: TokenServiceAudit,
    private readonly now: () => number,
    /** Status changes are announced here, so every replica's `isDisabled` answers at once. */
    private readonly changes?: ChangeFeed,
  ) {}

  /** In the transaction of a change: verifiers everywhere ask about this service user afresh. */
  async #statusChanged(trx: Kysely<TokenServiceTables>, username: string): Promise<void> {
    await this.changes?.notify(trx, PRINCIPAL_STATUS_CHANNEL, principalStatusKey('services', username));
  }

  async getServiceUser(username: string): Promise<ServiceUser | undefined> {
    const row = await this.#row(username);
    return row ? toServiceUser(row) : undefined;
  }

  /** Creates or updates a service user; the password is required on create and kept when omitted. */
  async upsertServiceUser(
    input: ServiceUserInput,
    actor: AuditActor = SYSTEM_ACTOR,
    requestId: string = systemRequestId(),
  ): Promise<ServiceUser> {
    const parsed = ServiceUserInputSchema.safeParse(input);
    if (!parsed.success) {
      throw new InputError('invalid service user', { details: { errors: parsed.error.issues } });
    }
    const value = parsed.data;
    const existing = await this.#row(value.username);
    let passwordHash: string;
    if (value.password !== undefined) passwordHash = await hashSecret(value.password);
    else if (existing) passwordHash = existing.password_hash;
    else throw new InputError('a new service user needs a password');
    const row = {
      username: value.username,
      password_hash: passwordHash,
      scopes: JSON.stringify([...new Set(value.scopes)]),
      application_id:
        value.applicationId !== undefined ? value.applicationId : (existing?.application_id ?? null),
      team_id: value.teamId !== undefined ? value.teamId : (existing?.team_id ?? null),
      disabled: value.disabled ?? false,
      updated_at: new Date(this.now()),
      // A password set by hand replaces every generation: no previous one stays valid.
      ...(value.password !== undefined ? NO_PREVIOUS_PASSWORD : {}),
    };
    await this.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('token_service_users')
        .values(row)
        .onConflict((oc) => oc.column('username').doUpdateSet(row))
        .execute();
      await this.#statusChanged(trx, value.username);
      await this.audit(trx, {
        event: existing ? 'token-service.service_user.update' : 'token-service.service_user.create',
        actor,
        targetId: value.username,
        details: {
          scopes: value.scopes,
          application_id: row.application_id,
          team_id: row.team_id,
          password_changed: value.password !== undefined,
          disabled: row.disabled,
        },
        requestId,
      });
    });
    return toServiceUser({ ...row, scopes: value.scopes });
  }

  async listServiceUsers(): Promise<ServiceUser[]> {
    const rows = await this.db.selectFrom('token_service_users').selectAll().orderBy('username').execute();
    return rows.map(toServiceUser);
  }

  /**
   * Creates a service user with a generated password, returned here only: it is stored as a
   * hash and never shown again (rotate for a new one). An existing name is a conflict.
   */
  async createServiceUser(
    input: Omit<ServiceUserInput, 'password' | 'disabled'>,
    actor: AuditActor,
    requestId: string,
  ): Promise<{ serviceUser: ServiceUser; password: string }> {
    const parsed = ServiceUserInputSchema.omit({ password: true, disabled: true }).safeParse(input);
    if (!parsed.success) {
      throw new InputError('invalid service user', { details: { errors: parsed.error.issues } });
    }
    const value = parsed.data;
    const password = randomToken();
    const row = {
      username: value.username,
      password_hash: await hashSecret(password),
      scopes: JSON.stringify([...new Set(value.scopes)]),
      application_id: value.applicationId ?? null,
      team_id: value.teamId ?? null,
      disabled: false,
      updated_at: new Date(this.now()),
    };
    await this.db.transaction().execute(async (trx) => {
      const inserted = await trx
        .insertInto('token_service_users')
        .values(row)
        .onConflict((oc) => oc.column('username').doNothing())
        .executeTakeFirst();
      if (Number(inserted.numInsertedOrUpdatedRows ?? 0n) === 0) {
        throw new ConflictError(`service user ${value.username} already exists`, { code: 'EXISTS' });
      }
      await this.#statusChanged(trx, value.username);
      await this.audit(trx, {
        event: 'token-service.service_user.create',
        actor,
        targetId: value.username,
        details: {
          scopes: [...new Set(value.scopes)],
          application_id: row.application_id,
          team_id: row.team_id,
        },
        requestId,
      });
    });
    return { serviceUser: toServiceUser({ ...row, scopes: [...new Set(value.scopes)] }), password };
  }

  /** Changes scopes, application, team or the disabled flag; what `change` omits stays. */
  async updateServiceUser(
    username: string,
    change: ServiceUserChange,
    actor: AuditActor,
    requestId: string,
  ): Promise<ServiceUser> {
    return this.db.transaction().execute(async (trx) => {
      const existing = await trx
        .selectFrom('token_service_users')
        .selectAll()
        .where('username', '=', username)
        .forUpdate()
        .executeTakeFirst();
      if (!existing) throw new NotFoundError(`service user ${username} does not exist`);
      const set = {
        ...(change.scopes !== undefined ? { scopes: JSON.stringify([...new Set(change.scopes)]) } : {}),
        ...(change.applicationId !== undefined ? { application_id: change.applicationId } : {}),
        ...(change.teamId !== undefined ? { team_id: change.teamId } : {}),
        ...(change.disabled !== undefined ? { disabled: change.disabled } : {}),
        updated_at: new Date(this.now()),
      };
      await trx.updateTable('token_service_users').set(set).where('username', '=', username).execute();
      await this.#statusChanged(trx, username);
      await this.audit(trx, {
        event:
          change.disabled === true
            ? 'token-service.service_user.disable'
            : 'token-service.service_user.update',
        actor,
        targetId: username,
        details: {
          ...(change.scopes !== undefined ? { scopes: [...new Set(change.scopes)] } : {}),
          ...(change.applicationId !== undefined ? { application_id: change.applicationId } : {}),
          ...(change.teamId !== undefined ? { team_id: change.teamId } : {}),
          ...(change.disabled !== undefined ? { disabled: change.disabled } : {}),
        },
        requestId,
      });
      return toServiceUser({ ...existing, ...set });
    });
  }

  /** A new generated password, returned here only; the old one (and any previous one) stops working at once. */
  async rotatePassword(
    username: string,
    actor: AuditActor,
    requestId: string,
  ): Promise<{ serviceUser: ServiceUser; password: string }> {
    const password = randomToken();
    const passwordHash = await hashSecret(password);
    const serviceUser = await this.db.transaction().execute(async (trx) => {
      const row = await trx
        .updateTable('token_service_users')
        .set({ password_hash: passwordHash, updated_at: new Date(this.now()), ...NO_PREVIOUS_PASSWORD })
        .where('username', '=', username)
        .returningAll()
        .executeTakeFirst();
      if (!row) throw new NotFoundError(`service user ${username} does not exist`);
      await this.audit(trx, {
        event: 'token-service.service_user.rotate',
        actor,
        targetId: username,
        requestId,
      });
      return toServiceUser(row);
    });
    return { serviceUser, password };
  }

  /**
   * Rotation with overlap (mint): `password` becomes the current password and the current one
   * stays valid beside it as the previous generation, until `keepPreviousUntil` or, when null,
   * until `retirePreviousPassword`. When a previous generation is still held without an end (a
   * rotation that was never finished: the new password may not have reached its consumers), only
   * the current password is replaced: the previous generation is the one consumers hold.
   */
  async rotatePasswordWithOverlap(
    username: string,
    password: string,
    keepPreviousUntil: Date | null,
    actor: AuditActor = SYSTEM_ACTOR,
    requestId: string = systemRequestId(),
  ): Promise<void> {
    const parsed = ServiceUserInputSchema.shape.password.safeParse(password);
    if (!parsed.success || parsed.data === undefined) {
      throw new InputError('invalid password', { details: { errors: parsed.error?.issues ?? [] } });
    }
    const passwordHash = await hashSecret(password);
    await this.db.transaction().execute(async (trx) => {
      const outcome = await rotateWithOverlap(
        trx,
        PASSWORD_GENERATIONS,
        username,
        passwordHash,
        keepPreviousUntil,
        new Date(this.now()),
      );
      if (outcome.kind !== 'rotated') throw new NotFoundError(`service user ${username} does not exist`);
      await this.audit(trx, {
        event: 'token-service.service_user.rotate',
        actor,
        targetId: username,
        details: outcome.details,
        requestId,
      });
    });
  }

  /**
   * Ends the overlap: the previous password stays valid until `at` (at once when `at` is not in
   * the future). Nothing to do without a previous generation.
   */
  async retirePreviousPassword(
    username: string,
    at: Date,
    actor: AuditActor = SYSTEM_ACTOR,
    requestId: string = systemRequestId(),
  ): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      if (!(await retirePrevious(trx, PASSWORD_GENERATIONS, username, at, this.now()))) return;
      await this.audit(trx, {
        event: 'token-service.service_user.retire_previous',
        actor,
        targetId: username,
        details: { previous_valid_until: at.toISOString() },
        requestId,
      });
    });
  }

  /**
   * Deletes a service user: its password stops working, its refresh tokens are refused, and
   * verifiers refuse its access tokens like those of a disabled one (`isDisabled`).
   */
  async deleteServiceUser(username: string, actor: AuditActor, requestId: string): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      const result = await trx
        .deleteFrom('token_service_users')
        .where('username', '=', username)
        .executeTakeFirst();
      if (result.numDeletedRows === 0n) throw new NotFoundError(`service user ${username} does not exist`);
      await this.#statusChanged(trx, username);
      await this.audit(trx, {
        event: 'token-service.service_user.delete',
        actor,
        targetId: username,
        requestId,
      });
    });
  }

  /** Disables a service user: its password stops working; tokens already issued run out. */
  async disableServiceUser(
    username: string,
    actor: AuditActor = SYSTEM_ACTOR,
    requestId: string = systemRequestId(),
  ): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      const result = await trx
        .updateTable('token_service_users')
        .set({ disabled: true, updated_at: new Date(this.now()) })
        .where('username', '=', username)
        .executeTakeFirst();
      if (result.numUpdatedRows === 0n) throw new NotFoundError(`service user ${username} does not exist`);
      await this.#statusChanged(trx, username);
      await this.audit(trx, {
        event: 'token-service.service_user.disable',
        actor,
        targetId: username,
        requestId,
      });
    });
  }

  /**
   * The enabled service user with exactly this password (the current one, or the previous one
   * while it is valid), or undefined. A password that is not the current one is always compared a
   * second time, with the previous generation or a dummy hash, so a failure takes the same time
   * whether or not the user exists or has a previous generation.
   */
  async verifyPassword(username: string, password: string): Promise<ServiceUser | undefined> {
    const row = await this.#row(username);
    const dummy = await dummyPasswordHash();
    let ok = await verifySecret(password, row?.password_hash ?? dummy);
    if (!ok) {
      const previous = row
        ? validPrevious(row.previous_password_hash, row.previous_password_valid_until, this.now())
        : undefined;
      ok = (await verifySecret(password, previous ?? dummy)) && previous !== undefined;
    }
    return row && ok && !row.disabled ? toServiceUser(row) : undefined;
  }

  #row(username: string): Promise<ServiceUserRow | undefined> {
    return this.db
      .selectFrom('token_service_users')
      .selectAll()
      .where('username', '=', username)
      .executeTakeFirst();
  }
}

const NO_PREVIOUS_PASSWORD = { previous_password_hash: null, previous_password_valid_until: null };

function toServiceUser(
  row: Pick<ServiceUserRow, 'username' | 'scopes' | 'application_id' | 'team_id' | 'disabled'>,
): ServiceUser {
  return {
    username: row.username,
    scopes: jsonList(row.scopes),
    applicationId: row.application_id,
    teamId: row.team_id,
    disabled: row.disabled,
  };
}
