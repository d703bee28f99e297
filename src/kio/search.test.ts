import { beforeAll, expect, it } from 'vitest';
import { describeEachDatabase } from '../platform/test-support/databases.js';
import type { ApplicationPut } from './contract.js';
import {
  createKioHarness,
  type Headers,
  KIO_TEST_MIGRATIONS,
  type KioHarness,
} from './test-support/kio-harness.js';

/** A fixed data set: where "quokka" appears decides the rank (id/name > subtitle > description). */
const APPS: [string, ApplicationPut][] = [
  [
    'archive',
    {
      name: 'Archive',
      subtitle: 'cold storage',
      description:
        'Long term archive for every team. It also keeps the occasional quokka image for the photo team, ' +
        'next to invoices, contracts and other documents nobody reads. Retention rules decide when ' +
        'anything is deleted, and the legal department signs every deletion off before it happens.',
    },
  ],
  [
    'photo-store',
    { name: 'Photo Store', subtitle: 'stores quokka pictures', description: 'Images & thumbnails, 5 < 6.' },
  ],
  ['quokka-api', { name: 'Quokka API', subtitle: 'the main service', description: 'Serves data.' }],
  ['unrelated', { name: 'Unrelated', subtitle: 'payments', description: 'Moves money around.' }],
  [
    'wombat',
    { name: 'Wombat', subtitle: 'burrows', description: 'Digs <script>alert(1)</script> wombat tunnels.' },
  ],
];

describeEachDatabase('kio search', KIO_TEST_MIGRATIONS, (getDatabase) => {
  let h: KioHarness;
  let jdoe: Headers;
  const search = async (query: string) => {
    const response = await h.app.inject({ url: `/apps?${query}`, headers: jdoe });
    expect(response.statusCode).toBe(200);
    return response.json<{ id: string; matched_rank: number; matched_description: string }[]>();
  };

  beforeAll(async () => {
    h = await createKioHarness(getDatabase(), { search: { candidateLimit: 1000, defaultLimit: 100 } });
    jdoe = await h.as('jdoe');
    for (const [id, app] of APPS) {
      await h.kio.registry.put({ uid: 'seed', realm: 'services' }, id, {
        team_id: id === 'wombat' ? 'team-b' : 'team-a',
        active: true,
        ...app,
      });
    }
  });

  it('ranks id and name above subtitle above description', async () => {
    const hits = await search('search=quokka');
    expect(hits.map((a) => a.id)).toEqual(['quokka-api', 'photo-store', 'archive']);
    const ranks = hits.map((a) => a.matched_rank);
    expect(ranks[0]).toBeGreaterThan(ranks[1]!);
    expect(ranks[1]).toBeGreaterThan(ranks[2]!);
    expect(ranks[2]).toBeGreaterThan(0);
  });

  it('answers a snippet of the description with the match marked', async () => {
    const [, , archive] = await search('search=quokka');
    expect(archive!.matched_description).toContain('<b>quokka</b> image for the photo team');
    expect(archive!.matched_description.length).toBeLessThan(APPS[0]![1].description!.length);
    // Descriptions are text: markup in them comes back escaped, only the match markers are HTML.
    const [wombat] = await search('search=wombat');
    expect(wombat!.matched_description).toBe(
      'Digs &lt;script&gt;alert(1)&lt;/script&gt; <b>wombat</b> tunnels.',
    );
    const [photo] = await search('search=thumbnails');
    expect(photo!.matched_description).toBe('Images &amp; <b>thumbnails</b>, 5 &lt; 6.');
  });

  it('finds word forms and id parts, and combines search with filters', async () => {
    expect((await search('search=quokkas')).map((a) => a.id)).toEqual([
      'quokka-api',
      'photo-store',
      'archive',
    ]);
    expect((await search('search=photo')).map((a) => a.id)).toEqual(['photo-store', 'archive']);
    expect((await search('search=photo%20store')).map((a) => a.id)).toEqual(['photo-store']);
    expect((await search('search=quokka&team_id=team-b')).map((a) => a.id)).toEqual([]);
    expect((await search('search=wombat&team_id=team-b')).map((a) => a.id)).toEqual(['wombat']);
    expect((await search('search=quokka&limit=1&offset=1')).map((a) => a.id)).toEqual(['photo-store']);
  });

  it('copes with stop words, operators and nonsense', async () => {
    expect(await search('search=the')).toEqual([]);
    expect(await search('search=xyzzy')).toEqual([]);
    // Web search syntax: the archive mentions the photo team, so it is excluded too.
    expect((await search(`search=${encodeURIComponent('quokka -photo')}`)).map((a) => a.id)).toEqual([
      'quokka-api',
    ]);
    for (const odd of ['"unbalanced', 'a & | ! (', "o'reilly", ':*', '\\']) {
      await search(`search=${encodeURIComponent(odd)}`);
    }
  });

  it('ranks only a capped candidate set', async () => {
    const capped = await createKioHarness(getDatabase(), {
      search: { candidateLimit: 2, defaultLimit: 100 },
    });
    const headers = await capped.as('jdoe');
    const response = await capped.app.inject({ url: '/apps?search=quokka', headers });
    expect(response.json()).toHaveLength(2);
    const paged = await capped.app.inject({ url: '/apps?search=quokka&limit=3', headers });
    expect(paged.json()).toHaveLength(3);
  });
});
