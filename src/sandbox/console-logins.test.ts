import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { FolderSource } from '../fullstop/ingestion.js';
import { consoleLogin, runInstances } from '../fullstop/test-support/cloudtrail-records.js';
import { openTestDatabase } from '../platform/test-support/databases.js';
import type { SandboxAccount } from './contract.js';
import { createSandboxHarness, SANDBOX_TEST_MIGRATIONS } from './test-support/harness.js';

const [A, B, OTHER] = ['111111111111', '222222222222', '999999999999'];

/** A root console login as CloudTrail delivers it (AWS docs, "CloudTrail log file examples"). */
const rootLogin = {
  eventVersion: '1.09',
  userIdentity: { type: 'Root', principalId: A, arn: `arn:aws:iam::${A}:root`, accountId: A },
  eventTime: '2026-11-27T09:15:02Z',
  eventSource: 'signin.amazonaws.com',
  eventName: 'ConsoleLogin',
  awsRegion: 'us-east-1',
  sourceIPAddress: '198.51.100.7',
  userAgent: 'Mozilla/5.0 (X11; Linux x86_64)',
  requestParameters: null,
  responseElements: { ConsoleLogin: 'Success' },
  additionalEventData: {
    LoginTo: 'https://console.aws.amazon.com/console/home?state=hashArgs',
    MobileVersion: 'No',
    MFAUsed: 'No',
  },
  eventID: '3d8f5e7a-0c6e-4d3b-9a71-2f0a6c1d9b11',
  readOnly: false,
  eventType: 'AwsConsoleSignIn',
  managementEvent: true,
  recipientAccountId: A,
  eventCategory: 'Management',
  tlsDetails: { tlsVersion: 'TLSv1.3', clientProvidedHostHeader: 'signin.aws.amazon.com' },
};

describe('root and IAM-user console logins from CloudTrail', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  const account = (id: string): SandboxAccount => ({
    id,
    name: `sandbox-${id.slice(0, 1)}`,
    email: `${id}@example.org`,
    organizational_unit: 'ou-1',
    organizational_unit_name: 'engineering',
    state: 'assigned',
    holder: 'jdoe',
    cost_center: 'cc-100',
    tags: {},
    state_timestamps: {},
  });

  async function trailFile(root: string, accountId: string, day: string, name: string, records: unknown[]) {
    const dir = join(root, 'AWSLogs', accountId, 'CloudTrail', 'us-east-1', ...day.split('-'));
    await mkdir(dir, { recursive: true });
    await writeFile(
      join(dir, `${accountId}_CloudTrail_us-east-1_${name}.json.gz`),
      gzipSync(JSON.stringify({ Records: records })),
    );
  }

  it('records each as an incident once (audited, webhook), and passes over federated logins', async () => {
    const received: { kind: string; accountId: string }[] = [];
    const webhook: Server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        received.push(JSON.parse(body) as { kind: string; accountId: string });
        response.end();
      });
    });
    await new Promise<void>((resolve) => webhook.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => webhook.close(() => resolve())));
    const port = (webhook.address() as { port: number }).port;
    const trails = await mkdtemp(join(tmpdir(), 'sandbox-trails-'));
    cleanups.push(() => rm(trails, { recursive: true, force: true }));
    const db = await openTestDatabase('pglite', SANDBOX_TEST_MIGRATIONS);
    cleanups.push(() => db.drop());
    let now = new Date('2026-11-27T12:00:00Z');
    const h = await createSandboxHarness(db.database, {
      now: () => now,
      settings: { incidentWebhook: `http://127.0.0.1:${port}/hook` },
    });
    cleanups.push(() => h.close());
    await h.sandbox.store.write(async (trx) => {
      for (const id of [A, B]) await h.sandbox.store.upsertAccount(trx, account(id), 100);
    });

    await trailFile(trails, A, '2026-11-27', '20261127T0920Z_a', [
      rootLogin,
      consoleLogin({ account: A, type: 'AssumedRole', eventId: 'federated-1' }),
      runInstances({ account: A, instanceIds: ['i-0abc'] }),
    ]);
    await trailFile(trails, B, '2026-11-27', '20261127T1010Z_b', [
      consoleLogin({
        account: B,
        type: 'IAMUser',
        eventId: 'iam-1',
        success: false,
        time: '2026-11-27T10:05:00Z',
      }),
    ]);
    // Not a sandbox account (the management account's own trail): not read.
    await trailFile(trails, OTHER, '2026-11-27', '20261127T1010Z_o', [
      consoleLogin({ account: OTHER, type: 'Root' }),
    ]);
    // Not CloudTrail: skipped and named, the rest still read.
    const broken = join(
      trails,
      'AWSLogs',
      B,
      'CloudTrail',
      'us-east-1',
      '2026',
      '11',
      '27',
      `${B}_CloudTrail_us-east-1_x.json.gz`,
    );
    await writeFile(broken, 'not gzip');

    const source = new FolderSource(trails);
    const first = await h.sandbox.service.checkConsoleLogins(source);
    expect(first.files).toBe(3);
    expect(first.unreadable).toEqual([
      `AWSLogs/${B}/CloudTrail/us-east-1/2026/11/27/${B}_CloudTrail_us-east-1_x.json.gz`,
    ]);
    expect(first.recorded.map((f) => `${f.accountId} ${f.kind}`).sort()).toEqual([
      `${A} ConsoleLoginWithRootException`,
      `${B} ConsoleLoginWithIamUserException`,
    ]);
    const incidents = await h.sandbox.service.incidents();
    expect(incidents.find((i) => i.account_id === A)).toMatchObject({
      kind: 'ConsoleLoginWithRootException',
      message: 'console login (success) with the root user',
      occurred_at: '2026-11-27T09:15:02.000Z',
      details: { cloudtrail_event_id: rootLogin.eventID, mfa_used: 'No', source_ip: '198.51.100.7' },
    });
    expect(incidents.find((i) => i.account_id === B)).toMatchObject({
      kind: 'ConsoleLoginWithIamUserException',
      message: 'console login (failure) with the IAM user legacy-admin',
    });
    const audited = await h.ctx.auditLog.query({
      service: 'sandbox',
      action: 'sandbox.incident.record',
      limit: 10,
    });
    expect(audited).toHaveLength(2);
    expect(received.map((r) => `${r.accountId} ${r.kind}`).sort()).toEqual([
      `${A} ConsoleLoginWithRootException`,
      `${B} ConsoleLoginWithIamUserException`,
    ]);

    // The next run: the same files again (same day) record nothing twice; a new login is recorded.
    now = new Date('2026-11-27T12:15:00Z');
    await trailFile(trails, A, '2026-11-27', '20261127T1205Z_c', [
      { ...rootLogin, eventID: 'later-root', eventTime: '2026-11-27T12:01:00Z' },
    ]);
    const second = await h.sandbox.service.checkConsoleLogins(source);
    expect(second.recorded.map((f) => f.eventId)).toEqual(['later-root']);
    expect(await h.sandbox.service.incidents()).toHaveLength(3);

    // Two days on, files of days before the last run (less one) are not read again.
    now = new Date('2026-11-30T08:00:00Z');
    await h.sandbox.service.checkConsoleLogins(source);
    now = new Date('2026-11-30T09:00:00Z');
    expect((await h.sandbox.service.checkConsoleLogins(source)).files).toBe(0);
  }, 60_000);
});
