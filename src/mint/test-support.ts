import { createEssentialsService, essentialsMigrations } from '../essentials/index.js';
import { createKioService, type KioService, kioMigrations } from '../kio/index.js';
import type { Database } from '../platform/db/database.js';
import type { ComponentMigrations } from '../platform/db/migrate.js';
import type { HttpApp } from '../platform/http/create-http-app.js';
import { jobMigrations } from '../platform/jobs/migrations.js';
import type { ServiceContext } from '../platform/service-context.js';
import { createTestContext } from '../platform/test-support/service-context.js';
import { createTestIssuer, type TestIssuer } from '../platform/test-support/test-issuer.js';
import { TeamStore, teamMigrations } from '../teams/index.js';
import {
  createFixture,
  TOKEN_SERVICE_TEST_MIGRATIONS,
  type TokenServiceFixture,
} from '../token-service/test-support.js';
import type { BucketStore } from './buckets.js';
import { createMintService, type MintService, type MintSettings } from './index.js';
import { mintMigrations } from './migrations.js';

export const MINT_TEST_MIGRATIONS: ComponentMigrations[] = [
  ...TOKEN_SERVICE_TEST_MIGRATIONS,
  { component: 'teams', migrations: teamMigrations },
  { component: 'kio', migrations: kioMigrations },
  { component: 'essentials', migrations: essentialsMigrations },
  { component: 'jobs', migrations: jobMigrations },
  { component: 'mint', migrations: mintMigrations },
];

export type Headers = Record<string, string>;

export interface MintHarness {
  ctx: ServiceContext;
  tokens: TokenServiceFixture;
  tokenEndpoint: string;
  kio: KioService;
  mint: MintService;
  app: HttpApp;
  issuer: TestIssuer;
  /** jdoe is in team-a (owner of `order-engine`, `billing`), bob in none, admin is an administrator. */
  headers: { admin: Headers; jdoe: Headers; bob: Headers };
  /** Another mint instance (a second replica) over the same database. */
  replica(buckets?: BucketStore): MintService;
  close(): Promise<void>;
}

/**
 * The real parts mint talks to, over one test database: the token service listening on a
 * loopback port (the worker proves credentials with real grants), Kio with two applications of
 * team-a, essentials with `sales_order.read` (application scope) and `sales_order.write_own`
 * (resource-owner scope).
 */
export async function createMintHarness(
  database: Database,
  buckets: BucketStore,
  settings: Partial<MintSettings> = {},
): Promise<MintHarness> {
  const tokens = await createFixture(database);
  await tokens.app.listen({ port: 0, host: '127.0.0.1' });
  const address = tokens.app.server.address();
  if (address === null || typeof address === 'string')
    throw new Error('the token service is not listening on TCP');
  const tokenEndpoint = `http://127.0.0.1:${address.port}/oauth2/access_token`;
  const issuer = await createTestIssuer();
  const ctx = createTestContext(database, issuer.verifier, { adminUids: ['admin'] });
  const teams = new TeamStore(database);
  await teams.putTeam('team-a', { name: 'Team A', members: ['jdoe'] });
  const kio = createKioService(ctx, { teams });
  for (const id of ['order-engine', 'billing']) {
    await kio.registry.put({ uid: 'stups', realm: 'services' }, id, {
      team_id: 'team-a',
      active: true,
      name: id,
    });
  }
  const essentials = createEssentialsService(ctx, { applications: kio.applications, teams });
  const essentialsApp = await essentials.createApp();
  const admin = { authorization: `Bearer ${await issuer.token({ uid: 'admin' })}` };
  const puts: Array<[string, object]> = [
    ['/resource-types/sales_order', { name: 'Sales order', resource_owners: ['employees'] }],
    ['/resource-types/sales_order/scopes/read', { summary: 'read orders', is_resource_owner_scope: false }],
    [
      '/resource-types/sales_order/scopes/write_own',
      { summary: 'write own orders', is_resource_owner_scope: true },
    ],
  ];
  for (const [url, payload] of puts) {
    const response = await essentialsApp.inject({ method: 'PUT', url, headers: admin, payload });
    if (response.statusCode >= 300)
      throw new Error(`essentials ${url}: ${response.statusCode} ${response.body}`);
  }
  await essentialsApp.close();
  const build = (store: BucketStore) =>
    createMintService(ctx, {
      applications: kio.applications,
      scopes: essentials.scopes,
      teams,
      credentials: tokens.service,
      buckets: store,
      installationSecret: 'mint-test-installation-secret',
      settings: { tokenEndpoint, retirementGraceSeconds: 600, ...settings },
      now: tokens.clock.now,
    });
  const mint = build(buckets);
  const app = await mint.createApp();
  await app.ready();
  return {
    ctx,
    tokens,
    tokenEndpoint,
    kio,
    mint,
    app,
    issuer,
    headers: {
      admin,
      jdoe: { authorization: `Bearer ${await issuer.token({ uid: 'jdoe' })}` },
      bob: { authorization: `Bearer ${await issuer.token({ uid: 'bob' })}` },
    },
    replica: (store = buckets) => build(store),
    async close() {
      await app.close();
      await tokens.close();
    },
  };
}

/**
 * A password grant exactly as a STUPS client library makes it from berry's two files: Basic
 * client credentials (or the client id in the form for a public client), realm `/services`.
 */
export async function grantFromFiles(
  tokenEndpoint: string,
  user: { application_username: string; application_password: string },
  client: { client_id: string; client_secret: string | null },
): Promise<number> {
  const form = new URLSearchParams({
    grant_type: 'password',
    username: user.application_username,
    password: user.application_password,
    scope: 'uid',
  });
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (client.client_secret === null) form.set('client_id', client.client_id);
  else
    headers.authorization = `Basic ${Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64')}`;
  const response = await fetch(`${tokenEndpoint}?realm=/services`, { method: 'POST', headers, body: form });
  await response.body?.cancel();
  return response.status;
}
