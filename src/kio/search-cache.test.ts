import { sql } from 'kysely';
import { beforeAll, expect, it } from 'vitest';
import { describeEachDatabase } from '../platform/test-support/databases.js';
import { ApplicationStore } from './store.js';
import {
  createKioHarness,
  type Headers,
  KIO_TEST_MIGRATIONS,
  type KioHarness,
} from './test-support/kio-harness.js';

const OPTIONS = { candidateLimit: 1000, limit: 50 };

describeEachDatabase('kio search cache', KIO_TEST_MIGRATIONS, (getDatabase) => {
  let h: KioHarness;
  let jdoe: Headers;
  const ids = async (query: string) => {
    const response = await h.app.inject({ url: `/apps?${query}`, headers: jdoe });
    expect(response.statusCode).toBe(200);
    return response.json<{ id: string }[]>().map((a) => a.id);
  };
  const seed = { uid: 'seed', realm: 'services' } as const;

  beforeAll(async () => {
    h = await createKioHarness(getDatabase());
    jdoe = await h.as('jdoe');
    await getDatabase().changes.whenListening();
    await h.kio.registry.put(seed, 'numbat-api', { team_id: 'team-a', active: true, name: 'Numbat API' });
  });

  it('serves a repeated search from the cache until a write through Kio', async () => {
    expect(await ids('search=numbat')).toEqual(['numbat-api']);
    // A change behind Kio's back (no write, no notification): a new search sees it, the cached
    // answer of the repeated one does not.
    await sql`update kio_applications set name = 'Numbat Store' where id = 'numbat-api'`.execute(
      getDatabase().kysely(),
    );
    expect(await ids('search=store')).toEqual(['numbat-api']);
    expect(await ids('search=numbat')).toEqual(['numbat-api']);
    await sql`delete from kio_application_changes where application_id = 'numbat-api'`.execute(
      getDatabase().kysely(),
    );
    await sql`delete from kio_applications where id = 'numbat-api'`.execute(getDatabase().kysely());
    expect(await ids('search=numbat')).toEqual(['numbat-api']);
    // A write through Kio drops every cached answer at once in this process: it reads its write.
    await h.kio.registry.put(seed, 'numbat-store', { team_id: 'team-a', active: true, name: 'Numbat Store' });
    expect(await ids('search=numbat')).toEqual(['numbat-store']);
    // A write that changes nothing announces nothing, and the answer stays right.
    await h.kio.registry.put(seed, 'numbat-store', { name: 'Numbat Store' });
    expect(await ids('search=numbat')).toEqual(['numbat-store']);
  });

  it('drops the answers of another store (another replica) through the change feed', async () => {
    const other = new ApplicationStore(getDatabase());
    const before = await other.search('bilby', OPTIONS);
    expect(before).toEqual([]);
    await h.kio.registry.put(seed, 'bilby-api', { team_id: 'team-a', active: true, name: 'Bilby API' });
    // The notification arrives after the commit, asynchronously: poll for it (bounded).
    let found: string[] = [];
    for (let i = 0; i < 100 && found.length === 0; i++) {
      found = (await other.search('bilby', OPTIONS)).map((a) => a.id);
      if (found.length === 0) await new Promise((r) => setTimeout(r, 20));
    }
    expect(found).toEqual(['bilby-api']);
    await h.kio.registry.put(seed, 'bilby-api', { name: 'Bilby Engine' });
    let names: string[] = [];
    for (let i = 0; i < 100 && names[0] !== 'Bilby Engine'; i++) {
      names = (await other.search('bilby', OPTIONS)).map((a) => a.name);
      if (names[0] !== 'Bilby Engine') await new Promise((r) => setTimeout(r, 20));
    }
    expect(names).toEqual(['Bilby Engine']);
  });

  it('does not cache big pages', async () => {
    const store = new ApplicationStore(getDatabase());
    const big = { candidateLimit: 1000, limit: 500 };
    expect((await store.search('dingo', big)).map((a) => a.id)).toEqual([]);
    await sql`insert into kio_applications (id, team_id, active, name, created_by, last_modified_by)
      values ('dingo-api', 'team-a', true, 'Dingo API', 'x', 'x')`.execute(getDatabase().kysely());
    expect((await store.search('dingo', big)).map((a) => a.id)).toEqual(['dingo-api']);
  });

  it('keeps nothing when turned off', async () => {
    const uncached = new ApplicationStore(getDatabase(), { searchCache: { entries: 0 } });
    expect((await uncached.search('wallaby', OPTIONS)).map((a) => a.id)).toEqual([]);
    await sql`insert into kio_applications (id, team_id, active, name, created_by, last_modified_by)
      values ('wallaby-api', 'team-a', true, 'Wallaby API', 'x', 'x')`.execute(getDatabase().kysely());
    expect((await uncached.search('wallaby', OPTIONS)).map((a) => a.id)).toEqual(['wallaby-api']);
  });
});
