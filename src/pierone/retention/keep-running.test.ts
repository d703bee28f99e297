import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Ec2ImageCatalog } from '../../fullstop/aws/images.js';
import { FolderSource } from '../../fullstop/ingestion.js';
import * as records from '../../fullstop/test-support/cloudtrail-records.js';
import {
  ACCOUNT_A,
  createFullstopHarness,
  FULLSTOP_TEST_MIGRATIONS,
  type FullstopHarness,
} from '../../fullstop/test-support/fullstop-harness.js';
import { describeEachDatabase } from '../../platform/test-support/databases.js';
import {
  type RunningMoto,
  skipWithoutMoto,
  startMoto,
  TAUPAGE_IMAGES,
} from '../../senza/test-support/moto.js';
import { call } from '../test-support/http.js';
import {
  copyArgs,
  ImageBuilder,
  skopeo,
  startTestRegistry,
  type TestRegistry,
} from '../test-support/registry-harness.js';
import { RETENTION_ACTOR } from './retention.js';

const json = { 'content-type': 'application/json' };
const INSTANCE = 'i-0123456789abcdef1';
const LATE = 'i-0123456789abcdef2';

/**
 * keep_running end to end: fullstop ingests the launch (CloudTrail RunInstances) and the Taupage
 * user data the instance reports, Pier One's retention asks fullstop (contract runningImages)
 * and keeps the running tag until fullstop ingests the termination.
 */
