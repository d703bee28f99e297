import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeEachDatabase } from '../platform/test-support/databases.js';
import type { ImageCatalog } from './aws/images.js';
import { FolderSource } from './ingestion.js';
import * as records from './test-support/cloudtrail-records.js';
import {
  ACCOUNT_A,
  createFullstopHarness,
  FULLSTOP_TEST_MIGRATIONS,
  type FullstopHarness,
  type Headers,
} from './test-support/fullstop-harness.js';
import { timeOf } from './violations.js';

const noImages: ImageCatalog = {
  describe: () => Promise.reject(new Error('no RunInstances events in these tests')),
};

/** An event of 2020 in a file fullstop reads only now (a backfill, an outage of the queue). */
const OLD_EVENT = '2020-01-02T03:04:05Z';

describe('timeOf', () => {
  it('reads CloudTrail ISO times and Taupage times without a zone as UTC', () => {
    expect(timeOf(OLD_EVENT)?.toISOString()).toBe('2020-01-02T03:04:05.000Z');
    expect(timeOf('2026-11-27 10:00:00')?.toISOString()).toBe('2026-11-27T10:00:00.000Z');
    expect(timeOf('2026-11-27T10:00:00.5')?.toISOString()).toBe('2026-11-27T10:00:00.500Z');
    expect(timeOf('last tuesday')).toBeNull();
  });
});

describeEachDatabase('created vs event_time', FULLSTOP_TEST_MIGRATIONS, (getDatabase) => {
  let h: FullstopHarness;
  let jdoe: Headers;
  let root: string;

  beforeAll(async () => {
    h = await createFullstopHarness(getDatabase(), noImages);
    jdoe = await h.as('jdoe');
    root = await mkdtemp(join(tmpdir(), 'fullstop-event-time-'));
  });
  afterAll(async () => {
    await h.app.close();
    await rm(root, { recursive: true, force: true });
  });

  it('a late-ingested old event: created is when fullstop stored it, event_time when it happened', async () => {
    await records.writeCloudTrailFile(
      root,
      { account: ACCOUNT_A, region: 'eu-west-1', day: '2020-01-02', name: '20200102T0305Z_late' },
      [records.cloudTrailEvent('StopLogging', { time: OLD_EVENT, eventId: 'evt-late' })],
    );
    const before = new Date(Date.now() - 1000);
    const run = await h.fullstop.ingestion.ingestPending(new FolderSource(root), 10);
    expect(run.failed).toEqual([]);
    const after = new Date(Date.now() + 1000);

    // A client polling `from=<its last poll>` (the CLI, the console) sees it: `from` filters `created`.
    const page = (
      await h.app.inject({
        url: `/api/violations?accounts=${ACCOUNT_A}&from=${before.toISOString()}`,
        headers: jdoe,
      })
    ).json();
    expect(page.content).toHaveLength(1);
    const [v] = page.content;
    expect(v).toEqual(
      expect.objectContaining({
        event_id: 'evt-late',
        violation_type: expect.objectContaining({ id: 'CLOUDTRAIL_LOGGING_STOPPED' }),
        event_time: '2020-01-02T03:04:05.000Z',
      }),
    );
    expect(Date.parse(v.created)).toBeGreaterThanOrEqual(before.getTime());
    expect(Date.parse(v.created)).toBeLessThanOrEqual(after.getTime());
    // Not by the event's time: `to` before the ingestion finds nothing.
    const old = (
      await h.app.inject({
        url: `/api/violations?accounts=${ACCOUNT_A}&to=2021-01-01T00:00:00Z`,
        headers: jdoe,
      })
    ).json();
    expect(old.totalElements).toBe(0);
    expect((await h.app.inject({ url: `/api/violations/${v.id}`, headers: jdoe })).json()).toEqual(v);

    // The exports carry both, the same way.
    const csv = (
      await h.app.inject({ url: `/api/violations/export?format=csv&accounts=${ACCOUNT_A}`, headers: jdoe })
    ).body
      .trim()
      .split('\n')
      .map((line) => line.split(','));
    const [header, row] = csv;
    expect(row?.[header!.indexOf('created')]).toBe(v.created);
    expect(row?.[header!.indexOf('event_time')]).toBe('2020-01-02T03:04:05.000Z');
    const [finding] = (
      await h.app.inject({ url: `/api/violations/export?format=ocsf&accounts=${ACCOUNT_A}`, headers: jdoe })
    ).json();
    expect(finding.finding_info.created_time).toBe(Date.parse(v.created));
    expect(finding.finding_info.first_seen_time).toBe(Date.parse(OLD_EVENT));
    const sarif = (
      await h.app.inject({ url: `/api/violations/export?format=sarif&accounts=${ACCOUNT_A}`, headers: jdoe })
    ).json();
    expect(sarif.runs[0].results[0].properties).toEqual(
      expect.objectContaining({ created: v.created, event_time: '2020-01-02T03:04:05.000Z' }),
    );
  });

  it('a violation reported through POST /api/violations has no event time', async () => {
    const r = await h.app.inject({
      method: 'POST',
      url: '/api/violations',
      headers: await h.as('reporter', { realm: 'services', scopes: ['uid', 'fullstop.violation.write'] }),
      payload: {
        event_id: 'evt-posted',
        account_id: ACCOUNT_A,
        region: 'eu-west-1',
        violation_type: { id: 'PASSWORD_USED' },
        meta_info: { user_name: 'legacy' },
      },
    });
    expect(r.statusCode, r.body).toBe(201);
    expect(r.json()).toEqual(expect.objectContaining({ event_id: 'evt-posted', event_time: null }));
  });
});
