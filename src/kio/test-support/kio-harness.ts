import type { Database } from '../../platform/db/database.js';
import type { ComponentMigrations } from '../../platform/db/migrate.js';
import type { HttpApp } from '../../platform/http/create-http-app.js';
import type { ServiceContext } from '../../platform/service-context.js';
import { createTestContext, KERNEL_MIGRATIONS } from '../../platform/test-support/service-context.js';
import { createTestIssuer, type TestIssuer } from '../../platform/test-support/test-issuer.js';
import { TeamStore, teamMigrations } from '../../teams/index.js';
import type { SearchSettings } from '../application-registry.js';
import { createKioService, type KioService, kioMigrations } from '../index.js';

/** Kernel, teams (the real team store backs the TeamDirectory) and Kio. */
export const KIO_TEST_MIGRATIONS: ComponentMigrations[] = [
  ...KERNEL_MIGRATIONS,
  { component: 'teams', migrations: teamMigrations },
  { component: 'kio', migrations: kioMigrations },
];

export type Headers = Record<string, string>;

export interface KioHarness {
  ctx: ServiceContext;
  issuer: TestIssuer;
  teams: TeamStore;
  kio: KioService;
  app: HttpApp;
  /** `Authorization` headers for an employee (default) or a service. */
  as(uid: string, options?: { realm?: 'employees' | 'services'; scopes?: string[] }): Promise<Headers>;
}

/**
 * A Kio over a fresh test database with two teams: `team-a` (jdoe, alice) and `team-b`
 * (alice, bob). `admin` is a platform administrator.
 */
export async function createKioHarness(
  database: Database,
  options: { search?: Partial<SearchSettings> } = {},
): Promise<KioHarness> {
  const issuer = await createTestIssuer();
  const ctx = createTestContext(database, issuer.verifier, { adminUids: ['admin'] });
  const teams = new TeamStore(database);
  await teams.putTeam('team-a', { name: 'Team A', members: ['jdoe', 'alice'] });
  await teams.putTeam('team-b', { name: 'Team B', members: ['alice', 'bob'] });
  const kio = createKioService(ctx, { teams, ...(options.search ? { search: options.search } : {}) });
  const app = await kio.createApp();
  await app.ready();
  return {
    ctx,
    issuer,
    teams,
    kio,
    app,
    async as(uid, { realm = 'employees', scopes = ['uid'] } = {}) {
      return { authorization: `Bearer ${await issuer.token({ uid, realm, scopes })}` };
    },
  };
}
