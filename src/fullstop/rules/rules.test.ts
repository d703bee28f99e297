import { EC2Client, RegisterImageCommand } from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { describeEachDatabase } from '../../platform/test-support/databases.js';
import {
  MOTO_ACCOUNT,
  motoClientConfig,
  type RunningMoto,
  skipWithoutMoto,
  startMoto,
  TAUPAGE_IMAGES,
} from '../../senza/test-support/moto.js';
import { Ec2ImageCatalog } from '../aws/images.js';
import { type CloudTrailRecord, CloudTrailRecordSchema } from '../cloudtrail.js';
import { RuleSettingsSchema } from '../settings.js';
import * as records from '../test-support/cloudtrail-records.js';
import {
  createFullstopHarness,
  FULLSTOP_TEST_MIGRATIONS,
  type FullstopHarness,
} from '../test-support/fullstop-harness.js';
import { parseUserData } from '../user-data.js';
import { RULES, type Rule, type RuleContext, VIOLATION_TYPES } from './index.js';

const parse = (r: records.Record): CloudTrailRecord => CloudTrailRecordSchema.parse(r);
const ruleOf = (id: string): Rule => {
  const rule = RULES.find((r) => r.type.id === id);
  if (!rule) throw new Error(`no rule ${id}`);
  return rule;
};
const yaml = (text: string) => Buffer.from(text).toString('base64');
const instance = { account: MOTO_ACCOUNT, region: 'eu-west-1', instanceId: 'i-0123456789abcdef0' };

