import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChangeFeed } from '../platform/db/change-feed.js';
import { type Database, openDatabase } from '../platform/db/database.js';
import { migrateToLatest } from '../platform/db/migrate.js';
import { isPostgresAvailable, TEST_POSTGRES_URL } from '../platform/test-support/databases.js';
import { pieroneMigrations } from '../pierone/migrations.js';
import { PierOneStore } from '../pierone/store.js';
import { teamMigrations } from '../teams/migrations.js';
import { TeamStore } from '../teams/store.js';
import {
  basic,
  CLIENT,
  createFixture,
  EMPLOYEE,
  FORM,
  form,
  passwordToken,
  SERVICE_USER,
  TOKEN_SERVICE_TEST_MIGRATIONS,
  type TokenServiceFixture,
} from '../token-service/test-support.js';

/**
 * Issue 22: three replicas of the services in one process, each with its own pool and its own
 * listening connection on the same PostgreSQL schema, as three pods would have. The caches'
 * TTLs are set to an hour, so whatever a replica sees at once it saw through the change feed.
 */

const HOUR = 3600;
const MAX_FAILED_LOGINS = 4;

/** Resolves with the next key `channel` delivers on `feed` (undefined: "drop everything"). */
function nextChange(feed: ChangeFeed, channel: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const stop = feed.subscribe(channel, (key) => {
      stop();
      resolve(key);
    });
  });
}

interface Replica {
  database: Database;
  tokens: TokenServiceFixture;
  teams: TeamStore;
  pierone: PierOneStore;
}

