import type { Generated, Kysely, Transaction } from 'kysely';
import type { InTransaction } from '../platform/audit/create-audit.js';
import type { Database } from '../platform/db/database.js';
import { ConflictError, NotFoundError } from '../platform/errors.js';
import type { AwsAccount, Team, TeamDirectory } from './contract.js';

interface TeamTables {
  teams: {
    id: string;
    name: string;
    type: string;
    description: string;
    created: Generated<Date>;
    last_modified: Generated<Date>;
  };
  team_members: { team_id: string; uid: string };
  team_aws_accounts: { account_id: string; team_id: string | null; description: string; disabled: boolean };
}

export interface TeamChanges {
  name: string;
  type?: string | undefined;
  description?: string | undefined;
  /** Replaces the member list when given. */
  members?: readonly string[] | undefined;
  /** Replaces the team's accounts when given; an account owned by another team is a conflict. */
  aws_accounts?: readonly string[] | undefined;
}

/** Teams, their members and AWS accounts. Implements the TeamDirectory contract. */
export class TeamStore implements TeamDirectory {
  readonly #db: Kysely<TeamTables>;
  constructor(database: Database) {
    this.#db = database.kysely<TeamTables>();
  }

  async listTeams(filter: { member?: string | undefined } = {}): Promise<Team[]> {
    let q = this.#db.selectFrom('teams').select('id').orderBy('id');
    if (filter.member) {
      const member = filter.member;
      q = q.where('id', 'in', (eb) =>
        eb.selectFrom('team_members').select('team_id').where('uid', '=', member),
      );
    }
    const ids = (await q.execute()).map((r) => r.id);
    return this.#load(this.#db, ids);
  }