describe.skipIf(skipWithoutMoto())('fullstop rules', () => {
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

  it('has one type per rule with STUPS ranges and documented meta_info keys', () => {
    // Two rules share a type only by sharing its definition (CROSS_ACCOUNT_ROLE: event and periodic).
    expect(VIOLATION_TYPES.size).toBe(new Set(RULES.map((r) => r.type)).size);
    for (const { type } of RULES) {
      expect(type.violation_severity).toBeGreaterThanOrEqual(0);
      expect(type.violation_severity).toBeLessThanOrEqual(4);
      expect(type.priority).toBeGreaterThanOrEqual(1);
      expect(type.priority).toBeLessThanOrEqual(4);
      expect(type.help_text.length).toBeGreaterThan(40);
    }
  });

  describeEachDatabase('with Kio', FULLSTOP_TEST_MIGRATIONS, (getDatabase) => {
    let h: FullstopHarness;
    let ctx: RuleContext;
    const check = async (id: string, r: records.Record, settings = {}) => {
      const rule = ruleOf(id);
      if (rule.kind !== 'event') throw new Error(`${id} is not an event rule`);
      const c = { ...ctx, settings: RuleSettingsSchema.parse(settings) };
      return (await rule.check(parse(r), MOTO_ACCOUNT, c)).map((f) => f.type);
    };
    const checkUserData = async (id: string, text: string) => {
      const rule = ruleOf(id);
      const userData = parseUserData(yaml(text));
      if (rule.kind !== 'user-data' || !userData) throw new Error(`${id} is not a user data rule`);
      return rule.check(userData, instance, ctx);
    };

    beforeAll(async () => {
      h = await createFullstopHarness(getDatabase(), images);
      ctx = {
        settings: RuleSettingsSchema.parse({}),
        images,
        applications: h.kio.applications,
        imageTags: h.imageTags,
        accessGrants: h.accessGrants,
      };
    });

    it('WRONG_REGION: an instance outside the allowed regions', async () => {
      expect(await check('WRONG_REGION', records.runInstances({ region: 'us-east-1' }))).toEqual([
        'WRONG_REGION',
      ]);
      expect(await check('WRONG_REGION', records.runInstances({ region: 'eu-central-1' }))).toEqual([]);
    });

    it('EC2_WITH_KEYPAIR: one violation per instance launched with a key pair', async () => {
      const two = records.runInstances({
        keyName: 'my-key',
        instanceIds: ['i-00000000000000001', 'i-00000000000000002'],
      });
      expect(await check('EC2_WITH_KEYPAIR', two)).toEqual(['EC2_WITH_KEYPAIR', 'EC2_WITH_KEYPAIR']);
      expect(await check('EC2_WITH_KEYPAIR', records.runInstances({}))).toEqual([]);
    });

    it('WRONG_AMI: an image that is not Taupage of an allowed owner (looked up in EC2)', async () => {
      expect(await check('WRONG_AMI', records.runInstances({ imageId: customAmi }))).toEqual(['WRONG_AMI']);
      expect(await check('WRONG_AMI', records.runInstances({ imageId: TAUPAGE_IMAGES.latest.id }))).toEqual(
        [],
      );
      // A Taupage-named image of an owner that is not allowed is not Taupage.
      const foreignOwner = { taupageOwners: ['999999999999'] };
      expect(
        await check('WRONG_AMI', records.runInstances({ imageId: TAUPAGE_IMAGES.latest.id }), foreignOwner),
      ).toEqual(['WRONG_AMI']);
    });

    it('MISSING_USER_DATA: a Taupage instance launched without user data', async () => {
      const bare = records.runInstances({ imageId: TAUPAGE_IMAGES.latest.id, userData: false });
      expect(await check('MISSING_USER_DATA', bare)).toEqual(['MISSING_USER_DATA']);
      expect(
        await check('MISSING_USER_DATA', records.runInstances({ imageId: TAUPAGE_IMAGES.latest.id })),
      ).toEqual([]);
    });

    it('MISSING_APPLICATION_ID_IN_USER_DATA and MISSING_SOURCE_IN_USER_DATA', async () => {
      expect(
        await checkUserData('MISSING_APPLICATION_ID_IN_USER_DATA', 'source: pierone/team-a/app:1.0\n'),
      ).toHaveLength(1);
      expect(
        await checkUserData('MISSING_APPLICATION_ID_IN_USER_DATA', 'application_id: order-engine\n'),
      ).toEqual([]);
      expect(
        await checkUserData('MISSING_SOURCE_IN_USER_DATA', 'application_id: order-engine\n'),
      ).toHaveLength(1);
      expect(await checkUserData('MISSING_SOURCE_IN_USER_DATA', 'source: pierone/team-a/app:1.0\n')).toEqual(
        [],
      );
    });

    it('APPLICATION_NOT_PRESENT_IN_KIO: asks the real Kio', async () => {
      const unknown = await checkUserData(
        'APPLICATION_NOT_PRESENT_IN_KIO',
        'application_id: ghost-app\napplication_version: "2.0"\n',
      );
      expect(unknown).toEqual([
        expect.objectContaining({ metaInfo: { application_id: 'ghost-app' }, applicationVersionId: '2.0' }),
      ]);
      expect(await checkUserData('APPLICATION_NOT_PRESENT_IN_KIO', 'application_id: order-engine\n')).toEqual(
        [],
      );
    });

    it('EC2_WITH_A_SNAPSHOT_IMAGE: a -SNAPSHOT artifact', async () => {
      expect(
        await checkUserData('EC2_WITH_A_SNAPSHOT_IMAGE', 'source: pierone/team-a/app:1.0-SNAPSHOT\n'),
      ).toHaveLength(1);
      expect(await checkUserData('EC2_WITH_A_SNAPSHOT_IMAGE', 'source: pierone/team-a/app:1.0\n')).toEqual(
        [],
      );
    });

    it('MODIFIED_ROLE_OR_SERVICE: a managed role changed by a non-admin role', async () => {
      const put = records.iamRoleEvent('PutRolePolicy', { roleName: 'fullstop' });
      expect(await check('MODIFIED_ROLE_OR_SERVICE', put)).toEqual(['MODIFIED_ROLE_OR_SERVICE']);
      const byAdmin = records.iamRoleEvent('AttachRolePolicy', {
        roleName: 'fullstop',
        actorRole: 'Shibboleth-Administrator',
      });
      expect(await check('MODIFIED_ROLE_OR_SERVICE', byAdmin)).toEqual([]);
      expect(
        await check('MODIFIED_ROLE_OR_SERVICE', records.iamRoleEvent('CreateRole', { roleName: 'app-role' })),
      ).toEqual([]);
    });

    it('PASSWORD_USED: a console login with an IAM user or root password', async () => {
      expect(await check('PASSWORD_USED', records.consoleLogin({ type: 'IAMUser' }))).toEqual([
        'PASSWORD_USED',
      ]);
      expect(await check('PASSWORD_USED', records.consoleLogin({ type: 'Root' }))).toEqual(['PASSWORD_USED']);
      expect(await check('PASSWORD_USED', records.consoleLogin({ type: 'AssumedRole' }))).toEqual([]);
      expect(await check('PASSWORD_USED', records.consoleLogin({ type: 'IAMUser', success: false }))).toEqual(
        [],
      );
    });

    it('CLOUDTRAIL_LOGGING_STOPPED: StopLogging and DeleteTrail, not StartLogging', async () => {
      expect(await check('CLOUDTRAIL_LOGGING_STOPPED', records.cloudTrailEvent('StopLogging'))).toEqual([
        'CLOUDTRAIL_LOGGING_STOPPED',
      ]);
      expect(await check('CLOUDTRAIL_LOGGING_STOPPED', records.cloudTrailEvent('DeleteTrail'))).toHaveLength(
        1,
      );
      expect(await check('CLOUDTRAIL_LOGGING_STOPPED', records.cloudTrailEvent('StartLogging'))).toEqual([]);
    });

    it('SECURITY_GROUP_OPEN_TO_THE_WORLD: a non-public port open to 0.0.0.0/0 or ::/0', async () => {
      const id = 'SECURITY_GROUP_OPEN_TO_THE_WORLD';
      expect(await check(id, records.authorizeIngress({ from: 22, to: 22, cidr: '0.0.0.0/0' }))).toEqual([
        id,
      ]);
      expect(await check(id, records.authorizeIngress({ from: 5432, to: 5432, cidrV6: '::/0' }))).toEqual([
        id,
      ]);
      expect(await check(id, records.authorizeIngress({ protocol: '-1', cidr: '0.0.0.0/0' }))).toEqual([id]);
      expect(await check(id, records.authorizeIngress({ from: 443, to: 443, cidr: '0.0.0.0/0' }))).toEqual(
        [],
      );
      expect(await check(id, records.authorizeIngress({ from: 22, to: 22, cidr: '10.0.0.0/8' }))).toEqual([]);
    });
  });
});
