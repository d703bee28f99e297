import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEvenService } from '../../even/index.js';
import { RecordingBastion } from '../../even/test-support.js';
import type { HttpApp } from '../../platform/http/create-http-app.js';
import { describeEachDatabase } from '../../platform/test-support/databases.js';
import { sshKeygen } from '../../platform/test-support/ssh-keygen.js';
import { putManifest, rawImage } from '../../pierone/test-support/http.js';
import {
  copyArgs,
  ImageBuilder,
  skopeo,
  startTestRegistry,
  type TestRegistry,
} from '../../pierone/test-support/registry-harness.js';
import { UserStore } from '../../users/store.js';
import { parseAuditLog } from '../audit-log.js';
import { RuleSettingsSchema } from '../settings.js';
import {
  ACCOUNT_A,
  createFullstopHarness,
  FULLSTOP_TEST_MIGRATIONS,
  type FullstopHarness,
} from '../test-support/fullstop-harness.js';
import { parseUserData, type TaupageUserData } from '../user-data.js';
import { parseImageReference } from './image-source.js';
import { RULES, type RuleContext } from './index.js';
import { normalizeScmUrl } from './scm-url.js';

const BASTION = 'odd-eu-west-1.team-a.example.org';
const INSTANCE = { account: ACCOUNT_A, region: 'eu-west-1', instanceId: 'i-0bbbbbbbbbbbbbbb1' };

/** The platform rules read no AMIs: a call here is a bug, so it fails the test. */
const noAmis = {
  describe: async () => {
    throw new Error('the platform rules must not look up AMIs');
  },
};

describe('SCM URL normalisation', () => {
  it('reduces the forms of one repository to one key and keeps other repositories apart', () => {
    const forms = [
      'https://github.com/zalando/app',
      'https://github.com/Zalando/app.git/',
      'git:git@github.com:zalando/app.git',
      'git@github.com:zalando/app.git',
      'ssh://git@github.com:22/zalando/app.git',
      'git+ssh://git@github.com/zalando/app',
      'git://github.com/zalando/app.git',
    ];
    expect(new Set(forms.map((f) => normalizeScmUrl(f)?.key))).toEqual(new Set(['github.com/zalando/app']));
    expect(normalizeScmUrl('https://github.com/zalando/other')?.key).toBe('github.com/zalando/other');
    expect(normalizeScmUrl('https://gitlab.example.org/group/sub/app.git')).toMatchObject({
      host: 'gitlab.example.org',
      owner: 'group/sub',
      name: 'app',
    });
    expect(normalizeScmUrl('not a url')).toBeUndefined();
    expect(normalizeScmUrl('https://github.com/')).toBeUndefined();
  });

  it('parses image references the way Docker does', () => {
    expect(parseImageReference('pierone.example.org/team/app:1.0')).toEqual({
      registry: 'pierone.example.org',
      repository: 'team/app',
      tag: '1.0',
      digest: undefined,
    });
    expect(parseImageReference('127.0.0.1:5000/team/app@sha256:abc')).toMatchObject({
      registry: '127.0.0.1:5000',
      tag: undefined,
      digest: 'sha256:abc',
    });
    expect(parseImageReference('team/app:1.0')).toMatchObject({
      registry: 'docker.io',
      repository: 'team/app',
    });
    expect(parseImageReference('nginx')).toMatchObject({ registry: 'docker.io', tag: undefined });
  });

  it('reads sshd logins from plain and gzip-compressed logs, with and without a year', () => {
    const text = [
      'Nov 28 03:10:00 ip-172-31-1-2 sshd[100]: Accepted publickey for jdoe from 172.31.0.5 port 50000 ssh2',
      'Nov 28 03:11:00 ip-172-31-1-2 sshd[100]: Failed password for root from 1.2.3.4 port 22 ssh2',
      '2026-11-28T03:15:00.123456+00:00 ip-172-31-1-2 sshd[102]: Accepted keyboard-interactive/pam for bob from 10.0.0.1 port 4 ssh2',
      'Jan  2 01:00:00 ip-172-31-1-2 sshd[7]: Accepted publickey for alice from 10.0.0.9 port 5 ssh2',
    ].join('\n');
    for (const data of [Buffer.from(text), gzipSync(text)]) {
      const logins = parseAuditLog(data.toString('base64'), '2026-11-27 10:00:00');
      expect(logins?.map((l) => [l.username, l.at.toISOString(), l.method])).toEqual([
        ['jdoe', '2026-11-28T03:10:00.000Z', 'publickey'],
        ['bob', '2026-11-28T03:15:00.123Z', 'keyboard-interactive/pam'],
        // A month before the boot's: the log crossed New Year.
        ['alice', '2027-01-02T01:00:00.000Z', 'publickey'],
      ]);
    }
    expect(
      parseAuditLog(Buffer.from([0x1f, 0x8b, 1, 2, 3]).toString('base64'), '2026-11-27'),
    ).toBeUndefined();
  });
});