describe.skipIf(skipWithoutMoto())('retention keep_running with fullstop', () => {
  let moto: RunningMoto;
  let amis: Ec2ImageCatalog;
  let images: ImageBuilder;
  const built: string[] = [];

  beforeAll(async () => {
    moto = await startMoto();
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'testing');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'testing');
    vi.stubEnv('AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED', 'true');
    amis = new Ec2ImageCatalog({ region: 'eu-west-1', endpoint: moto.endpoint });
    images = await ImageBuilder.create();
    for (const name of ['a', 'b', 'c']) built.push(await images.image(name, [{ [`app/${name}.txt`]: name }]));
  }, 120_000);
  afterAll(async () => {
    amis?.dispose();
    vi.unstubAllEnvs();
    await images?.dispose();
    await moto?.stop();
  });

  describeEachDatabase('running images', FULLSTOP_TEST_MIGRATIONS, (getDatabase) => {
    let reg: TestRegistry;
    let h: FullstopHarness;
    let trail: string;

    beforeAll(async () => {
      // The registry asks fullstop at run time, as the platform wires the contract.
      let fullstop: FullstopHarness | undefined;
      reg = await startTestRegistry(getDatabase(), {}, () => fullstop?.fullstop.runningImages);
      h = fullstop = await createFullstopHarness(getDatabase(), amis, { pieroneHosts: [reg.host] });
      trail = await mkdtemp(join(tmpdir(), 'keep-running-trail-'));
    }, 60_000);
    afterAll(async () => {
      await reg?.close();
      await rm(trail, { recursive: true, force: true });
    });

    const tagNames = async () =>
      ((await call(reg, 'GET', '/v2/stups/app/tags/list', { token: reg.tokens.alice })).json.tags as string[])
        .slice()
        .sort();
    const ingest = async (name: string, record: records.Record) => {
      await records.writeCloudTrailFile(
        trail,
        { account: ACCOUNT_A, region: 'eu-west-1', day: '2026-11-27', name },
        [record],
      );
      const outcome = await h.fullstop.ingestion.ingestPending(new FolderSource(trail), 10);
      expect(outcome.failed).toEqual([]);
      expect(outcome.files.map((f) => f.ingested)).toEqual([true]);
    };

    /** Taupage's report of the user data at boot. */
    const reportUserData = async (instanceId: string, source: string) => {
      const userData = `application_id: order-engine\napplication_version: '1.0'\nruntime: Docker\nsource: ${source}\n`;
      const logged = await h.app.inject({
        method: 'POST',
        url: '/api/instance-logs',
        headers: await h.as('taupage', { realm: 'services' }),
        payload: {
          account_id: ACCOUNT_A,
          region: 'eu-west-1',
          instance_boot_time: '2026-11-27T10:00:00Z',
          instance_id: instanceId,
          log_type: 'USER_DATA',
          log_data: Buffer.from(userData).toString('base64'),
        },
      });
      expect(logged.statusCode, logged.body).toBe(201);
    };

    it('keeps the tag a running instance uses and deletes it after the instance is terminated', async () => {
      for (const [i, tag] of ['1.0', '2.0', '3.0'].entries()) {
        const r = await skopeo([
          ...copyArgs({ destToken: reg.tokens.alice }),
          built[i]!,
          `docker://${reg.host}/stups/app:${tag}`,
        ]);
        expect(r.code, r.stderr).toBe(0);
      }
      const set = await call(reg, 'PUT', '/teams/stups/artifacts/app/retention-rule', {
        token: reg.tokens.alice,
        headers: json,
        body: JSON.stringify({ keep_last: 0, keep_running: true }),
      });
      expect(set.status, set.text).toBe(200);

      // Launched (CloudTrail), then Taupage reports its user data at boot.
      await ingest(
        '20261127T1000Z_launch',
        records.runInstances({ imageId: TAUPAGE_IMAGES.latest.id, instanceIds: [INSTANCE] }),
      );
      await reportUserData(INSTANCE, `${reg.host}/stups/app:1.0`);
      expect([...(await h.fullstop.runningImages.runningImages('stups', 'app'))]).toEqual(['1.0']);

      const plan = await call(reg, 'GET', '/teams/stups/retention-plan', { token: reg.tokens.alice });
      expect(plan.json[0].expired.map((e: { tag: string }) => e.tag).sort()).toEqual(['2.0', '3.0']);
      const first = await reg.service.retention.run();
      expect(first.failed).toEqual([]);
      expect(first.deleted.map((d) => d.tag).sort()).toEqual(['2.0', '3.0']);
      expect(await tagNames()).toEqual(['1.0']);
      const events = await reg.ctx.auditLog.query({
        action: 'pierone.tag.delete',
        targetId: 'stups/app:3.0',
        limit: 5,
      });
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({ outcome: 'success', actor: RETENTION_ACTOR });

      // A second instance launched just now with user data it has not reported: what it runs is
      // unknown, so the rule waits (dry run and job) instead of guessing.
      await ingest(
        '20261127T1030Z_late',
        records.runInstances({
          imageId: TAUPAGE_IMAGES.latest.id,
          instanceIds: [LATE],
          time: new Date().toISOString(),
        }),
      );
      const waiting = await call(reg, 'GET', '/teams/stups/retention-plan', { token: reg.tokens.alice });
      expect(waiting.json[0]).toMatchObject({
        expired: [],
        skipped: expect.stringMatching(
          new RegExp(
            `^running images unknown: .*not reported their user data yet \\(${ACCOUNT_A}/eu-west-1/${LATE}\\)`,
          ),
        ),
      });
      expect((await reg.service.retention.run()).skipped).toHaveLength(1);
      // It reports the same image by digest.
      const digest = (
        await call(reg, 'GET', '/v2/stups/app/manifests/1.0', {
          token: reg.tokens.alice,
          headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
        })
      ).headers.get('docker-content-digest');
      expect(digest).toMatch(/^sha256:/);
      await reportUserData(LATE, `${reg.host}/stups/app@${digest}`);

      // The first instance's termination: the second still keeps 1.0 (by digest).
      await ingest('20261127T1100Z_terminate', records.terminateInstances({ instanceIds: [INSTANCE] }));
      expect(await h.fullstop.runningImages.runningImages('stups', 'app')).toEqual(new Set([digest]));
      expect((await reg.service.retention.run()).deleted).toEqual([]);
      expect(await tagNames()).toEqual(['1.0']);

      // The last one goes: so does the tag, at the next run.
      await ingest('20261127T1200Z_terminate', records.terminateInstances({ instanceIds: [LATE] }));
      expect(await h.fullstop.runningImages.runningImages('stups', 'app')).toEqual(new Set());
      const second = await reg.service.retention.run();
      expect(second.deleted).toEqual([
        {
          team: 'stups',
          artifact: 'app',
          tag: '1.0',
          reason: 'retention rule stups/app: not among the newest 0 tags',
        },
      ]);
      expect(await tagNames()).toEqual([]);
      const deleted = await call(reg, 'GET', '/teams/stups/artifacts/app/deleted-tags', {
        token: reg.tokens.alice,
      });
      expect(deleted.json.map((d: { name: string }) => d.name).sort()).toEqual(['1.0', '2.0', '3.0']);
    }, 180_000);

    it('a keep_last 0 rule without a keep clause is refused', async () => {
      const r = await call(reg, 'PUT', '/teams/stups/artifacts/other/retention-rule', {
        token: reg.tokens.alice,
        headers: json,
        body: JSON.stringify({ keep_last: 0 }),
      });
      expect(r.status).toBe(400);
      expect(r.text).toContain('keep_last 0 needs keep_running or keep_patterns');
    });
  });
});
