import type { Kysely } from 'kysely';
import type { ApplicationRegistry } from '../kio/application-registry.js';
import type { Database } from '../platform/db/database.js';
import { NotFoundError } from '../platform/errors.js';
import type { Logger } from '../platform/logger.js';
import type { TeamStore } from '../teams/store.js';
import type { UserStore } from '../users/store.js';
import type { LoadedOrg } from './org-file.js';

interface StateTables {
  platform_state: { key: string; value: string };
}

const SEEDED_KEY = 'org-file-sha256';

/**
 * Applies the org file when it differs from the one applied last: users and teams are
 * created or updated, nothing is deleted, and passwords or keys changed since through the
 * API are left alone unless the file itself changed.
 */
export async function seedOrg(
  database: Database,
  loaded: LoadedOrg,
  stores: { teams: TeamStore; users: UserStore; applications: ApplicationRegistry },
  logger: Logger,
): Promise<boolean> {
  const db: Kysely<StateTables> = database.kysely<StateTables>();
  const last = await db
    .selectFrom('platform_state')
    .select('value')
    .where('key', '=', SEEDED_KEY)
    .executeTakeFirst();
  if (last?.value === loaded.hash) return false;

  for (const user of loaded.org.users) {
    await stores.users.putUser(user.uid, { name: user.name, email: user.email, password: user.password });
    const existing = new Set(await stores.users.sshKeys(user.uid));
    for (const key of user.ssh_keys) {
      if (!existing.has(key.trim())) {
        await stores.users.addSshKey(user.uid, key).catch((error: Error) => {
          if (!/already has the key/.test(error.message)) throw error;
        });
      }
    }
  }
  for (const team of loaded.org.teams) {
    await stores.teams.putTeam(team.id, team);
  }
  for (const { id, ...app } of loaded.org.applications) {
    // Only missing ones: an application edited since keeps its edits when the file changes.
    const exists = await stores.applications.get(id).then(
      () => true,
      (error: unknown) => {
        if (error instanceof NotFoundError) return false;
        throw error;
      },
    );
    if (!exists) {
      await stores.applications.put({ uid: 'stups', realm: 'services' }, id, { active: true, ...app });
    }
  }
  await db
    .insertInto('platform_state')
    .values({ key: SEEDED_KEY, value: loaded.hash })
    .onConflict((oc) => oc.column('key').doUpdateSet({ value: loaded.hash }))
    .execute();
  logger.info(
    { file: loaded.path, users: loaded.org.users.length, teams: loaded.org.teams.length },
    'organisation seeded',
  );
  return true;
}
