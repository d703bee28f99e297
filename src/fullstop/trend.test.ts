import { beforeAll, describe, expect, it } from 'vitest';
import { describeEachDatabase } from '../platform/test-support/databases.js';
import type { ImageCatalog } from './aws/images.js';
import { type TrendDay, ViolationTrend } from './trend.js';
import {
  ACCOUNT_A,
  ACCOUNT_B,
  createFullstopHarness,
  FULLSTOP_TEST_MIGRATIONS,
  type FullstopHarness,
  type Headers,
} from './test-support/fullstop-harness.js';

// Violations are stored directly with the times they were found: no rule looks an image up.
const noImages: ImageCatalog = {
  describe: () => Promise.reject(new Error('the trend tests ingest no RunInstances events')),
};

const DAY_MS = 24 * 60 * 60 * 1000;
const midnight = new Date(`${new Date().toISOString().slice(0, 10)}T00:00:00.000Z`);
const daysAgo = (n: number, hour = 12) => new Date(midnight.getTime() - n * DAY_MS + hour * 60 * 60 * 1000);
const dayString = (n: number) => new Date(midnight.getTime() - n * DAY_MS).toISOString().slice(0, 10);

describe('violation trend', () => {
  describeEachDatabase('GET /api/violation-trend', FULLSTOP_TEST_MIGRATIONS, (getDatabase) => {
    let h: FullstopHarness;
    let jdoe: Headers;
    const ids: string[] = [];

    const trend = async (query: string, headers: Headers = jdoe) => {
      const r = await h.app.inject({ url: `/api/violation-trend?${query}`, headers });
      expect(r.statusCode, r.body).toBe(200);
      return r.json<TrendDay[]>();
    };
    const resolve = async (id: string, comment: string) => {
      const r = await h.app.inject({
        method: 'POST',
        url: `/api/violations/${id}/resolution`,
        headers: { ...jdoe, 'content-type': 'text/plain' },
        payload: comment,
      });
      expect(r.statusCode, r.body).toBe(200);
    };

    beforeAll(async () => {
      h = await createFullstopHarness(getDatabase(), noImages);
      jdoe = await h.as('jdoe');
      const found: Array<[string, Date]> = [
        [ACCOUNT_A, daysAgo(40)], // open since before the range
        [ACCOUNT_A, daysAgo(3, 1)],
        [ACCOUNT_A, daysAgo(3, 23)],
        [ACCOUNT_A, daysAgo(1)],
        [ACCOUNT_B, daysAgo(2)],
      ];
      ids.push(
        ...(await h.fullstop.store.write((tx) =>
          tx.insertViolations(
            found.map(([account, created], i) => ({
              event_id: `trend-${i}`,
              account_id: account,
              region: 'eu-west-1',
              instance_id: '',
              type_id: 'WRONG_REGION',
              meta_info: null,
              team_id: account === ACCOUNT_A ? 'team-a' : 'team-b',
              username: null,
              application_id: null,
              application_version_id: null,
              created_by: 'test',
              created,
            })),
          ),
        )),
      );
      expect(ids).toHaveLength(5);
      // Resolved now: today.
      await resolve(ids[0]!, 'Old, accepted by the team');
      await resolve(ids[1]!, 'Fixed');
    }, 60_000);

    it('counts per UTC day for the caller’s teams, open at the end of each day', async () => {
      expect(await trend('days=5')).toEqual([
        { day: dayString(4), opened: 0, resolved: 0, open: 1 },
        { day: dayString(3), opened: 2, resolved: 0, open: 3 },
        { day: dayString(2), opened: 0, resolved: 0, open: 3 },
        { day: dayString(1), opened: 1, resolved: 0, open: 4 },
        { day: dayString(0), opened: 0, resolved: 2, open: 2 },
      ]);
    });

    it('answers for a named team, 30 days by default, ending today', async () => {
      const b = await trend('team=team-b');
      expect(b).toHaveLength(30);
      expect(b[29]!.day).toBe(dayString(0));
      expect(b.filter((d) => d.opened > 0)).toEqual([{ day: dayString(2), opened: 1, resolved: 0, open: 1 }]);
      expect(b.at(-1)).toEqual({ day: dayString(0), opened: 0, resolved: 0, open: 1 });
    });

    it('keeps the first resolution time when the comment is reworded', async () => {
      await resolve(ids[0]!, 'Old, accepted by the team (see INC-1)');
      expect((await trend('days=1'))[0]).toEqual({ day: dayString(0), opened: 0, resolved: 2, open: 2 });
    });

    it('counts what was resolved before the range as not open', async () => {
      // Ten days from now, the range starts after both resolutions.
      const later = new ViolationTrend(getDatabase(), h.teams, () => new Date(Date.now() + 10 * DAY_MS));
      const days = await later.trend({ uid: 'jdoe' }, { days: 3 });
      expect(days.map((d) => [d.opened, d.resolved, d.open])).toEqual([
        [0, 0, 2],
        [0, 0, 2],
        [0, 0, 2],
      ]);
    });

    it('answers zeros for someone in no team', async () => {
      const days = await trend('days=2', await h.as('nobody'));
      expect(days.map((d) => d.open)).toEqual([0, 0]);
    });

    it('refuses bad input with a problem, not an error', async () => {
      for (const [query, status] of [
        ['team=no-such-team', 404],
        ['days=0', 400],
        ['days=367', 400],
        ['days=many', 400],
      ] as const) {
        const r = await h.app.inject({ url: `/api/violation-trend?${query}`, headers: jdoe });
        expect(r.statusCode, query).toBe(status);
        expect(r.headers['content-type']).toContain('application/problem+json');
      }
      const anonymous = await h.app.inject({ url: '/api/violation-trend' });
      expect(anonymous.statusCode).toBe(401);
    });
  });
});