describe('replicas on one PostgreSQL', async () => {
  if (!(await isPostgresAvailable())) {
    it.skip(`PostgreSQL is not reachable at ${TEST_POSTGRES_URL}`, () => {});
    return;
  }
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const replicas: Replica[] = [];
  let a!: Replica;
  let b!: Replica;
  let c!: Replica;

  beforeAll(async () => {
    for (let i = 0; i < 3; i++) {
      const database = await openDatabase({ kind: 'postgres', url: TEST_POSTGRES_URL, schema, poolSize: 3 });
      if (i === 0) {
        await migrateToLatest(database, [
          ...TOKEN_SERVICE_TEST_MIGRATIONS,
          { component: 'teams', migrations: teamMigrations },
          pieroneMigrations,
        ]);
      }
      const tokens = await createFixture(database, {
        revocationRefreshSeconds: HOUR,
        principalStatusCacheSeconds: HOUR,
        maxFailedLogins: MAX_FAILED_LOGINS,
      });
      const pierone = new PierOneStore(database, {
        tagListTtlMs: HOUR * 1000,
        immutableCacheTtlMs: HOUR * 1000,
      });
      replicas.push({ database, tokens, teams: new TeamStore(database), pierone });
      await database.changes.whenListening();
    }
    [a, b, c] = replicas as [Replica, Replica, Replica];
  }, 120_000);

  afterAll(async () => {
    for (const r of replicas) {
      await r.tokens.close();
      await r.database.destroy();
    }
    const client = new pg.Client({ connectionString: TEST_POSTGRES_URL });
    await client.connect();
    await client.query(`drop schema if exists ${schema} cascade`);
    await client.end();
  });

  it('a token revoked on A is refused by B and C on their next request', async () => {
    const token = (await passwordToken(a.tokens.app)).access_token;
    // B and C have verified it (and read the revocation snapshot) before the revocation.
    await expect(b.tokens.verifier.verify(token)).resolves.toMatchObject({ uid: EMPLOYEE.uid });
    await expect(c.tokens.verifier.verify(token)).resolves.toMatchObject({ uid: EMPLOYEE.uid });
    const heard = [
      nextChange(b.database.changes, 'token-service.revocations'),
      nextChange(c.database.changes, 'token-service.revocations'),
    ];
    const revoked = await a.tokens.app.inject({
      method: 'POST',
      url: '/oauth2/revoke',
      headers: { ...FORM, authorization: basic(CLIENT.id, CLIENT.secret) },
      payload: form({ token, token_type_hint: 'access_token' }),
    });
    expect(revoked.statusCode).toBe(200);
    await Promise.all(heard);
    await expect(b.tokens.verifier.verify(token)).rejects.toThrow('the access token was revoked');
    await expect(c.tokens.verifier.verify(token)).rejects.toThrow('the access token was revoked');
  });

  it('a user disabled on A is refused by B; enabled again, accepted again', async () => {
    await a.tokens.users.putUser('mallory', {
      name: 'M',
      email: 'm@example.org',
      password: 'mallory-pass-1',
    });
    const token = (await passwordToken(a.tokens.app, { username: 'mallory', password: 'mallory-pass-1' }))
      .access_token;
    await expect(b.tokens.verifier.verify(token)).resolves.toMatchObject({ uid: 'mallory' });
    let heard = nextChange(b.database.changes, 'auth.principal-status');
    await a.tokens.users.putUser('mallory', { name: 'M', email: 'm@example.org', disabled: true });
    expect(await heard).toBe('employees\nmallory\n');
    await expect(b.tokens.verifier.verify(token)).rejects.toThrow('belongs to a user who is disabled');
    heard = nextChange(b.database.changes, 'auth.principal-status');
    await c.tokens.users.putUser('mallory', { name: 'M', email: 'm@example.org', disabled: false });
    await heard;
    await expect(b.tokens.verifier.verify(token)).resolves.toMatchObject({ uid: 'mallory' });
  });

  it('a service user disabled on A is refused by C', async () => {
    const token = (await passwordToken(a.tokens.app, { realm: '/services', scope: 'uid' })).access_token;
    await expect(c.tokens.verifier.verify(token)).resolves.toMatchObject({ uid: SERVICE_USER.username });
    const heard = nextChange(c.database.changes, 'auth.principal-status');
    await a.tokens.service.disableServiceUser(SERVICE_USER.username);
    await heard;
    await expect(c.tokens.verifier.verify(token)).rejects.toThrow(
      'belongs to a service user who is disabled',
    );
  });

  it('a membership change on A holds on B at once (membership is read, not cached)', async () => {
    await a.teams.putTeam('greendale', { name: 'Greendale', members: ['jdoe'] });
    expect(await b.teams.isMember('greendale', 'abed')).toBe(false);
    await a.teams.addMember('greendale', 'abed');
    expect(await b.teams.isMember('greendale', 'abed')).toBe(true);
    await c.teams.removeMember('greendale', 'abed');
    expect(await b.teams.isMember('greendale', 'abed')).toBe(false);
  });

  it('a tag pushed on A is listed by B, a tag deleted on A is gone on B', async () => {
    const manifest = (digest: string) => ({
      repository: 'greendale/app',
      digest,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      content: Buffer.from(`{"schemaVersion":2,"d":"${digest}"}`),
      configDigest: undefined,
      subject: undefined,
      artifactType: undefined,
      annotations: undefined,
      scmSource: undefined,
      createdBy: 'jdoe',
    });
    const tag = (name: string) => ({ team: 'greendale', artifact: 'app', name, mutable: false });
    await a.pierone.putManifest(manifest(`sha256:${'1'.repeat(64)}`), tag('1.0'), async () => {});
    // B caches the tag list and the immutable tag for an hour.
    expect(await b.pierone.tagNames('greendale', 'app', undefined, undefined)).toEqual(['1.0']);
    expect(await b.pierone.tagDigest('greendale', 'app', '1.0')).toBe(`sha256:${'1'.repeat(64)}`);
    let heard = nextChange(b.database.changes, 'pierone.repository');
    await a.pierone.putManifest(manifest(`sha256:${'2'.repeat(64)}`), tag('2.0'), async () => {});
    expect(await heard).toBe('greendale/app');
    expect(await b.pierone.tagNames('greendale', 'app', undefined, undefined)).toEqual(['1.0', '2.0']);
    heard = nextChange(b.database.changes, 'pierone.repository');
    await a.pierone.deleteTag('greendale', 'app', '1.0', { by: 'admin', reason: 'test' }, async () => {});
    await heard;
    expect(await b.pierone.tagDigest('greendale', 'app', '1.0')).toBeUndefined();
    expect(await b.pierone.tagNames('greendale', 'app', undefined, undefined)).toEqual(['2.0']);
  });

  it('failed logins on A and B count together towards the limit', async () => {
    await a.tokens.users.putUser('troy', { name: 'T', email: 't@example.org', password: 'troy-pass-1' });
    const attempt = (replica: Replica, password: string) =>
      replica.tokens.app.inject({
        method: 'POST',
        url: '/oauth2/access_token?realm=/employees',
        headers: { ...FORM, authorization: basic(CLIENT.id, CLIENT.secret) },
        payload: form({ grant_type: 'password', username: 'troy', password, scope: 'uid' }),
      });
    // One failure short of the limit, spread over A and B: C still accepts (and the pair is cleared).
    for (const replica of [a, b, a]) expect((await attempt(replica, 'wrong')).statusCode).toBe(400);
    expect((await attempt(c, 'troy-pass-1')).statusCode).toBe(200);
    // Half of the allowed failures on each of two replicas: per process, neither would refuse.
    for (const replica of [a, b, a, b]) expect((await attempt(replica, 'wrong')).statusCode).toBe(400);
    const refused = await attempt(c, 'troy-pass-1');
    expect(refused.statusCode).toBe(400);
    expect(refused.json()).toMatchObject({ error: 'invalid_grant' });
  });

  it('a killed listening connection reconnects and drops every cache (changes may have been missed)', async () => {
    const tags = () => b.pierone.tagNames('greendale', 'lost', undefined, undefined);
    expect(await tags()).toEqual([]);
    // A change B cannot hear of: written without a notification, as if sent while B was disconnected.
    await b.database
      .kysely<{
        pierone_tags: { team: string; artifact: string; name: string; digest: string; created_by: string };
      }>()
      .insertInto('pierone_tags')
      .values({
        team: 'greendale',
        artifact: 'lost',
        name: 'x',
        digest: `sha256:${'3'.repeat(64)}`,
        created_by: 't',
      })
      .execute();
    expect(await tags()).toEqual([]);
    const reset = nextChange(b.database.changes, 'pierone.repository');
    const admin = new pg.Client({ connectionString: TEST_POSTGRES_URL });
    await admin.connect();
    try {
      const killed = await admin.query(
        `select pg_terminate_backend(pid) from pg_stat_activity where query ilike $1`,
        [`listen "stups_${schema}"`],
      );
      expect(killed.rowCount).toBe(3);
    } finally {
      await admin.end();
    }
    expect(await reset).toBeUndefined();
    expect(b.database.changes.listening).toBe(true);
    expect(await tags()).toEqual(['x']);
    // Listening again: A's next change reaches B.
    const heard = nextChange(b.database.changes, 'token-service.revocations');
    const token = (await passwordToken(a.tokens.app)).access_token;
    await b.tokens.verifier.verify(token);
    await a.tokens.app.inject({
      method: 'POST',
      url: '/oauth2/revoke',
      headers: { ...FORM, authorization: basic(CLIENT.id, CLIENT.secret) },
      payload: form({ token, token_type_hint: 'access_token' }),
    });
    await heard;
    await expect(b.tokens.verifier.verify(token)).rejects.toThrow('the access token was revoked');
  });
});
