import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EC2Client, RegisterImageCommand } from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { describeEachDatabase } from '../platform/test-support/databases.js';
import {
  motoClientConfig,
  type RunningMoto,
  skipWithoutMoto,
  startMoto,
  TAUPAGE_IMAGES,
} from '../senza/test-support/moto.js';
import { Ec2ImageCatalog } from './aws/images.js';
import { FolderSource } from './ingestion.js';
import * as records from './test-support/cloudtrail-records.js';
import {
  ACCOUNT_A,
  ACCOUNT_B,
  ACCOUNT_C,
  createFullstopHarness,
  FULLSTOP_TEST_MIGRATIONS,
  type FullstopHarness,
  type Headers,
} from './test-support/fullstop-harness.js';

const TAUPAGE = TAUPAGE_IMAGES.latest.id;

describe.skipIf(skipWithoutMoto())('fullstop', () => {
  let moto: RunningMoto;
  let customAmi: string;
  let images: Ec2ImageCatalog;

  beforeAll(async () => {
    moto = await startMoto();
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'testing');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'testing');
    vi.stubEnv('AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED', 'true');
    const registered = await new EC2Client(motoClientConfig(moto.endpoint)).send(
      new RegisterImageCommand({ Name: 'ubuntu-hand-made', RootDeviceName: '/dev/xvda' }),
    );
    customAmi = registered.ImageId ?? '';
    images = new Ec2ImageCatalog({ region: 'eu-west-1', endpoint: moto.endpoint });
  }, 90_000);
  afterAll(async () => {
    images.dispose();
    vi.unstubAllEnvs();
    await moto.stop();
  });

  describeEachDatabase('ingestion and API', FULLSTOP_TEST_MIGRATIONS, (getDatabase) => {
    let h: FullstopHarness;
    let root: string;
    let source: FolderSource;
    let jdoe: Headers;
    let bob: Headers;
    let admin: Headers;
    const keys: string[] = [];

    const list = async (query: string, headers: Headers = jdoe) => {
      const r = await h.app.inject({ url: `/api/violations?${query}`, headers });
      expect(r.statusCode, r.body).toBe(200);
      return r.json();
    };

    beforeAll(async () => {
      h = await createFullstopHarness(getDatabase(), images);
      jdoe = await h.as('jdoe');
      bob = await h.as('bob');
      admin = await h.as('admin');
      root = await mkdtemp(join(tmpdir(), 'fullstop-trail-'));
      source = new FolderSource(root);
      const day = '2026-11-27';
      keys.push(
        await records.writeCloudTrailFile(
          root,
          { account: ACCOUNT_A, region: 'eu-west-1', day, name: '20261127T1000Z_a' },
          [
            records.runInstances({ imageId: TAUPAGE }), // clean
            records.runInstances({ imageId: customAmi, keyName: 'my-key', eventId: 'evt-wrong-ami' }),
            records.runInstances({ imageId: TAUPAGE, userData: false }),
            records.cloudTrailEvent('StopLogging'),
            records.authorizeIngress({ from: 22, to: 22, cidr: '0.0.0.0/0' }),
            records.authorizeIngress({ from: 443, to: 443, cidr: '0.0.0.0/0' }), // clean
            { eventID: 'not a CloudTrail record' },
          ],
        ),
        await records.writeCloudTrailFile(
          root,
          { account: ACCOUNT_A, region: 'us-east-1', day, name: '20261127T1005Z_b' },
          [
            records.runInstances({ imageId: TAUPAGE, region: 'us-east-1' }),
            records.consoleLogin({ type: 'IAMUser' }),
            records.iamRoleEvent('PutRolePolicy', { roleName: 'fullstop' }),
          ],
        ),
        await records.writeCloudTrailFile(
          root,
          { account: ACCOUNT_B, region: 'us-east-1', day, name: '20261127T1005Z_c' },
          [records.consoleLogin({ type: 'Root', account: ACCOUNT_B })],
        ),
        await records.writeCloudTrailFile(
          root,
          { account: ACCOUNT_C, region: 'us-east-1', day, name: '20261127T1005Z_d' },
          [records.consoleLogin({ type: 'IAMUser', account: ACCOUNT_C })],
        ),
      );
    });
    afterAll(async () => {
      await rm(root, { recursive: true, force: true });
    });

    describe('ingestion from a folder', () => {
      it('runs the rules over every file and stores each violation with the owning team', async () => {
        const run = await h.fullstop.ingestion.ingestPending(source, 100);
        expect(run.failed).toEqual([]);
        expect(run.files.map((f) => [f.key, f.ingested, f.events, f.malformed])).toEqual(
          [...keys].sort().map((k) => [k, true, expect.any(Number), k === keys[0] ? 1 : 0]),
        );
        const all = await list('size=100&accounts=' + [ACCOUNT_A, ACCOUNT_B, ACCOUNT_C].join(','));
        const types = all.content.map((v: { account_id: string; violation_type: { id: string } }) => [
          v.account_id,
          v.violation_type.id,
        ]);
        expect(types.sort()).toEqual(
          [
            [ACCOUNT_A, 'WRONG_AMI'],
            [ACCOUNT_A, 'EC2_WITH_KEYPAIR'],
            [ACCOUNT_A, 'MISSING_USER_DATA'],
            [ACCOUNT_A, 'CLOUDTRAIL_LOGGING_STOPPED'],
            [ACCOUNT_A, 'SECURITY_GROUP_OPEN_TO_THE_WORLD'],
            [ACCOUNT_A, 'WRONG_REGION'],
            [ACCOUNT_A, 'PASSWORD_USED'],
            [ACCOUNT_A, 'MODIFIED_ROLE_OR_SERVICE'],
            [ACCOUNT_B, 'PASSWORD_USED'],
            [ACCOUNT_C, 'PASSWORD_USED'],
          ].sort(),
        );
        const wrongAmi = all.content.find(
          (v: { violation_type: { id: string } }) => v.violation_type.id === 'WRONG_AMI',
        );
        expect(wrongAmi).toMatchObject({
          event_id: 'evt-wrong-ami',
          region: 'eu-west-1',
          instance_id: expect.stringMatching(/^i-/),
          meta_info: { ami_id: customAmi, ami_name: 'ubuntu-hand-made' },
          comment: null,
          created_by: 'fullstop',
          username: 'Shibboleth-PowerUser',
          rule_id: null,
          violation_type: {
            id: 'WRONG_AMI',
            violation_severity: 3,
            priority: 1,
            title: 'EC2 instance using illegal AMI',
          },
        });
        const events = await h.ctx.auditLog.query({ service: 'fullstop', limit: 10 });
        expect(events.filter((e) => e.action === 'fullstop.cloudtrail_file.ingest')).toHaveLength(4);
      });

      it('replaying every file twice adds nothing, through the cursor and through the unique key', async () => {
        const before = (await list(`size=1&accounts=${ACCOUNT_A},${ACCOUNT_B},${ACCOUNT_C}`)).totalElements;
        expect((await h.fullstop.ingestion.ingestPending(source, 100)).files).toEqual([]);
        for (const key of keys)
          expect((await h.fullstop.ingestion.ingestFile(source, key)).ingested).toBe(false);
        // The same files under another name (a second bucket, a moved folder): new to the cursor,
        // yet every violation is already stored.
        const again = new FolderSource(`${root}/.`);
        const replay = await h.fullstop.ingestion.ingestPending(again, 100);
        expect(replay.files.map((f) => [f.ingested, f.violations])).toEqual(keys.map(() => [true, 0]));
        expect((await list(`size=1&accounts=${ACCOUNT_A},${ACCOUNT_B},${ACCOUNT_C}`)).totalElements).toBe(
          before,
        );
      });

      it('marks a file that is no CloudTrail log done, audited as a failure, and does not retry it', async () => {
        const key =
          'AWSLogs/123456789012/CloudTrail/eu-west-1/2026/11/28/123456789012_CloudTrail_eu-west-1_20261128T0100Z_bad.json.gz';
        await mkdir(join(root, 'AWSLogs/123456789012/CloudTrail/eu-west-1/2026/11/28'), { recursive: true });
        await writeFile(join(root, ...key.split('/')), 'this is not gzip');
        const run = await h.fullstop.ingestion.ingestPending(source, 100);
        expect(run.failed).toEqual([]);
        expect(run.files).toEqual([
          expect.objectContaining({
            key,
            ingested: true,
            events: 0,
            unreadable: expect.stringMatching(/^not gzip JSON/),
          }),
        ]);
        expect((await h.fullstop.ingestion.ingestPending(source, 100)).files).toEqual([]);
        const events = await h.ctx.auditLog.query({
          service: 'fullstop',
          targetId: `${source.name}/${key}`,
          limit: 5,
        });
        expect(events.map((e) => e.outcome)).toEqual(['failure']);
      });

      it('a file that keeps failing waits its back-off instead of blocking the newer ones', async () => {
        const failing = await records.writeCloudTrailFile(
          root,
          { account: ACCOUNT_B, region: 'eu-west-1', day: '2026-11-29', name: '20261129T0000Z_fails' },
          [], // no records: the later tests count this account's violations
        );
        const newer = await records.writeCloudTrailFile(
          root,
          { account: ACCOUNT_B, region: 'eu-west-1', day: '2026-11-29', name: '20261129T0100Z_newer' },
          [],
        );
        // The source cannot read the older file (as when the bucket refuses one object).
        const flaky = {
          name: source.name,
          listKeys: () => source.listKeys(),
          read: async (key: string) => {
            if (key === failing) throw new Error('AccessDenied: the bucket refused this object');
            return source.read(key);
          },
        };
        const first = await h.fullstop.ingestion.ingestPending(flaky, 1);
        expect(first.failed).toEqual([
          { key: failing, error: 'AccessDenied: the bucket refused this object' },
        ]);
        const second = await h.fullstop.ingestion.ingestPending(flaky, 1);
        expect(second.files.map((f) => f.key)).toEqual([newer]);
        expect(second.deferred).toBe(1);
        // Still waiting: nothing to do, and the failed file is not marked done.
        expect(await h.fullstop.ingestion.ingestPending(flaky, 1)).toEqual({
          files: [],
          failed: [],
          deferred: 1,
        });
        expect((await h.fullstop.ingestion.ingestFile(source, failing)).ingested).toBe(true);
      });

      it('ingests a file once when two runs race for it', async () => {
        const key = await records.writeCloudTrailFile(
          root,
          { account: ACCOUNT_B, region: 'eu-west-1', day: '2026-11-28', name: '20261128T0000Z_race' },
          [records.runInstances({ account: ACCOUNT_B, imageId: TAUPAGE, keyName: 'k' })],
        );
        const [a, b] = await Promise.all([
          h.fullstop.ingestion.ingestPending(source, 100),
          h.fullstop.ingestion.ingestPending(source, 100),
        ]);
        const ingested = [...a.files, ...b.files].filter((f) => f.key === key && f.ingested);
        expect(ingested).toHaveLength(1);
        expect((await list(`accounts=${ACCOUNT_B}&type=EC2_WITH_KEYPAIR`)).totalElements).toBe(1);
      });
    });

    describe('GET /api/violations', () => {
      it('answers the page shape with STUPS filters; unknown parameters are ignored', async () => {
        const page = await list(
          `accounts=${ACCOUNT_A}&size=3&sort=id,DESC&page=0&unknown=1&from=2000-01-01T00:00:00.123456Z`,
        );
        expect(page).toMatchObject({
          totalElements: 8,
          totalPages: 3,
          first: true,
          last: false,
          number: 0,
          size: 3,
          numberOfElements: 3,
          sort: [{ direction: 'DESC', property: 'id', ascending: false }],
        });
        const ids = page.content.map((v: { id: number }) => v.id);
        expect(ids).toEqual([...ids].sort((x, y) => y - x));
        const repeated = await list(`accounts=${ACCOUNT_A}&accounts=${ACCOUNT_B}&size=1`);
        expect(repeated.totalElements).toBe(10);
        expect((await list(`accounts=${ACCOUNT_A}&from=2999-01-01T00:00:00.000001Z`)).totalElements).toBe(0);
        expect((await list(`accounts=${ACCOUNT_A}&severity=4`)).totalElements).toBe(2);
        expect((await list(`accounts=${ACCOUNT_A}&priority=1&audit-relevant=true`)).totalElements).toBe(2);
        expect((await list(`type=PASSWORD_USED`)).totalElements).toBe(3);
      });

      it('answers problems for bad parameters and unknown violations', async () => {
        const bad = await h.app.inject({ url: '/api/violations?from=yesterday', headers: jdoe });
        expect(bad.statusCode).toBe(400);
        expect(bad.headers['content-type']).toMatch(/^application\/problem\+json/);
        expect(
          (await h.app.inject({ url: '/api/violations?sort=secret,ASC', headers: jdoe })).statusCode,
        ).toBe(400);
        expect((await h.app.inject({ url: '/api/violations/999999', headers: jdoe })).statusCode).toBe(404);
        expect((await h.app.inject({ url: '/api/violations/abc', headers: jdoe })).statusCode).toBe(404);
        expect((await h.app.inject({ url: '/api/violations' })).statusCode).toBe(401);
      });
    });

    describe('resolution', () => {
      const firstOf = async (account: string, type: string) =>
        (await list(`accounts=${account}&type=${type}`)).content[0];
      const resolve = (id: number, payload: string, headers: Headers, contentType = 'text/plain') =>
        h.app.inject({
          method: 'POST',
          url: `/api/violations/${id}/resolution`,
          headers: { ...headers, 'content-type': contentType },
          payload,
        });

      it('lets a member of the owning team set the comment from the raw body, audited', async () => {
        const v = await firstOf(ACCOUNT_A, 'WRONG_AMI');
        const r = await resolve(v.id, 'Migrated to Taupage, see INC-1', jdoe);
        expect(r.statusCode, r.body).toBe(200);
        expect(r.json()).toMatchObject({
          id: v.id,
          comment: 'Migrated to Taupage, see INC-1',
          last_modified_by: 'jdoe',
          version: 1,
        });
        expect((await h.app.inject({ url: `/api/violations/${v.id}`, headers: bob })).json().comment).toBe(
          'Migrated to Taupage, see INC-1',
        );
        // Resolved violations leave the default (unchecked) list and show with checked=true.
        expect((await list(`accounts=${ACCOUNT_A}&type=WRONG_AMI`)).totalElements).toBe(0);
        expect((await list(`accounts=${ACCOUNT_A}&type=WRONG_AMI&checked=true`)).totalElements).toBe(1);
        // Any content type: a JSON client sending a bare string, or none at all.
        const kp = await firstOf(ACCOUNT_A, 'EC2_WITH_KEYPAIR');
        expect(
          (await resolve(kp.id, '"accepted for the migration"', jdoe, 'application/json')).json().comment,
        ).toBe('"accepted for the migration"');
        const events = await h.ctx.auditLog.query({ service: 'fullstop', actor: 'jdoe', limit: 10 });
        expect(events.map((e) => [e.action, e.outcome, e.target_id])).toContainEqual([
          'fullstop.violation.resolve',
          'success',
          String(v.id),
        ]);
      });

      it('refuses others, audited; administrators resolve violations of accounts no team owns', async () => {
        const v = await firstOf(ACCOUNT_A, 'PASSWORD_USED');
        const denied = await resolve(v.id, 'not mine', bob);
        expect(denied.statusCode).toBe(403);
        expect(denied.json()).toMatchObject({ code: 'NOT_TEAM_MEMBER' });
        const refused = await h.ctx.auditLog.query({ service: 'fullstop', actor: 'bob', limit: 10 });
        expect(refused.map((e) => [e.action, e.outcome])).toEqual([
          ['fullstop.violation.resolve', 'refused'],
        ]);
        expect((await resolve(v.id, '   ', jdoe)).statusCode).toBe(400);
        const orphan = await firstOf(ACCOUNT_C, 'PASSWORD_USED');
        expect((await resolve(orphan.id, 'who owns this?', jdoe)).statusCode).toBe(403);
        expect((await resolve(orphan.id, 'account being claimed', admin)).statusCode).toBe(200);
        expect((await resolve(999999, 'x', admin)).statusCode).toBe(404);
      });
    });

    describe('reported violations, types and counts', () => {
      const report = {
        event_id: 'ext-1',
        account_id: ACCOUNT_B,
        region: 'eu-west-1',
        violation_type: 'WRONG_REGION',
      };

      it('POST /api/violations needs fullstop.violation.write and stores once', async () => {
        const writer = await h.as('scanner', {
          realm: 'services',
          scopes: ['uid', 'fullstop.violation.write'],
        });
        const noScope = await h.as('scanner', { realm: 'services', scopes: ['uid'] });
        const post = (headers: Headers, payload: object) =>
          h.app.inject({ method: 'POST', url: '/api/violations', headers, payload });
        expect((await post(noScope, report)).statusCode).toBe(403);
        const created = await post(writer, { ...report, meta_info: { found_by: 'scanner' } });
        expect(created.statusCode, created.body).toBe(201);
        expect(created.json()).toMatchObject({
          created_by: 'scanner',
          instance_id: null,
          meta_info: { found_by: 'scanner' },
        });
        const again = await post(writer, report);
        expect(again.statusCode).toBe(200);
        expect(again.json().id).toBe(created.json().id);
        expect((await post(writer, { ...report, violation_type: 'NO_SUCH_TYPE' })).statusCode).toBe(400);
        expect((await post(writer, { ...report, account_id: 'abc' })).statusCode).toBe(400);
      });

      it('lists the violation types and counts open violations', async () => {
        const types = (await h.app.inject({ url: '/api/violation-types', headers: jdoe })).json();
        expect(types).toContainEqual({
          id: 'PASSWORD_USED',
          title: 'IAM User has password set',
          violation_severity: 1,
          priority: 1,
          audit_relevant: true,
          help_text: expect.any(String),
        });
        const counts = (await h.app.inject({ url: '/api/violation-count', headers: jdoe })).json();
        expect(counts).toContainEqual({ account: ACCOUNT_B, type: 'PASSWORD_USED', quantity: 1 });
        const perAccount = (
          await h.app.inject({ url: `/api/violation-count/${ACCOUNT_B}`, headers: jdoe })
        ).json();
        expect(perAccount).toContainEqual({
          application: null,
          version: null,
          type: 'PASSWORD_USED',
          quantity: 1,
        });
      });
    });

    describe('POST /api/instance-logs', () => {
      const log = (userData: string, instanceId = 'i-0aaaaaaaaaaaaaaa1', type = 'USER_DATA') => ({
        account_id: ACCOUNT_A,
        region: 'eu-west-1',
        instance_boot_time: '2026-11-27T10:00:00Z',
        instance_id: instanceId,
        log_data: Buffer.from(userData).toString('base64'),
        log_type: type,
      });
      const send = async (payload: object) =>
        h.app.inject({
          method: 'POST',
          url: '/api/instance-logs',
          headers: await h.as('taupage', { realm: 'services' }),
          payload,
        });

      it('stores the log (201) and checks its user data against Kio', async () => {
        const r = await send(
          log('application_id: ghost-app\nsource: pierone.example.org/team-a/ghost:1.0-SNAPSHOT\n'),
        );
        expect(r.statusCode, r.body).toBe(201);
        expect(r.json()).toEqual({ violations: 2 });
        const found = await list(`accounts=${ACCOUNT_A}&application-ids=ghost-app`);
        expect(
          found.content.map((v: { violation_type: { id: string } }) => v.violation_type.id).sort(),
        ).toEqual(['APPLICATION_NOT_PRESENT_IN_KIO', 'EC2_WITH_A_SNAPSHOT_IMAGE']);
        // `instance-ids` (what `stups trace` asks for an instance) finds the same, and nothing of another.
        const ofInstance = async (id: string) =>
          (await list(`accounts=${ACCOUNT_A}&instance-ids=${id}`)).content
            .map(
              (v: { violation_type: { id: string }; instance_id: string }) =>
                `${v.instance_id} ${v.violation_type.id}`,
            )
            .sort();
        expect(await ofInstance('i-0aaaaaaaaaaaaaaa1')).toEqual([
          'i-0aaaaaaaaaaaaaaa1 APPLICATION_NOT_PRESENT_IN_KIO',
          'i-0aaaaaaaaaaaaaaa1 EC2_WITH_A_SNAPSHOT_IMAGE',
        ]);
        expect(await ofInstance('i-0ffffffffffffffff')).toEqual([]);
        // The same boot reported again adds no violation.
        expect(
          (await send(log('application_id: ghost-app\nsource: x/y/ghost:1.0-SNAPSHOT\n'))).json(),
        ).toEqual({ violations: 0 });
        const clean = await send(
          log(
            'application_id: order-engine\nsource: pierone.example.org/team-a/oe:1.0\n',
            'i-0aaaaaaaaaaaaaaa2',
          ),
        );
        expect(clean.json()).toEqual({ violations: 0 });
        expect((await send(log('some audit line\n', 'i-0aaaaaaaaaaaaaaa2', 'AUDIT_LOG'))).statusCode).toBe(
          201,
        );
      });

      it('refuses malformed logs with 400', async () => {
        expect((await send({ ...log('a: b'), log_type: 'OTHER' })).statusCode).toBe(400);
        expect((await send({ ...log('a: b'), instance_id: 'nope' })).statusCode).toBe(400);
        expect((await send(log('- just\n- a list\n'))).statusCode).toBe(400);
      });
    });
  });
});
