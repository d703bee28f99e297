import type { Generated, Kysely } from 'kysely';
import type { InTransaction } from '../platform/audit/create-audit.js';
import { PRINCIPAL_STATUS_CHANNEL, principalStatusKey } from '../platform/auth/principal-status.js';
import type { ChangeFeed } from '../platform/db/change-feed.js';
import type { Database } from '../platform/db/database.js';
import { ConflictError, NotFoundError } from '../platform/errors.js';
import { dummyPasswordHash, hashPassword, verifyPassword } from '../platform/passwords.js';
import type { User, UserDirectory } from './contract.js';
import { parseSshPublicKey } from './ssh-keys.js';

interface UserTables {
  users: {
    uid: string;
    name: string;
    email: string;
    password_hash: string | null;
    disabled: boolean;
    created: Generated<Date>;
    last_modified: Generated<Date>;
  };
  user_ssh_keys: { uid: string; fingerprint: string; public_key: string; created: Generated<Date> };
}

export interface SshKeyRecord {
  fingerprint: string;
  public_key: string;
  created: string;
}

export interface UserChanges {
  name: string;
  email: string;
  disabled?: boolean | undefined;
  /** Set a new password; absent leaves it as it is. */
  password?: string | undefined;
}

/** Employees, their passwords and SSH public keys. Implements the UserDirectory contract. */
export class UserStore implements UserDirectory {
  readonly #db: Kysely<UserTables>;
  readonly #changes: ChangeFeed;
  constructor(database: Database) {
    this.#db = database.kysely<UserTables>();
    this.#changes = database.changes;
  }

  async getUser(uid: string): Promise<User | undefined> {
    const row = await this.#db
      .selectFrom('users')
      .select(['uid', 'name', 'email', 'disabled'])
      .where('uid', '=', uid)
      .executeTakeFirst();
    return row;
  }

  async listUsers(): Promise<User[]> {
    return this.#db.selectFrom('users').select(['uid', 'name', 'email', 'disabled']).orderBy('uid').execute();
  }

  async verifyPassword(uid: string, password: string): Promise<boolean> {
    const row = await this.#db
      .selectFrom('users')
      .select(['password_hash', 'disabled'])
      .where('uid', '=', uid)
      .executeTakeFirst();
    if (!row?.password_hash || row.disabled) {
      // Spend the same time as a real check so response time does not reveal which users exist.
      await verifyPassword(password, await dummyPasswordHash());
      return false;
    }
    return verifyPassword(password, row.password_hash);
  }

  /**
   * Creates or updates a user; returns whether it was created. Each write method runs
   * `inTransaction` (the audit event) before it commits.
   */
  async putUser(
    uid: string,
    changes: UserChanges,
    inTransaction?: InTransaction<{ created: boolean; user: User }>,
  ): Promise<{ created: boolean; user: User }> {
    const passwordHash = changes.password === undefined ? undefined : await hashPassword(changes.password);
    return this.#db.transaction().execute(async (tx) => {
      const existing = await tx
        .selectFrom('users')
        .select('uid')
        .where('uid', '=', uid)
        .forUpdate()
        .executeTakeFirst();
      if (existing) {
        await tx
          .updateTable('users')
          .set({
            name: changes.name,
            email: changes.email,
            ...(changes.disabled === undefined ? {} : { disabled: changes.disabled }),
            ...(passwordHash === undefined ? {} : { password_hash: passwordHash }),
            last_modified: new Date(),
          })
          .where('uid', '=', uid)
          .execute();
      } else {
        await tx
          .insertInto('users')
          .values({
            uid,
            name: changes.name,
            email: changes.email,
            disabled: changes.disabled ?? false,
            password_hash: passwordHash ?? null,
          })
          .execute();
      }
      const user = await tx
        .selectFrom('users')
        .select(['uid', 'name', 'email', 'disabled'])
        .where('uid', '=', uid)
        .executeTakeFirstOrThrow();
      const result = { created: !existing, user };
      // Disabled, enabled or created: every replica's token verifiers ask about this user afresh.
      await this.#changes.notify(tx, PRINCIPAL_STATUS_CHANNEL, principalStatusKey('employees', uid));
      await inTransaction?.(tx, result);
      return result;
    });
  }

  async setPassword(uid: string, password: string, inTransaction?: InTransaction<void>): Promise<void> {
    const hash = await hashPassword(password);
    await this.#db.transaction().execute(async (tx) => {
      const result = await tx
        .updateTable('users')
        .set({ password_hash: hash, last_modified: new Date() })
        .where('uid', '=', uid)
        .executeTakeFirst();
      if (result.numUpdatedRows === 0n) throw new NotFoundError(`user ${uid} does not exist`);
      await inTransaction?.(tx, undefined);
    });
  }

  async sshKeys(uid: string): Promise<string[]> {
    return (await this.listSshKeys(uid)).map((k) => k.public_key);
  }

  async listSshKeys(uid: string): Promise<SshKeyRecord[]> {
    const rows = await this.#db
      .selectFrom('user_ssh_keys')
      .select(['fingerprint', 'public_key', 'created'])
      .where('uid', '=', uid)
      .orderBy('created')
      .orderBy('fingerprint')
      .execute();
    return rows.map((r) => ({ ...r, created: new Date(r.created).toISOString() }));
  }

  /** Adds a key; an identical key already present is a conflict naming its fingerprint. */
  async addSshKey(
    uid: string,
    publicKey: string,
    inTransaction?: InTransaction<SshKeyRecord>,
  ): Promise<SshKeyRecord> {
    const parsed = parseSshPublicKey(publicKey);
    return this.#db.transaction().execute(async (tx) => {
      const user = await tx.selectFrom('users').select('uid').where('uid', '=', uid).executeTakeFirst();
      if (!user) throw new NotFoundError(`user ${uid} does not exist`);
      const inserted = await tx
        .insertInto('user_ssh_keys')
        .values({ uid, fingerprint: parsed.fingerprint, public_key: parsed.line })
        .onConflict((oc) => oc.doNothing())
        .returning(['fingerprint', 'public_key', 'created'])
        .executeTakeFirst();
      if (!inserted) {
        throw new ConflictError(`user ${uid} already has the key ${parsed.fingerprint}`, {
          code: 'SSH_KEY_EXISTS',
        });
      }
      const key = { ...inserted, created: new Date(inserted.created).toISOString() };
      await inTransaction?.(tx, key);
      return key;
    });
  }

  async removeSshKey(uid: string, fingerprint: string, inTransaction?: InTransaction<void>): Promise<void> {
    await this.#db.transaction().execute(async (tx) => {
      const result = await tx
        .deleteFrom('user_ssh_keys')
        .where('uid', '=', uid)
        .where('fingerprint', '=', fingerprint)
        .executeTakeFirst();
      if (result.numDeletedRows === 0n) throw new NotFoundError(`user ${uid} has no key ${fingerprint}`);
      await inTransaction?.(tx, undefined);
    });
  }
}