describeEachDatabase('fullstop platform rules', FULLSTOP_TEST_MIGRATIONS, (getDatabase) => {
  let reg: TestRegistry;
  let builder: ImageBuilder;
  let h: FullstopHarness;
  let ctx: RuleContext;
  let evenApp: HttpApp;
  let now: Date;

  const scm = (fields: Record<string, string>) =>
    JSON.stringify({ revision: 'cafe', author: 'alice', status: '', ...fields });
  const push = async (tag: string, files: Record<string, string>) => {
    const image = await builder.image(tag, [{ 'app/run.sh': `echo ${tag}`, ...files }]);
    const r = await skopeo([
      ...copyArgs({ destToken: reg.tokens.alice }),
      image,
      `docker://${reg.host}/stups/app:${tag}`,
    ]);
    if (r.code !== 0) throw new Error(`push of ${tag} failed: ${r.stderr}`);
  };
  const source = (tag: string) => `${reg.host}/stups/app:${tag}`;
  const userData = (fields: Record<string, string>): TaupageUserData => {
    const yaml = Object.entries({ runtime: 'Docker', application_id: 'app', ...fields })
      .map(([k, v]) => `${k}: ${JSON.stringify(v)}`)
      .join('\n');
    const parsed = parseUserData(Buffer.from(yaml).toString('base64'));
    if (!parsed) throw new Error('test user data does not parse');
    return parsed;
  };
  /** The types one rule finds for this user data. */
  const check = async (id: string, fields: Record<string, string>) => {
    const rule = RULES.find((r) => r.type.id === id);
    if (rule?.kind !== 'user-data') throw new Error(`${id} is not a user data rule`);
    return (await rule.check(userData(fields), INSTANCE, ctx)).map((f) => f.type);
  };

  beforeAll(async () => {
    const database = getDatabase();
    reg = await startTestRegistry(database);
    builder = await ImageBuilder.create();
    await push('1.0', { 'scm-source.json': scm({ url: 'git:git@github.com:zalando/app.git' }) });
    await push('1.1', {});
    await push('1.2', {
      'scm-source.json': scm({ url: 'https://github.com/zalando/app', status: 'locally modified' }),
    });
    await push('1.3', { 'scm-source.json': scm({ url: '' }) });
    await push('1.4', { 'scm-source.json': scm({ url: 'https://github.com/someone/app.git' }) });
    await push('1.5', { 'scm-source.json': scm({ url: 'https://git.elsewhere.org/zalando/app' }) });
    // 2.0 carries an in-toto provenance attestation as an OCI referrer.
    const signed = await rawImage(reg, reg.tokens.alice, 'stups/app');
    expect((await putManifest(reg, reg.tokens.alice, 'stups/app', '2.0', signed.manifest)).status).toBe(201);
    const attestation = await rawImage(reg, reg.tokens.alice, 'stups/app', {
      subject: { digest: signed.digest, size: signed.size },
      artifactType: 'application/vnd.in-toto+json',
    });
    expect(
      (await putManifest(reg, reg.tokens.alice, 'stups/app', attestation.digest, attestation.manifest))
        .status,
    ).toBe(201);
    // 3.0 is a buildx index: one platform image and the attestation manifest buildx adds for it.
    const platformImage = await rawImage(reg, reg.tokens.alice, 'stups/app');
    await putManifest(reg, reg.tokens.alice, 'stups/app', platformImage.digest, platformImage.manifest);
    const statement = await rawImage(reg, reg.tokens.alice, 'stups/app');
    await putManifest(reg, reg.tokens.alice, 'stups/app', statement.digest, statement.manifest);
    const index = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          digest: platformImage.digest,
          size: platformImage.size,
          platform: { architecture: 'amd64', os: 'linux' },
        },
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          digest: statement.digest,
          size: statement.size,
          platform: { architecture: 'unknown', os: 'unknown' },
          annotations: {
            'vnd.docker.reference.type': 'attestation-manifest',
            'vnd.docker.reference.digest': platformImage.digest,
          },
        },
      ],
    });
    const indexPush = await putManifest(reg, reg.tokens.alice, 'stups/app', '3.0', index, {
      'content-type': 'application/vnd.oci.image.index.v1+json',
    });
    expect(indexPush.status, indexPush.text).toBe(201);

    h = await createFullstopHarness(database, noAmis, {
      pieroneHosts: [reg.host],
      scmHosts: { 'github.com': '^zalando(-stups)?$' },
    });
    const stups = { uid: 'stups', realm: 'services' as const };
    await h.kio.registry.put(stups, 'app', {
      team_id: 'team-a',
      name: 'App',
      active: true,
      scm_url: 'https://github.com/zalando/app',
    });
    await h.kio.registry.put(stups, 'no-scm', { team_id: 'team-a', name: 'No SCM', active: true });
    await h.kio.registry.put(stups, 'retired', { team_id: 'team-a', name: 'Retired', active: false });
    ctx = {
      settings: RuleSettingsSchema.parse({
        pieroneHosts: [reg.host],
        scmHosts: { 'github.com': '^zalando(-stups)?$' },
      }),
      images: noAmis,
      applications: h.kio.applications,
      imageTags: h.imageTags,
      accessGrants: h.accessGrants,
    };

    // even over the same database: jdoe (team-a) may use team-a's bastion.
    const users = new UserStore(database);
    for (const uid of ['jdoe', 'alice']) {
      await users.putUser(uid, { name: uid, email: `${uid}@example.org`, disabled: false });
      await users.addSshKey(uid, (await sshKeygen()).publicKey);
    }
    now = new Date('2026-11-28T03:00:00.000Z');
    const even = createEvenService(h.ctx, {
      teams: h.teams,
      users,
      bastion: new RecordingBastion(),
      clock: () => now,
      config: {
        hostnameTemplates: ['odd-{region}.{team}.example.org'],
        ssh: {
          privateKey: 'unused by the recording bastion',
          knownHostKeys: [
            'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl odd',
          ],
        },
      },
    });
    evenApp = await even.createApp();
  }, 180_000);
  afterAll(async () => {
    await reg?.close();
    await builder?.dispose();
  });

  it('has a documented type for every rule (help text, STUPS ranges, meta_info keys)', () => {
    for (const { type } of RULES) {
      expect(type.help_text.length).toBeGreaterThan(40);
      expect(type.violation_severity).toBeGreaterThanOrEqual(0);
      expect(type.violation_severity).toBeLessThanOrEqual(4);
      expect(type.priority).toBeGreaterThanOrEqual(1);
      expect(type.priority).toBeLessThanOrEqual(4);
    }
  });

  it('IMAGE_IN_PIERONE_NOT_FOUND: an unknown tag, another registry, a bare name', async () => {
    const id = 'IMAGE_IN_PIERONE_NOT_FOUND';
    expect(await check(id, { source: source('9.9') })).toEqual([id]);
    expect(await check(id, { source: 'docker.io/library/nginx:1.27' })).toEqual([id]);
    expect(await check(id, { source: 'nginx' })).toEqual([id]);
    expect(await check(id, { source: source('1.0') })).toEqual([]);
    // Another runtime names no Docker image: STUPS skipped it.
    expect(await check(id, { source: source('9.9'), runtime: 'Other' })).toEqual([]);
  });

  it('IMAGE_DELETED_FROM_PIERONE: an instance runs a tag deleted since (with who, when and why)', async () => {
    await push('4.0', { 'scm-source.json': scm({ url: 'git:git@github.com:zalando/app.git' }) });
    expect(await check('IMAGE_DELETED_FROM_PIERONE', { source: source('4.0') })).toEqual([]);
    const admin = await reg.issuer.token({ uid: 'admin', scopes: ['uid', 'pierone.admin.delete'] });
    const deleted = await fetch(`${reg.url}/teams/stups/artifacts/app/tags/4.0`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${admin}`, 'x-deletion-reason': 'leaked a secret' },
    });
    expect(deleted.status).toBe(200);
    const rule = RULES.find((r) => r.type.id === 'IMAGE_DELETED_FROM_PIERONE');
    if (rule?.kind !== 'user-data') throw new Error('IMAGE_DELETED_FROM_PIERONE is not a user data rule');
    const findings = await rule.check(userData({ source: source('4.0') }), INSTANCE, ctx);
    expect(findings).toEqual([
      expect.objectContaining({
        type: 'IMAGE_DELETED_FROM_PIERONE',
        metaInfo: {
          source: source('4.0'),
          deleted_by: 'admin',
          deleted_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
          reason: 'leaked a secret',
        },
      }),
    ]);
    // A deleted tag is reported as deleted, not as unknown.
    expect(await check('IMAGE_IN_PIERONE_NOT_FOUND', { source: source('4.0') })).toEqual([]);
  });

  it('finds an image pinned by digest through the tags on that digest', async () => {
    const tag = await h.imageTags.getTag('stups', 'app', '1.0');
    expect(tag).toMatchObject({
      created_by: 'alice',
      scm_source: { url: 'git:git@github.com:zalando/app.git' },
    });
    const pinned = `${reg.host}/stups/app@${tag?.digest}`;
    expect(await check('IMAGE_IN_PIERONE_NOT_FOUND', { source: pinned })).toEqual([]);
    expect(
      await check('APPLICATION_VERSION_DOES_NOT_MATCH_IMAGE_TAG', {
        source: pinned,
        application_version: '1.0',
      }),
    ).toEqual([]);
    expect(
      await check('IMAGE_IN_PIERONE_NOT_FOUND', { source: `${reg.host}/stups/app@sha256:${'0'.repeat(64)}` }),
    ).toEqual(['IMAGE_IN_PIERONE_NOT_FOUND']);
  });

  it('SCM_SOURCE_JSON_MISSING: an image pushed without scm-source.json', async () => {
    expect(await check('SCM_SOURCE_JSON_MISSING', { source: source('1.1') })).toEqual([
      'SCM_SOURCE_JSON_MISSING',
    ]);
    expect(await check('SCM_SOURCE_JSON_MISSING', { source: source('1.0') })).toEqual([]);
  });

  it('SCM_URL_IS_MISSING_IN_SCM_SOURCE_JSON: scm-source.json with a blank url', async () => {
    const id = 'SCM_URL_IS_MISSING_IN_SCM_SOURCE_JSON';
    expect(await check(id, { source: source('1.3') })).toEqual([id]);
    expect(await check(id, { source: source('1.0') })).toEqual([]);
    expect(await check(id, { source: source('1.1') })).toEqual([]);
  });

  it('ARTIFACT_BUILT_FROM_DIRTY_REPOSITORY: status set in scm-source.json', async () => {
    const rule = RULES.find((r) => r.type.id === 'ARTIFACT_BUILT_FROM_DIRTY_REPOSITORY');
    if (rule?.kind !== 'user-data') throw new Error('not a user data rule');
    const [finding] = await rule.check(userData({ source: source('1.2') }), INSTANCE, ctx);
    expect(finding?.metaInfo).toMatchObject({
      source: source('1.2'),
      scm_source_status: 'locally modified',
      scm_source_url: 'https://github.com/zalando/app',
    });
    expect(await check('ARTIFACT_BUILT_FROM_DIRTY_REPOSITORY', { source: source('1.0') })).toEqual([]);
  });

  it('ILLEGAL_SCM_REPOSITORY: an owner or host outside scmHosts', async () => {
    const id = 'ILLEGAL_SCM_REPOSITORY';
    expect(await check(id, { source: source('1.4') })).toEqual([id]);
    expect(await check(id, { source: source('1.5') })).toEqual([id]);
    expect(await check(id, { source: source('1.0') })).toEqual([]);
    const rule = RULES.find((r) => r.type.id === id);
    if (rule?.kind !== 'user-data') throw new Error('not a user data rule');
    const [owner] = await rule.check(userData({ source: source('1.4') }), INSTANCE, ctx);
    expect(owner?.metaInfo).toMatchObject({ actual_owner: 'someone', allowed_owners: '^zalando(-stups)?$' });
    // Unconfigured, the platform has no list to check against.
    const open = { ...ctx, settings: { ...ctx.settings, scmHosts: {} } };
    expect(await rule.check(userData({ source: source('1.4') }), INSTANCE, open)).toEqual([]);
  });

  it('SCM_URL_IS_MISSING_IN_KIO and SCM_URL_NOT_MATCH_WITH_KIO compare the image with Kio', async () => {
    expect(
      await check('SCM_URL_IS_MISSING_IN_KIO', { source: source('1.0'), application_id: 'no-scm' }),
    ).toEqual(['SCM_URL_IS_MISSING_IN_KIO']);
    expect(await check('SCM_URL_IS_MISSING_IN_KIO', { source: source('1.0') })).toEqual([]);
    // git@github.com:zalando/app.git is https://github.com/zalando/app.
    expect(await check('SCM_URL_NOT_MATCH_WITH_KIO', { source: source('1.0') })).toEqual([]);
    expect(await check('SCM_URL_NOT_MATCH_WITH_KIO', { source: source('1.4') })).toEqual([
      'SCM_URL_NOT_MATCH_WITH_KIO',
    ]);
  });

  it('IMAGE_WITHOUT_PROVENANCE: a tag without an attestation referrer', async () => {
    expect(await check('IMAGE_WITHOUT_PROVENANCE', { source: source('1.0') })).toEqual([
      'IMAGE_WITHOUT_PROVENANCE',
    ]);
    expect(await check('IMAGE_WITHOUT_PROVENANCE', { source: source('2.0') })).toEqual([]);
    expect(await check('IMAGE_WITHOUT_PROVENANCE', { source: source('3.0') })).toEqual([]);
    expect((await h.imageTags.getTag('stups', 'app', '2.0'))?.provenance).toEqual([
      expect.objectContaining({ artifact_type: 'application/vnd.in-toto+json', created_by: 'alice' }),
    ]);
  });

  it('APPLICATION_INACTIVE_IN_KIO: an application marked inactive', async () => {
    expect(
      await check('APPLICATION_INACTIVE_IN_KIO', { application_id: 'retired', source: source('1.0') }),
    ).toEqual(['APPLICATION_INACTIVE_IN_KIO']);
    expect(await check('APPLICATION_INACTIVE_IN_KIO', { source: source('1.0') })).toEqual([]);
  });

  it('APPLICATION_VERSION_DOES_NOT_MATCH_IMAGE_TAG: user data version vs image tag', async () => {
    const id = 'APPLICATION_VERSION_DOES_NOT_MATCH_IMAGE_TAG';
    expect(await check(id, { source: source('1.0'), application_version: '1.1' })).toEqual([id]);
    expect(await check(id, { source: source('1.0'), application_version: '1.0' })).toEqual([]);
  });

  it('checks user data posted by Taupage against Pier One and Kio in one go', async () => {
    const r = await h.app.inject({
      method: 'POST',
      url: '/api/instance-logs',
      headers: await h.as('taupage', { realm: 'services' }),
      payload: {
        account_id: ACCOUNT_A,
        region: 'eu-west-1',
        instance_boot_time: '2026-11-28T01:00:00Z',
        instance_id: 'i-0bbbbbbbbbbbbbbb2',
        log_type: 'USER_DATA',
        log_data: Buffer.from(
          `runtime: Docker\napplication_id: app\napplication_version: "1.1"\nsource: ${source('1.1')}\n`,
        ).toString('base64'),
      },
    });
    expect(r.statusCode, r.body).toBe(201);
    const found = await h.app.inject({
      url: `/api/violations?accounts=${ACCOUNT_A}&application-ids=app`,
      headers: await h.as('jdoe'),
    });
    const types = found
      .json()
      .content.filter((v: { instance_id: string }) => v.instance_id === 'i-0bbbbbbbbbbbbbbb2')
      .map((v: { violation_type: { id: string } }) => v.violation_type.id)
      .sort();
    expect(types).toEqual(['IMAGE_WITHOUT_PROVENANCE', 'SCM_SOURCE_JSON_MISSING']);
  });

  it('SSH_LOGIN_WITHOUT_GRANT: logins in an audit log without an even grant for that host and time', async () => {
    const granted = await evenApp.inject({
      method: 'POST',
      url: '/access-requests',
      headers: await h.as('jdoe'),
      payload: { hostname: BASTION, remote_host: '172.31.1.2', reason: 'incident 42', lifetime_minutes: 60 },
    });
    expect(granted.statusCode, granted.body).toBeLessThan(300);
    const lines = [
      // Inside jdoe's grant (03:00–04:00) for 172.31.1.2.
      'Nov 28 03:10:00 ip-172-31-1-2 sshd[100]: Accepted publickey for jdoe from 172.31.0.5 port 50000 ssh2',
      '2026-11-28T03:15:00.000000+00:00 ip-172-31-1-2 sshd[101]: Accepted publickey for jdoe from 172.31.0.5 port 50001 ssh2',
      // alice has no grant; jdoe's ended at 04:00.
      'Nov 28 03:20:00 ip-172-31-1-2 sshd[102]: Accepted publickey for alice from 172.31.0.5 port 50002 ssh2',
      'Nov 28 05:30:00 ip-172-31-1-2 sshd[103]: Accepted publickey for jdoe from 172.31.0.5 port 50003 ssh2',
      'Nov 28 05:31:00 ip-172-31-1-2 sshd[104]: Failed password for root from 1.2.3.4 port 22 ssh2',
    ].join('\n');
    const send = async (data: Buffer) =>
      h.app.inject({
        method: 'POST',
        url: '/api/instance-logs',
        headers: await h.as('taupage', { realm: 'services' }),
        payload: {
          account_id: ACCOUNT_A,
          region: 'eu-west-1',
          instance_boot_time: '2026-11-28T02:00:00Z',
          instance_id: 'i-0bbbbbbbbbbbbbbb3',
          log_type: 'AUDIT_LOG',
          log_data: data.toString('base64'),
        },
      });
    const r = await send(gzipSync(lines));
    expect(r.statusCode, r.body).toBe(201);
    expect(r.json()).toEqual({ violations: 2 });
    const found = await h.app.inject({
      url: `/api/violations?accounts=${ACCOUNT_A}&type=SSH_LOGIN_WITHOUT_GRANT`,
      headers: await h.as('jdoe'),
    });
    const logins = found
      .json()
      .content.map((v: { meta_info: { username: string; login_time: string } }) => [
        v.meta_info.username,
        v.meta_info.login_time,
      ])
      .sort();
    expect(logins).toEqual([
      ['alice', '2026-11-28T03:20:00.000Z'],
      ['jdoe', '2026-11-28T05:30:00.000Z'],
    ]);
    // A grant revoked before the login does not cover it.
    const revocable = await evenApp.inject({
      method: 'POST',
      url: '/access-requests',
      headers: await h.as('alice'),
      payload: { hostname: BASTION, remote_host: '172.31.1.9', reason: 'debugging', lifetime_minutes: 60 },
    });
    expect(revocable.statusCode, revocable.body).toBeLessThan(300);
    // even answers the STUPS sentence; the request's id comes from the listing.
    const listed = await evenApp.inject({
      url: '/access-requests?username=alice&hostname=' + BASTION,
      headers: await h.as('alice'),
    });
    const grantId = listed
      .json<{ id: number; remote_host: string }[]>()
      .find((g) => g.remote_host === '172.31.1.9')?.id;
    expect(grantId).toBeDefined();
    now = new Date('2026-11-28T03:05:00.000Z');
    const revoked = await evenApp.inject({
      method: 'DELETE',
      url: `/access-requests/${grantId}`,
      headers: await h.as('alice'),
    });
    expect(revoked.statusCode, revoked.body).toBe(200);
    const afterRevocation = [
      'Nov 28 03:04:00 ip-172-31-1-9 sshd[1]: Accepted publickey for alice from 172.31.0.5 port 40000 ssh2',
      'Nov 28 03:30:00 ip-172-31-1-9 sshd[2]: Accepted publickey for alice from 172.31.0.5 port 40001 ssh2',
    ].join('\n');
    const other = await h.app.inject({
      method: 'POST',
      url: '/api/instance-logs',
      headers: await h.as('taupage', { realm: 'services' }),
      payload: {
        account_id: ACCOUNT_A,
        region: 'eu-west-1',
        instance_boot_time: '2026-11-28T02:00:00Z',
        instance_id: 'i-0bbbbbbbbbbbbbbb4',
        log_type: 'AUDIT_LOG',
        log_data: Buffer.from(afterRevocation).toString('base64'),
      },
    });
    expect(other.json()).toEqual({ violations: 1 });
    // The same log again (Taupage retries) adds nothing.
    expect((await send(Buffer.from(lines))).json()).toEqual({ violations: 0 });
    // A log that is no text is refused, not read as "no logins".
    const broken = await send(Buffer.from([0x1f, 0x8b, 0, 1, 2, 3]));
    expect(broken.statusCode).toBe(400);
    expect(broken.headers['content-type']).toContain('application/problem+json');
  });
});