  async getTeam(id: string): Promise<Team | undefined> {
    return (await this.#load(this.#db, [id]))[0];
  }

  teamsOfMember(uid: string): Promise<Team[]> {
    return this.listTeams({ member: uid });
  }

  async isMember(teamId: string, uid: string): Promise<boolean> {
    const row = await this.#db
      .selectFrom('team_members')
      .select('uid')
      .where('team_id', '=', teamId)
      .where('uid', '=', uid)
      .executeTakeFirst();
    return row !== undefined;
  }

  async teamOfAccount(accountId: string): Promise<Team | undefined> {
    const row = await this.#db
      .selectFrom('team_aws_accounts')
      .select('team_id')
      .where('account_id', '=', accountId)
      .executeTakeFirst();
    return row?.team_id ? this.getTeam(row.team_id) : undefined;
  }

  async listAccounts(filter: { member?: string | undefined } = {}): Promise<AwsAccount[]> {
    let q = this.#db
      .selectFrom('team_aws_accounts')
      .select(['account_id', 'team_id', 'description', 'disabled'])
      .orderBy('account_id');
    if (filter.member) {
      const member = filter.member;
      q = q.where('team_id', 'in', (eb) =>
        eb.selectFrom('team_members').select('team_id').where('uid', '=', member),
      );
    }
    return (await q.execute()).map((r) => ({
      id: r.account_id,
      name: r.team_id ?? '',
      type: 'aws' as const,
      description: r.description,
      owner: r.team_id ?? '',
      disabled: r.disabled,
    }));
  }

  /**
   * Creates or replaces a team in one transaction; returns whether it was created. Each write
   * method runs `inTransaction` (the audit event) before it commits.
   */
  async putTeam(
    id: string,
    changes: TeamChanges,
    inTransaction?: InTransaction<{ created: boolean; team: Team }>,
  ): Promise<{ created: boolean; team: Team }> {
    return this.#db.transaction().execute(async (tx) => {
      const existing = await tx
        .selectFrom('teams')
        .select('id')
        .where('id', '=', id)
        .forUpdate()
        .executeTakeFirst();
      if (existing) {
        await tx
          .updateTable('teams')
          .set({
            name: changes.name,
            ...(changes.type === undefined ? {} : { type: changes.type }),
            ...(changes.description === undefined ? {} : { description: changes.description }),
            last_modified: new Date(),
          })
          .where('id', '=', id)
          .execute();
      } else {
        await tx
          .insertInto('teams')
          .values({
            id,
            name: changes.name,
            type: changes.type ?? 'official',
            description: changes.description ?? '',
          })
          .execute();
      }
      if (changes.members) {
        await tx.deleteFrom('team_members').where('team_id', '=', id).execute();
        const members = [...new Set(changes.members)];
        if (members.length) {
          await tx
            .insertInto('team_members')
            .values(members.map((uid) => ({ team_id: id, uid })))
            .execute();
        }
      }
      if (changes.aws_accounts) await this.#assignAccounts(tx, id, changes.aws_accounts);
      const [team] = await this.#load(tx, [id]);
      const result = { created: !existing, team: team! };
      await inTransaction?.(tx, result);
      return result;
    });
  }

  async #assignAccounts(
    tx: Transaction<TeamTables>,
    teamId: string,
    accounts: readonly string[],
  ): Promise<void> {
    const wanted = [...new Set(accounts)];
    if (wanted.length) {
      const taken = await tx
        .selectFrom('team_aws_accounts')
        .select(['account_id', 'team_id'])
        .where('account_id', 'in', wanted)
        .where('team_id', 'is not', null)
        .where('team_id', '!=', teamId)
        .execute();
      if (taken.length) {
        const list = taken.map((t) => `${t.account_id} (team ${t.team_id})`).join(', ');
        throw new ConflictError(`AWS accounts already belong to other teams: ${list}`, {
          code: 'ACCOUNT_TAKEN',
        });
      }
    }
    let release = tx.updateTable('team_aws_accounts').set({ team_id: null }).where('team_id', '=', teamId);
    if (wanted.length) release = release.where('account_id', 'not in', wanted);
    await release.execute();
    for (const accountId of wanted) {
      await tx
        .insertInto('team_aws_accounts')
        .values({ account_id: accountId, team_id: teamId, description: '', disabled: false })
        .onConflict((oc) => oc.column('account_id').doUpdateSet({ team_id: teamId }))
        .execute();
    }
  }

  async deleteTeam(id: string, inTransaction?: InTransaction<void>): Promise<void> {
    await this.#db.transaction().execute(async (tx) => {
      const result = await tx.deleteFrom('teams').where('id', '=', id).executeTakeFirst();
      if (result.numDeletedRows === 0n) throw new NotFoundError(`team ${id} does not exist`);
      await inTransaction?.(tx, undefined);
    });
  }

  async addMember(teamId: string, uid: string, inTransaction?: InTransaction<void>): Promise<void> {
    await this.#db.transaction().execute(async (tx) => {
      const team = await tx.selectFrom('teams').select('id').where('id', '=', teamId).executeTakeFirst();
      if (!team) throw new NotFoundError(`team ${teamId} does not exist`);
      await tx
        .insertInto('team_members')
        .values({ team_id: teamId, uid })
        .onConflict((oc) => oc.doNothing())
        .execute();
      await inTransaction?.(tx, undefined);
    });
  }

  async removeMember(teamId: string, uid: string, inTransaction?: InTransaction<void>): Promise<void> {
    await this.#db.transaction().execute(async (tx) => {
      const result = await tx
        .deleteFrom('team_members')
        .where('team_id', '=', teamId)
        .where('uid', '=', uid)
        .executeTakeFirst();
      if (result.numDeletedRows === 0n) throw new NotFoundError(`${uid} is not a member of team ${teamId}`);
      await inTransaction?.(tx, undefined);
    });
  }

  /** Creates or updates an AWS account record; `owner` is the owning team (must exist) or null. */
  async putAccount(
    accountId: string,
    changes: { owner: string | null; description?: string | undefined; disabled?: boolean | undefined },
    inTransaction?: InTransaction<void>,
  ): Promise<AwsAccount> {
    await this.#db.transaction().execute(async (tx) => {
      if (changes.owner !== null) {
        const team = await tx
          .selectFrom('teams')
          .select('id')
          .where('id', '=', changes.owner)
          .executeTakeFirst();
        if (!team)
          throw new NotFoundError(`team ${changes.owner} does not exist`, { code: 'TEAM_NOT_FOUND' });
      }
      await tx
        .insertInto('team_aws_accounts')
        .values({
          account_id: accountId,
          team_id: changes.owner,
          description: changes.description ?? '',
          disabled: changes.disabled ?? false,
        })
        .onConflict((oc) =>
          oc.column('account_id').doUpdateSet({
            team_id: changes.owner,
            ...(changes.description === undefined ? {} : { description: changes.description }),
            ...(changes.disabled === undefined ? {} : { disabled: changes.disabled }),
          }),
        )
        .execute();
      await inTransaction?.(tx, undefined);
    });
    const accounts = await this.listAccounts();
    return accounts.find((a) => a.id === accountId)!;
  }

  async #load(db: Kysely<TeamTables>, ids: readonly string[]): Promise<Team[]> {
    if (!ids.length) return [];
    const [teams, members, accounts] = await Promise.all([
      db
        .selectFrom('teams')
        .select(['id', 'name', 'type', 'description'])
        .where('id', 'in', ids)
        .orderBy('id')
        .execute(),
      db
        .selectFrom('team_members')
        .select(['team_id', 'uid'])
        .where('team_id', 'in', ids)
        .orderBy('uid')
        .execute(),
      db
        .selectFrom('team_aws_accounts')
        .select(['team_id', 'account_id'])
        .where('team_id', 'in', ids)
        .orderBy('account_id')
        .execute(),
    ]);
    return teams.map((t) => ({
      ...t,
      members: members.filter((m) => m.team_id === t.id).map((m) => m.uid),
      aws_accounts: accounts.filter((a) => a.team_id === t.id).map((a) => a.account_id),
    }));
  }
}
