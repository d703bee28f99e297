import {
  CreateAccountCommand,
  CreateOrganizationalUnitCommand,
  CreateOrganizationCommand,
  ListRootsCommand,
  MoveAccountCommand,
  OrganizationsClient,
  TagResourceCommand,
} from '@aws-sdk/client-organizations';
import { createKioService, kioMigrations } from '../../kio/index.js';
import { TeamPolicy } from '../../platform/authz/team-policy.js';
import type { Database } from '../../platform/db/database.js';
import type { ComponentMigrations } from '../../platform/db/migrate.js';
import type { HttpApp } from '../../platform/http/create-http-app.js';
import { jobMigrations } from '../../platform/jobs/migrations.js';
import type { ServiceContext } from '../../platform/service-context.js';
import { createTestContext, KERNEL_MIGRATIONS } from '../../platform/test-support/service-context.js';
import { createTestIssuer, type TestIssuer } from '../../platform/test-support/test-issuer.js';
import { motoClientConfig } from '../../senza/test-support/moto.js';
import { TeamStore, teamMigrations } from '../../teams/index.js';
import { userMigrations } from '../../users/migrations.js';
import { UserStore } from '../../users/store.js';
import { sandboxAwsClients, type SandboxAwsClients } from '../aws/account-clients.js';
import { createSandboxComponent, type SandboxComponent } from '../index.js';
import { sandboxMigrations } from '../migrations.js';
import type { SandboxSettings } from '../settings.js';
import type { CostSource, ForecastSource } from '../spend/types.js';
import type { ReportBucket } from '../reports/report-bucket.js';

export const SANDBOX_TEST_MIGRATIONS: ComponentMigrations[] = [
  ...KERNEL_MIGRATIONS,
  { component: 'users', migrations: userMigrations },
  { component: 'teams', migrations: teamMigrations },
  { component: 'kio', migrations: kioMigrations },
  { component: 'jobs', migrations: jobMigrations },
  { component: 'sandbox', migrations: sandboxMigrations },
];

export type Headers = Record<string, string>;

/** The organisation the tests build in moto: 10 accounts in two OUs, states as tags. */
export interface TestOrganisation {
  /** In creation order: 0–2 released, 3–5 assigned (3 to jdoe, 4–5 to bob), 6–9 vanilla. */
  accountIds: string[];
  ous: { engineering: string; data: string };
}

/**
 * Creates the organisation in a fresh moto (`POST /moto-api/reset` first, so that each database's
 * suite starts from the same organisation). Even accounts sit in `engineering`, odd in `data`.
 */
export async function seedOrganisation(endpoint: string): Promise<TestOrganisation> {
  await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
  const org = new OrganizationsClient(motoClientConfig(endpoint));
  try {
    await org.send(new CreateOrganizationCommand({ FeatureSet: 'ALL' }));
    const rootId = (await org.send(new ListRootsCommand({}))).Roots![0]!.Id!;
    const ou = async (Name: string) =>
      (await org.send(new CreateOrganizationalUnitCommand({ ParentId: rootId, Name }))).OrganizationalUnit!
        .Id!;
    const ous = { engineering: await ou('engineering'), data: await ou('data') };
    const accountIds: string[] = [];
    for (let i = 0; i < 10; i++) {
      const created = await org.send(
        new CreateAccountCommand({ AccountName: `sandbox-${i}`, Email: `sandbox-${i}@example.org` }),
      );
      const id = created.CreateAccountStatus!.AccountId!;
      accountIds.push(id);
      await org.send(
        new MoveAccountCommand({
          AccountId: id,
          SourceParentId: rootId,
          DestinationParentId: i % 2 === 0 ? ous.engineering : ous.data,
        }),
      );
      const state = i < 3 ? 'released' : i < 6 ? 'assigned' : 'vanilla';
      const tags = [
        { Key: 'account-state', Value: state },
        { Key: 'cost-center', Value: i % 2 === 0 ? 'cc-100' : 'cc-200' },
      ];
      if (state === 'assigned') tags.push({ Key: 'account-holder', Value: i === 3 ? 'jdoe' : 'bob' });
      await org.send(new TagResourceCommand({ ResourceId: id, Tags: tags }));
    }
    return { accountIds, ous };
  } finally {
    org.destroy();
  }
}

export interface SandboxHarness {
  ctx: ServiceContext;
  sandbox: SandboxComponent;
  aws: SandboxAwsClients | undefined;
  app: HttpApp;
  issuer: TestIssuer;
  /** admin is an administrator; jdoe, bob and ann are platform users; gone is disabled. */
  headers: { admin: Headers; jdoe: Headers; bob: Headers; ann: Headers };
  close(): Promise<void>;
}

/**
 * The sandbox service over a test database with the real users, teams and Kio it reads; with
 * `motoEndpoint` it manages the moto organisation, without it management is off.
 */
export async function createSandboxHarness(
  database: Database,
  options: {
    motoEndpoint?: string;
    settings?: Partial<SandboxSettings>;
    now?: () => Date;
    costs?: CostSource;
    forecasts?: ForecastSource;
    reports?: ReportBucket;
  } = {},
): Promise<SandboxHarness> {
  const issuer = await createTestIssuer();
  const ctx = createTestContext(database, issuer.verifier, { adminUids: ['admin'] });
  const users = new UserStore(database);
  for (const uid of ['jdoe', 'bob', 'ann', 'admin']) {
    await users.putUser(uid, { name: uid, email: `${uid}@example.org` });
  }
  await users.putUser('gone', { name: 'Gone', email: 'gone@example.org', disabled: true });
  const teams = new TeamStore(database);
  const kio = createKioService(ctx, { teams });
  const policy = new TeamPolicy({ teams, applications: kio.applications, adminPolicy: ctx.adminPolicy });
  const aws = options.motoEndpoint
    ? sandboxAwsClients({ endpoint: options.motoEndpoint, region: 'eu-west-1' })
    : undefined;
  const sandbox = createSandboxComponent(ctx, {
    policy,
    users,
    aws,
    settings: { enabled: aws !== undefined, ...options.settings },
    ...(options.now ? { now: options.now } : {}),
    ...(options.costs ? { costs: options.costs } : {}),
    ...(options.forecasts ? { forecasts: options.forecasts } : {}),
    ...(options.reports ? { reports: options.reports } : {}),
  });
  const app = await sandbox.createApp();
  const bearer = async (uid: string) => ({ authorization: `Bearer ${await issuer.token({ uid })}` });
  return {
    ctx,
    sandbox,
    aws,
    app,
    issuer,
    headers: {
      admin: await bearer('admin'),
      jdoe: await bearer('jdoe'),
      bob: await bearer('bob'),
      ann: await bearer('ann'),
    },
    async close() {
      await app.close();
      aws?.dispose();
    },
  };
}
