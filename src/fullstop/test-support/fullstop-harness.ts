import type { Database } from '../../platform/db/database.js';
import type { ComponentMigrations } from '../../platform/db/migrate.js';
import type { HttpApp } from '../../platform/http/create-http-app.js';
import type { ServiceContext } from '../../platform/service-context.js';
import { createTestContext, KERNEL_MIGRATIONS } from '../../platform/test-support/service-context.js';
import { createTestIssuer, type TestIssuer } from '../../platform/test-support/test-issuer.js';
import type { AccessGrantDirectory } from '../../even/contract.js';
import { AccessRequestStore, evenMigrations } from '../../even/index.js';
import { createKioService, type KioService, kioMigrations } from '../../kio/index.js';
import type { ImageTagDirectory } from '../../pierone/contract.js';
import { PierOneImageTags, PierOneStore, pieroneMigrations } from '../../pierone/index.js';
import { userMigrations } from '../../users/migrations.js';
import { TeamStore, teamMigrations } from '../../teams/index.js';
import type { InstanceCatalog, SubnetCatalog } from '../aws/account-clients.js';
import type { ImageCatalog } from '../aws/images.js';
import { createFullstopService, type FullstopService, fullstopMigrations } from '../index.js';
import { RuleSettingsSchema, type RuleSettings } from '../settings.js';

export const FULLSTOP_TEST_MIGRATIONS: ComponentMigrations[] = [
  ...KERNEL_MIGRATIONS,
  { component: 'teams', migrations: teamMigrations },
  { component: 'kio', migrations: kioMigrations },
  { component: 'users', migrations: userMigrations },
  pieroneMigrations,
  { component: 'even', migrations: evenMigrations },
  { component: 'fullstop', migrations: fullstopMigrations },
];

/** team-a (jdoe, alice) owns ACCOUNT_A; team-b (bob) owns ACCOUNT_B; ACCOUNT_C belongs to nobody. */
export const ACCOUNT_A = '123456789012';
export const ACCOUNT_B = '210987654321';
export const ACCOUNT_C = '555555555555';

export type Headers = Record<string, string>;

export interface FullstopHarness {
  ctx: ServiceContext;
  issuer: TestIssuer;
  teams: TeamStore;
  kio: KioService;
  /** Pier One's and even's contracts over the same database (push and grant through their services). */
  imageTags: ImageTagDirectory;
  accessGrants: AccessGrantDirectory;
  fullstop: FullstopService;
  app: HttpApp;
  as(uid: string, options?: { realm?: 'employees' | 'services'; scopes?: string[] }): Promise<Headers>;
}

/**
 * fullstop. over a test database with the real team store and the real Kio (application
 * `order-engine` of team-a is registered). `images` answers the AMI rules (moto in tests).
 */
export async function createFullstopHarness(
  database: Database,
  images: ImageCatalog,
  rules: Partial<RuleSettings> = {},
  /** Subnet and instance look-ups (moto's EC2 in tests): the rules that need them fail without. */
  ec2?: SubnetCatalog & InstanceCatalog,
): Promise<FullstopHarness> {
  const issuer = await createTestIssuer();
  const ctx = createTestContext(database, issuer.verifier, { adminUids: ['admin'] });
  const teams = new TeamStore(database);
  await teams.putTeam('team-a', { name: 'Team A', members: ['jdoe', 'alice'], aws_accounts: [ACCOUNT_A] });
  await teams.putTeam('team-b', { name: 'Team B', members: ['bob'], aws_accounts: [ACCOUNT_B] });
  const kio = createKioService(ctx, { teams });
  await kio.registry.put({ uid: 'stups', realm: 'services' }, 'order-engine', {
    team_id: 'team-a',
    active: true,
    name: 'Order Engine',
  });
  // No tag-list cache: a test's push is visible to the next rule run at once.
  const imageTags = new PierOneImageTags(new PierOneStore(database, { tagListTtlMs: 0 }));
  const accessGrants = new AccessRequestStore(database);
  const fullstop = createFullstopService(ctx, {
    teams,
    applications: kio.applications,
    images,
    imageTags,
    accessGrants,
    rules: RuleSettingsSchema.parse(rules),
    subnets: ec2,
    instances: ec2,
  });
  const app = await fullstop.createApp();
  await app.ready();
  return {
    ctx,
    issuer,
    teams,
    kio,
    imageTags,
    accessGrants,
    fullstop,
    app,
    async as(uid, { realm = 'employees', scopes = ['uid'] } = {}) {
      return { authorization: `Bearer ${await issuer.token({ uid, realm, scopes })}` };
    },
  };
}
