import { join } from 'node:path';
import { type Kysely, sql } from 'kysely';
import type { ApplicationRegistry } from '../kio/application-registry.js';
import type { Database } from '../platform/db/database.js';
import { ConfigError, NotFoundError } from '../platform/errors.js';
import type { Logger } from '../platform/logger.js';
import type { TeamStore } from '../teams/store.js';
import type { UserStore } from '../users/store.js';
import type { LoadedOrg, OrgFile } from './org-file.js';
import type { TokenService } from '../token-service/token-service.js';
import { systemRequestId } from '../token-service/audit.js';
import { writeClientCredentials, writeUserCredentials } from './credentials-dir.js';

interface StateTables {
  platform_state: { key: string; value: string };
}

const SEEDED_KEY = 'org-file-sha256';

/** Who the token service's audit trail names for what the org file created. */
const ACTOR = { uid: 'stups' };

/**
 * Applies the org file when it differs from the one applied last: users and teams are
 * created or updated, nothing is deleted, and passwords or keys changed since through the
 * API are left alone unless the file itself changed.
 */
export async function seedOrg(
  database: Database,
  loaded: LoadedOrg,
  stores: {
    teams: TeamStore;
    users: UserStore;
    applications: ApplicationRegistry;
    tokenService?: Pick<TokenService, 'serviceUserStore' | 'clientStore'> | undefined;
  },
  logger: Logger,
  /** Where new service users' credentials are written, one folder per user (mint's files). */
  credentialsDir?: string,
): Promise<boolean> {
  if (database.kind === 'pglite') return seedOrgNow(database, loaded, stores, logger, credentialsDir);
  // Replicas started together (a Deployment's pods) would all see the file unapplied and insert
  // the same users at once (duplicate key): one seeds under this lock, the others wait for it
  // and then find the file's hash recorded. Held on one pinned connection; the writes use others.
  const lockKey = `${database.schema}:org-seeding`;
  return database
    .kysely<StateTables>()
    .connection()
    .execute(async (connection) => {
      await sql`select pg_advisory_lock(hashtext(${lockKey}))`.execute(connection);
      try {
        return await seedOrgNow(database, loaded, stores, logger, credentialsDir);
      } finally {
        await sql`select pg_advisory_unlock(hashtext(${lockKey}))`.execute(connection);
      }
    });
}

async function seedOrgNow(
  database: Database,
  loaded: LoadedOrg,
  stores: Parameters<typeof seedOrg>[2],
  logger: Logger,
  credentialsDir: string | undefined,
): Promise<boolean> {
  const db: Kysely<StateTables> = database.kysely<StateTables>();
  const last = await db
    .selectFrom('platform_state')
    .select('value')
    .where('key', '=', SEEDED_KEY)
    .executeTakeFirst();
  if (last?.value === loaded.hash) return false;

  // Users side by side: each putUser spends ~70 ms in scrypt on the libuv pool (4 threads), and
  // one after another that was most of a new data directory's seeding. Their writes touch
  // different rows; PGlite's dialect serialises them anyway and Postgres gives each a connection.
  await Promise.all(
    loaded.org.users.map(async (user) => {
      await stores.users.putUser(user.uid, { name: user.name, email: user.email, password: user.password });
      const existing = new Set(await stores.users.sshKeys(user.uid));
      for (const key of user.ssh_keys) {
        if (!existing.has(key.trim())) {
          await stores.users.addSshKey(user.uid, key).catch((error: Error) => {
            if (!/already has the key/.test(error.message)) throw error;
          });
        }
      }
    }),
  );
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
  if (loaded.org.service_users.length > 0) {
    if (!stores.tokenService || credentialsDir === undefined) {
      throw new ConfigError([`${loaded.path}: service_users needs the token service and a data directory`]);
    }
    await seedServiceUsers(loaded.org.service_users, stores.tokenService, credentialsDir, logger);
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

/**
 * Service users of the file: a missing one is created with a generated password, together with
 * a confidential client of the same name (password grant, /services realm) unless that exists,
 * and the secrets go only to `<credentialsDir>/<name>/user.json` and `client.json` (0600) — never
 * to the log. An existing one keeps its password and follows the file's application, team, scopes.
 */
async function seedServiceUsers(
  entries: OrgFile['service_users'],
  tokens: Pick<TokenService, 'serviceUserStore' | 'clientStore'>,
  credentialsDir: string,
  logger: Logger,
): Promise<void> {
  for (const entry of entries) {
    const requestId = systemRequestId();
    const wanted = { applicationId: entry.application, teamId: entry.team ?? null, scopes: entry.scopes };
    if (await tokens.serviceUserStore.getServiceUser(entry.name)) {
      await tokens.serviceUserStore.updateServiceUser(entry.name, wanted, ACTOR, requestId);
      continue;
    }
    const dir = join(credentialsDir, entry.name);
    const { password } = await tokens.serviceUserStore.createServiceUser(
      { username: entry.name, ...wanted },
      ACTOR,
      requestId,
    );
    await writeUserCredentials(dir, entry.name, password);
    if (!(await tokens.clientStore.getClient(entry.name))) {
      const { secret } = await tokens.clientStore.createClient(
        {
          clientId: entry.name,
          name: `${entry.application} (service user ${entry.name})`,
          type: 'confidential',
          realms: ['services'],
          grantTypes: ['password'],
          scopes: null,
        },
        ACTOR,
        requestId,
      );
      if (secret !== undefined) await writeClientCredentials(dir, entry.name, secret);
    }
    logger.info({ service_user: entry.name, credentials: dir }, 'service user created');
  }
}
