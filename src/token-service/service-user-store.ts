import type { Kysely, Selectable } from 'kysely';
import { InputError, NotFoundError } from '../platform/errors.js';
import { dummyPasswordHash } from '../platform/passwords.js';
import type { AuditActor } from '../platform/audit/create-audit.js';
import { SYSTEM_ACTOR, systemRequestId, type TokenServiceAudit } from './audit.js';
import { jsonList } from './client-store.js';
import { type ServiceUser, type ServiceUserInput, ServiceUserInputSchema } from './contract.js';
import { hashSecret, verifySecret } from './secrets.js';
import type { ServiceUsersTable, TokenServiceTables } from './tables.js';

type ServiceUserRow = Selectable<ServiceUsersTable>;

/** Service users of the `/services` realm (mint's `user.json`); passwords are kept only as scrypt hashes. */
export class ServiceUserStore {
  constructor(
    private readonly db: Kysely<TokenServiceTables>,
    private readonly audit: TokenServiceAudit,
    private readonly now: () => number,
  ) {}

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
    };
    await this.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('token_service_users')
        .values(row)
        .onConflict((oc) => oc.column('username').doUpdateSet(row))
        .execute();
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
      await this.audit(trx, {
        event: 'token-service.service_user.disable',
        actor,
        targetId: username,
        requestId,
      });
    });
  }

  /** The enabled service user with exactly this password, or undefined. */
  async verifyPassword(username: string, password: string): Promise<ServiceUser | undefined> {
    const row = await this.#row(username);
    const ok = await verifySecret(password, row?.password_hash ?? (await dummyPasswordHash()));
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
