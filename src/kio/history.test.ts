import { sql } from 'kysely';
import { beforeAll, expect, it } from 'vitest';
import type { HttpApp } from '../platform/http/create-http-app.js';
import { describeEachDatabase } from '../platform/test-support/databases.js';
import { createKioHarness, type Headers, KIO_TEST_MIGRATIONS } from './test-support/kio-harness.js';

const UPDATES = 1_100;

describeEachDatabase('kio history paging', KIO_TEST_MIGRATIONS, (getDatabase) => {
  let app: HttpApp;
  let jdoe: Headers;
  const get = (url: string) => app.inject({ url, headers: jdoe });

  beforeAll(async () => {
    const h = await createKioHarness(getDatabase());
    app = h.app;
    jdoe = await h.as('jdoe');
    await h.kio.registry.put({ uid: 'jdoe', realm: 'employees' }, 'long-lived', {
      team_id: 'team-a',
      active: true,
      name: 'Long lived',
    });
    // More changes than the old silent cap of 1,000, written in one statement (a PUT each
    // would make this test slow without testing anything more).
    await sql`
      insert into kio_application_changes (application_id, action, changed_by, changed_by_realm, changes)
      select 'long-lived', 'update', 'jdoe', 'employees',
             jsonb_build_object('name', jsonb_build_object('old', 'v' || (n - 1), 'new', 'v' || n))
      from generate_series(1, ${UPDATES}) as n`.execute(getDatabase().kysely());
  });

  it('answers pages of 100 by default and links to the next page until the first change', async () => {
    const seen: { id: string; action: string }[] = [];
    let url: string | undefined = '/apps/long-lived/history';
    let pages = 0;
    while (url !== undefined) {
      const response = await get(url);
      expect(response.statusCode).toBe(200);
      const page = response.json<{ id: string; action: string }[]>();
      seen.push(...page);
      pages += 1;
      const link = response.headers.link as string | undefined;
      url = link === undefined ? undefined : /^<([^>]+)>; rel="next"$/.exec(link)?.[1];
      if (link !== undefined)
        expect(url).toBe(`/apps/long-lived/history?limit=100&before=${page.at(-1)?.id}`);
      else expect(page.length).toBeLessThanOrEqual(100);
    }
    expect(pages).toBe(12);
    expect(seen).toHaveLength(UPDATES + 1);
    expect(new Set(seen.map((c) => c.id)).size).toBe(UPDATES + 1);
    const ids = seen.map((c) => BigInt(c.id));
    expect(ids.every((id, i) => i === 0 || id < (ids[i - 1] ?? 0n))).toBe(true);
    expect(seen.at(-1)?.action).toBe('create');
  });

  it('answers up to 1,000 at once and refuses larger pages and impossible cursors', async () => {
    const full = await get('/apps/long-lived/history?limit=1000');
    expect(full.json()).toHaveLength(1000);
    expect(full.headers.link).toMatch(/^<\/apps\/long-lived\/history\?limit=1000&before=\d+>; rel="next"$/);
    const rest = await get(/^<([^>]+)>/.exec(String(full.headers.link))?.[1] ?? '');
    expect(rest.json()).toHaveLength(UPDATES + 1 - 1000);
    expect(rest.headers.link).toBeUndefined();

    for (const query of [
      'limit=1001',
      'limit=0',
      'before=12345678901234567890123456',
      'before=x',
      'page=2',
    ]) {
      const refused = await get(`/apps/long-lived/history?${query}`);
      expect(refused.statusCode, query).toBe(400);
      expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
    }
  });

  it('still answers 404 for an application that does not exist', async () => {
    expect((await get('/apps/no-such-app/history?limit=5')).statusCode).toBe(404);
  });
});
