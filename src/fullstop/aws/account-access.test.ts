import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeSecurityGroupsCommand } from '@aws-sdk/client-ec2';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { describeEachDatabase } from '../../platform/test-support/databases.js';
import {
  MOTO_ACCOUNT,
  MOTO_REGION,
  type RunningMoto,
  skipWithoutMoto,
  startMoto,
  TAUPAGE_IMAGES,
} from '../../senza/test-support/moto.js';
import { FolderSource } from '../ingestion.js';
import * as records from '../test-support/cloudtrail-records.js';
import {
  ACCOUNT_B,
  createFullstopHarness,
  FULLSTOP_TEST_MIGRATIONS,
} from '../test-support/fullstop-harness.js';
import { AccountClients } from './account-clients.js';
import { AccountAccess, accessFailureReason } from './assume-role.js';
import { Ec2ImageCatalog } from './images.js';

const refusal = (name: string, message: string) => Object.assign(new Error(message), { name });

describe('why an account cannot be read', () => {
  // Real STS refusals cannot be had from moto (its STS lets anyone assume any role), so they are
  // built here with the names and messages AWS documents for AssumeRole.
  it('says what to check, in one line', () => {
    expect(
      accessFailureReason(
        refusal(
          'AccessDenied',
          'User: arn:aws:sts::111111111111:assumed-role/stups/x is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::222222222222:role/fullstop',
        ),
      ),
    ).toBe(
      "AWS refused: User: arn:aws:sts::111111111111:assumed-role/stups/x is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::222222222222:role/fullstop (does the role exist, and does its trust policy allow the platform's account?)",
    );
    expect(accessFailureReason(refusal('CredentialsProviderError', 'Could not load credentials\nmore'))).toBe(
      'the platform has no AWS credentials to assume it with (Could not load credentials)',
    );
    expect(accessFailureReason(refusal('ThrottlingException', 'Rate exceeded'))).toBe(
      'ThrottlingException: Rate exceeded',
    );
  });
});

