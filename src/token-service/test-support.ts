import { createHash, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import { TokenVerifier } from '../platform/auth/token-verifier.js';
import type { Database } from '../platform/db/database.js';
import type { ComponentMigrations } from '../platform/db/migrate.js';
import type { Logger } from '../platform/logger.js';
import type { HttpApp } from '../platform/http/create-http-app.js';
import type { ServiceContext } from '../platform/service-context.js';
import { createTestContext, KERNEL_MIGRATIONS } from '../platform/test-support/service-context.js';
import { userMigrations } from '../users/migrations.js';
import { UserStore } from '../users/store.js';
import type { AwsAccountDirectory } from './aws/aws-roles.js';
import type { TokenServiceConfig } from './config.js';
import { tokenServiceMigrations } from './migrations.js';
import type { TokenServiceTables } from './tables.js';
import { createTokenService, type TokenService } from './token-service.js';

export const TOKEN_SERVICE_TEST_MIGRATIONS: ComponentMigrations[] = [
  ...KERNEL_MIGRATIONS,
  { component: 'users', migrations: userMigrations },
  { component: 'token-service', migrations: tokenServiceMigrations },
];

export const EMPLOYEE = { uid: 'jdoe', password: 'jdoe-password-1' };
export const SERVICE_USER = {
  username: 'stups_myapp',
  password: 'service-password-123',
  scopes: ['pets.write', 'application.write'],
};
export const CLIENT = { id: 'myapp-client', secret: 'client-secret-0123456789' };
export const SERVICES_ONLY_CLIENT = { id: 'services-only', secret: 'services-secret-0123456789' };
export const RESOURCE_SERVER = { id: 'resource-server', secret: 'resource-secret-0123456789' };

/** A clock tests move forward instead of sleeping. */
export interface TestClock {
  now: () => number;
  advance(seconds: number): void;
}

export function testClock(start = Date.now()): TestClock {
  let t = start;
  return {
    now: () => t,
    advance: (seconds) => {
      t += seconds * 1000;
    },
  };
}

export interface TokenServiceFixture {
  ctx: ServiceContext;
  service: TokenService;
  app: HttpApp;
  users: UserStore;
  clock: TestClock;
  /** A verifier as every other service has it: trusting the token service, asking it about revocation. */
  verifier: TokenVerifier;
  db: Kysely<TokenServiceTables>;
  close(): Promise<void>;
}

/** The token service over a migrated test database, with an employee, a service user and clients. */
export async function createFixture(
  database: Database,
  config: TokenServiceConfig = {},
  options: { logger?: Logger; awsAccounts?: AwsAccountDirectory } = {},
): Promise<TokenServiceFixture> {
  const clock = testClock();
  const verifier = new TokenVerifier({ issuers: [], now: clock.now });
  const testContext = createTestContext(database, verifier);
  const ctx = options.logger ? { ...testContext, logger: options.logger } : testContext;
  const users = new UserStore(database);
  const service = createTokenService(ctx, {
    users,
    awsAccounts: options.awsAccounts,
    config: { consoleRedirectUris: ['https://console.example.org/callback'], ...config },
    now: clock.now,
  });
  // As `stups up` does: the context's verifier (the admin API's) trusts the token service.
  verifier.trust(service.trustedIssuer);
  const realVerifier = new TokenVerifier({
    issuers: [service.trustedIssuer],
    isRevoked: (jti) => service.isRevoked(jti),
    isDisabled: (principal) => service.isDisabled(principal),
    now: clock.now,
  });
  await seed(service, users);
  const app = await service.createApp();
  await app.ready();
  return {
    ctx,
    service,
    app,
    users,
    clock,
    verifier: realVerifier,
    db: database.kysely<TokenServiceTables>(),
    close: () => app.close(),
  };
}

async function seed(service: TokenService, users: UserStore): Promise<void> {
  if (await users.getUser(EMPLOYEE.uid)) return;
  await users.putUser(EMPLOYEE.uid, {
    name: 'John Doe',
    email: 'jdoe@example.org',
    password: EMPLOYEE.password,
  });
  await users.putUser('gone', {
    name: 'Gone',
    email: 'gone@example.org',
    password: 'gone-password-1',
    disabled: true,
  });
  await service.upsertServiceUser({ ...SERVICE_USER, applicationId: 'myapp', teamId: 'greendale' });
  await service.upsertClient({
    clientId: CLIENT.id,
    type: 'confidential',
    secret: CLIENT.secret,
    realms: ['employees', 'services'],
    grantTypes: ['password', 'refresh_token', 'client_credentials'],
    scopes: null,
  });
  await service.upsertClient({
    clientId: SERVICES_ONLY_CLIENT.id,
    type: 'confidential',
    secret: SERVICES_ONLY_CLIENT.secret,
    realms: ['services'],
    grantTypes: ['password', 'client_credentials'],
    scopes: ['pets.write', 'kio.read'],
  });
  await service.upsertClient({
    clientId: RESOURCE_SERVER.id,
    type: 'confidential',
    secret: RESOURCE_SERVER.secret,
    realms: ['services'],
    grantTypes: ['client_credentials'],
    scopes: [],
  });
}

export function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

export function form(params: Record<string, string>): string {
  return new URLSearchParams(params).toString();
}

export const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

/** Password-grant token through the HTTP endpoint; fails the test on anything but 200. */
export async function passwordToken(
  app: HttpApp,
  options: {
    realm?: string;
    username?: string;
    password?: string;
    scope?: string;
    client?: { id: string; secret: string };
  } = {},
): Promise<{ access_token: string; refresh_token?: string; scope: string; expires_in: number }> {
  const client = options.client ?? CLIENT;
  const realm = options.realm ?? '/employees';
  const services = realm === '/services';
  const response = await app.inject({
    method: 'POST',
    url: `/oauth2/access_token?realm=${realm}`,
    headers: { ...FORM, authorization: basic(client.id, client.secret) },
    payload: form({
      grant_type: 'password',
      username: options.username ?? (services ? SERVICE_USER.username : EMPLOYEE.uid),
      password: options.password ?? (services ? SERVICE_USER.password : EMPLOYEE.password),
      scope: options.scope ?? 'uid',
    }),
  });
  if (response.statusCode !== 200)
    throw new Error(`token request failed: ${response.statusCode} ${response.body}`);
  return response.json();
}

/** Rows that a successful grant writes; bad requests must leave them unchanged. */
export async function writtenRows(
  db: Kysely<TokenServiceTables>,
): Promise<{ refresh: number; codes: number; revocations: number }> {
  const count = async (table: 'token_refresh_tokens' | 'token_authorization_codes' | 'token_revocations') =>
    Number(
      (
        await db
          .selectFrom(table)
          .select((eb) => eb.fn.countAll().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );
  return {
    refresh: await count('token_refresh_tokens'),
    codes: await count('token_authorization_codes'),
    revocations: await count('token_revocations'),
  };
}

/** A PKCE verifier and its S256 challenge. */
export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

export const ZIGN_REDIRECT = 'http://localhost:8081';

/**
 * Runs the browser half of the code flow for the built-in `zign` client: opens the login page,
 * posts the form with its CSRF cookie and returns the code from the redirect.
 */
export async function authorizationCode(
  app: HttpApp,
  challenge: string,
  options: { scope?: string; redirectUri?: string; resource?: string } = {},
): Promise<string> {
  const query = form({
    response_type: 'code',
    client_id: 'zign',
    redirect_uri: options.redirectUri ?? ZIGN_REDIRECT,
    scope: options.scope ?? 'uid',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    ...(options.resource !== undefined ? { resource: options.resource } : {}),
  });
  const page = await app.inject({ url: `/oauth2/authorize?${query}` });
  if (page.statusCode !== 200) throw new Error(`login page failed: ${page.statusCode} ${page.body}`);
  const cookie = String(page.headers['set-cookie']).split(';')[0];
  const csrf = /name="csrf_token" value="([^"]+)"/.exec(page.body)?.[1];
  if (!cookie || !csrf) throw new Error('login page without CSRF token');
  const posted = await app.inject({
    method: 'POST',
    url: '/oauth2/authorize',
    headers: { ...FORM, cookie },
    payload: form({
      ...Object.fromEntries(new URLSearchParams(query)),
      csrf_token: csrf,
      username: EMPLOYEE.uid,
      password: EMPLOYEE.password,
    }),
  });
  const code = new URL(String(posted.headers.location)).searchParams.get('code');
  if (posted.statusCode !== 303 || !code)
    throw new Error(`login failed: ${posted.statusCode} ${posted.body}`);
  return code;
}

/**
 * Redeems an authorization code as zign does: the token endpoint with the code, the PKCE
 * verifier and the redirect URI (default `ZIGN_REDIRECT`), no client secret. Returns the answer
 * as it is, for tests of refusals too.
 */
export function redeemZignCode(
  app: HttpApp,
  code: string,
  verifier: string,
  options: { redirectUri?: string; extra?: Record<string, string> } = {},
) {
  return app.inject({
    method: 'POST',
    url: '/oauth2/access_token',
    headers: FORM,
    payload: form({
      grant_type: 'authorization_code',
      code,
      code_verifier: verifier,
      client_id: 'zign',
      redirect_uri: options.redirectUri ?? ZIGN_REDIRECT,
      ...options.extra,
    }),
  });
}

const HTML_ENTITIES: Record<string, string> = {
  '&amp;': '&',
  '&lt;': '<',
  '&gt;': '>',
  '&quot;': '"',
  '&#39;': "'",
};

/**
 * Submits a login page as a browser does: every hidden field of its form as the page has it, the
 * CSRF cookie it set, and the user name and password typed in.
 */
export function submitLoginPage(
  app: HttpApp,
  page: { headers: Record<string, unknown>; body: string },
  credentials: { uid: string; password: string } = EMPLOYEE,
) {
  const cookie = String(page.headers['set-cookie']).split(';')[0]!;
  const unescape = (value: string) => value.replace(/&(amp|lt|gt|quot|#39);/g, (e) => HTML_ENTITIES[e]!);
  const fields: Record<string, string> = {};
  for (const [, name, value] of page.body.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g))
    fields[unescape(name!)] = unescape(value!);
  return app.inject({
    method: 'POST',
    url: '/oauth2/authorize',
    headers: { ...FORM, cookie },
    payload: form({ ...fields, username: credentials.uid, password: credentials.password }),
  });
}