describe.skipIf(skipWithoutMoto())('reading team accounts through their fullstop role (moto)', () => {
  let moto: RunningMoto;
  const aws = () => ({ region: MOTO_REGION, endpoint: moto.endpoint });
  /** Who the credentials `access` hands out for `account` are, as STS says. */
  const callerOf = async (access: AccountAccess, account: string) => {
    const sts = new STSClient({
      region: MOTO_REGION,
      endpoint: moto.endpoint,
      ...access.clientOptions(account),
    });
    try {
      const me = await sts.send(new GetCallerIdentityCommand({}));
      return { account: me.Account, arn: me.Arn };
    } finally {
      sts.destroy();
    }
  };

  beforeAll(async () => {
    moto = await startMoto();
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'testing');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'testing');
    vi.stubEnv('AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED', 'true');
  }, 90_000);
  afterAll(async () => {
    vi.unstubAllEnvs();
    await moto.stop();
  });

  it('assumes arn:aws:iam::<account>:role/fullstop by default; the own account needs no role', async () => {
    const access = new AccountAccess(aws());
    try {
      expect(access.roleArn(ACCOUNT_B)).toBe(`arn:aws:iam::${ACCOUNT_B}:role/fullstop`);
      // moto's STS answers AssumeRole into any account id with credentials of that account.
      expect(await callerOf(access, ACCOUNT_B)).toEqual({
        account: ACCOUNT_B,
        arn: `arn:aws:sts::${ACCOUNT_B}:assumed-role/fullstop/fullstop`,
      });
      // The account of the platform's own credentials (moto's default user) is read with them.
      expect(await access.ownAccount()).toBe(MOTO_ACCOUNT);
      expect(await callerOf(access, MOTO_ACCOUNT)).toEqual({
        account: MOTO_ACCOUNT,
        arn: `arn:aws:sts::${MOTO_ACCOUNT}:user/moto`,
      });
    } finally {
      access.dispose();
    }
  });

  it('reads through the role in the SDK clients of the rules and checks', async () => {
    const clients = new AccountClients(aws());
    try {
      const { ec2 } = await clients.for(ACCOUNT_B, MOTO_REGION);
      const { SecurityGroups = [] } = await ec2.send(new DescribeSecurityGroupsCommand({}));
      // The default VPC's group of ACCOUNT_B: moto keeps each account's resources apart.
      expect(SecurityGroups.length).toBeGreaterThan(0);
      expect(new Set(SecurityGroups.map((g) => g.OwnerId))).toEqual(new Set([ACCOUNT_B]));
    } finally {
      clients.dispose();
    }
  });

  it("an empty role name reads every account with the platform's own credentials", async () => {
    const access = new AccountAccess(aws(), { roleName: '' });
    try {
      expect(access.roleArn(ACCOUNT_B)).toBeUndefined();
      expect(await callerOf(access, ACCOUNT_B)).toEqual({
        account: MOTO_ACCOUNT,
        arn: `arn:aws:sts::${MOTO_ACCOUNT}:user/moto`,
      });
    } finally {
      access.dispose();
    }
  });

  describe('without AWS credentials (the embedded default)', () => {
    let home: string;
    beforeAll(async () => {
      home = await mkdtemp(join(tmpdir(), 'fullstop-no-aws-'));
      // Nothing in the SDK's credential chain: no keys, no profile files, no instance metadata.
      vi.stubEnv('AWS_ACCESS_KEY_ID', undefined);
      vi.stubEnv('AWS_SECRET_ACCESS_KEY', undefined);
      vi.stubEnv('AWS_PROFILE', undefined);
      vi.stubEnv('AWS_SHARED_CREDENTIALS_FILE', join(home, 'credentials'));
      vi.stubEnv('AWS_CONFIG_FILE', join(home, 'config'));
      vi.stubEnv('AWS_EC2_METADATA_DISABLED', 'true');
      vi.stubEnv('AWS_CONTAINER_CREDENTIALS_RELATIVE_URI', undefined);
      vi.stubEnv('AWS_CONTAINER_CREDENTIALS_FULL_URI', undefined);
      vi.stubEnv('AWS_WEB_IDENTITY_TOKEN_FILE', undefined);
    });
    afterAll(async () => {
      vi.stubEnv('AWS_ACCESS_KEY_ID', 'testing');
      vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'testing');
      await rm(home, { recursive: true, force: true });
    });

    it('a look-up fails with one line naming the account and the role', async () => {
      const images = new Ec2ImageCatalog(aws());
      try {
        const failure = images.describe(ACCOUNT_B, MOTO_REGION, TAUPAGE_IMAGES.latest.id);
        await expect(failure).rejects.toThrow(
          new RegExp(
            `^cannot read account ${ACCOUNT_B} through arn:aws:iam::${ACCOUNT_B}:role/fullstop: the platform has no AWS credentials to assume it with \\([^\\n]+\\)$`,
          ),
        );
        await expect(failure).rejects.toMatchObject({ name: 'AccountAccessError' });
      } finally {
        images.dispose();
      }
    });

    describeEachDatabase('folder ingestion', FULLSTOP_TEST_MIGRATIONS, (getDatabase) => {
      it('stores what needs no look-up; a file needing one is retried later, with the reason', async () => {
        const root = await mkdtemp(join(tmpdir(), 'fullstop-no-aws-trail-'));
        const images = new Ec2ImageCatalog(aws());
        try {
          const h = await createFullstopHarness(getDatabase(), images);
          const day = '2026-11-27';
          const launch = await records.writeCloudTrailFile(
            root,
            { account: ACCOUNT_B, region: MOTO_REGION, day, name: '20261127T1000Z_a' },
            [records.runInstances({ account: ACCOUNT_B, imageId: TAUPAGE_IMAGES.latest.id })],
          );
          await records.writeCloudTrailFile(
            root,
            { account: ACCOUNT_B, region: 'us-east-1', day, name: '20261127T1000Z_b' },
            [records.consoleLogin({ type: 'Root', account: ACCOUNT_B })],
          );
          const run = await h.fullstop.ingestion.ingestPending(new FolderSource(root), 10);
          expect(run.failed).toEqual([
            {
              key: launch,
              error: expect.stringMatching(
                `^cannot read account ${ACCOUNT_B} through arn:aws:iam::${ACCOUNT_B}:role/fullstop: the platform has no AWS credentials`,
              ),
            },
          ]);
          expect(run.files.map((f) => [f.ingested, f.violations])).toEqual([[true, 1]]);
          // The failed file is not marked done: once the role can be assumed it is read again.
          expect(await h.fullstop.store.ingestedAmong(`folder:${root}`, [launch])).toEqual(new Set());
        } finally {
          images.dispose();
          await rm(root, { recursive: true, force: true });
        }
      });
    });
  });
});
