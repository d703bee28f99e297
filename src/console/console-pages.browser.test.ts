import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateEvenKeyPair } from '../even/index.js';
import {
  bastionUnavailableReason,
  type LoopbackBastion,
  startLoopbackBastion,
} from '../odd/test-support/loopback-bastion.js';
import { SERVICE_PORT_OFFSETS } from '../platform/service-context.js';
import { sshKeygen } from '../platform/test-support/ssh-keygen.js';
import {
  artifactsDir,
  chromiumMissing,
  type ConsoleBrowser,
  type ConsolePlatform,
  DESKTOP,
  launchConsoleBrowser,
  NARROW,
  screenshotter,
  signIn as signInAt,
  startConsolePlatform,
} from './test-support/console-harness.js';

/*
 * The console's access requests, AWS accounts and audit log pages in Debian's Chromium against
 * the real platform, with a real sshd bastion behind even, so that a grant is a real grant and a
 * revocation really ends it. Two people work side by side in two browsers: each sees the other's
 * requests change without reloading.
 */

const shots = screenshotter(artifactsDir('console'));

const noChromium = chromiumMissing();
const noBastion = noChromium ? 'chromium' : bastionUnavailableReason();
if (noBastion && !noChromium) console.warn(`SKIPPING the console's access request pages: ${noBastion}`);

describe.skipIf(noChromium || noBastion !== undefined)('access requests, AWS accounts and audit log', () => {
  let running: ConsolePlatform;
  let bastion: LoopbackBastion;
  let browser: ConsoleBrowser;
  let mateBrowser: ConsoleBrowser;
  let page: Page;
  let matePage: Page;
  let consoleUrl: string;
  let member = '';
  let mate = '';
  let team = '';
  const privateKeys = new Map<string, string>();

  const shot = shots;

  const heading = (p: Page = page) => p.locator('main h1');
  const settled = async (p: Page) => {
    await expect.poll(() => p.locator('[role="status"].state-loading').count()).toBe(0);
  };
  const row = (p: Page, section: string, text: string) =>
    p.locator(`section[aria-labelledby="${section}"] tbody tr`, { hasText: text });

  const signIn = (p: Page, uid: string, password: string, where: string) =>
    signInAt(p, consoleUrl, { uid, password }, where);

  beforeAll(async () => {
    running = await startConsolePlatform({
      name: 'console-pages',
      settings: async ({ dataDir, basePort }) => {
        const evenKeys = generateEvenKeyPair();
        bastion = await startLoopbackBastion({
          evenUrl: `http://localhost:${basePort + SERVICE_PORT_OFFSETS.even}`,
          evenPublicKey: evenKeys.publicKey,
        });
        // Login names the bastion creates carry its tag, so that stopping it removes them again.
        member = `${bastion.tag}-m`;
        mate = `${bastion.tag}-n`;
        team = bastion.tag;
        const keyOf = async (uid: string) => {
          const key = await sshKeygen('ed25519', { comment: uid });
          privateKeys.set(uid, key.privateKey);
          return key.publicKey;
        };
        const orgFile = join(dataDir, 'org.yaml');
        await writeFile(
          orgFile,
          stringify({
            admins: ['admin'],
            teams: [
              { id: team, name: 'Bastion team', members: [member, mate], aws_accounts: ['444444444444'] },
              { id: 'platform', name: 'Platform team', members: ['admin'], aws_accounts: ['555555555555'] },
            ],
            users: [
              {
                uid: member,
                name: 'Mia Member',
                email: 'mia@example.org',
                password: 'mia-pass-1',
                ssh_keys: [await keyOf(member)],
              },
              {
                uid: mate,
                name: 'Nils Mate',
                email: 'nils@example.org',
                password: 'nils-pass-1',
                ssh_keys: [await keyOf(mate)],
              },
              { uid: 'admin', name: 'Platform Admin', email: 'admin@example.org', password: 'admin-pass-1' },
            ],
          }),
        );
        const evenKeyFile = join(dataDir, 'even-key');
        await writeFile(evenKeyFile, evenKeys.privateKey, { mode: 0o600 });
        return {
          platform: { orgFile },
          even: {
            sshKeyFile: evenKeyFile,
            allowedHosts: [
              { hostname: 'localhost', teams: [team], address: '127.0.0.1', port: bastion.port },
            ],
            ssh: { user: bastion.grantingUser, knownHostKeys: [bastion.hostKey] },
          },
        };
      },
    });
    consoleUrl = running.consoleUrl;
    browser = await launchConsoleBrowser('console-pages', { acceptDownloads: true });
    page = browser.page;
    // The team mate works in a browser of their own.
    mateBrowser = await launchConsoleBrowser('console-pages-mate', { acceptDownloads: true });
    matePage = mateBrowser.page;
  }, 240_000);

  afterAll(async () => {
    await browser?.stop();
    await mateBrowser?.stop();
    await running?.stop();
    await bastion?.stop();
  });

  it('requests access with a reason, says why a host is refused, and shows the grant', async () => {
    await signIn(page, member, 'mia-pass-1', '/access-requests');
    await expect.poll(() => heading().textContent()).toBe('Access requests');
    expect(await page.title()).toBe('Access requests · STUPS console');
    const nav = page.getByRole('navigation', { name: 'Main' });
    expect(await nav.getByRole('link').allTextContents()).toEqual(
      expect.arrayContaining(['Access requests', 'AWS accounts']),
    );
    // Only administrators see the audit log's entry.
    expect(await nav.getByRole('link', { name: 'Audit log' }).count()).toBe(0);
    await settled(page);
    expect(await page.locator('#mine-heading + .state-empty').textContent()).toBe(
      'You have not requested access yet.',
    );

    // Problems are said by field before anything is sent.
    await page.getByRole('button', { name: 'Request access' }).click();
    expect(await page.locator('#access-hostname-problem').textContent()).toBe(
      'Enter the host name of the bastion.',
    );
    expect(await page.locator('#access-reason-problem').textContent()).toBe('Say why you need access.');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('access-hostname');

    // A bastion of another team: even refuses, in its words, and the refusal is on the list.
    await page.getByLabel('Host').fill('odd-eu.shop.example.org');
    await page.getByLabel('Reason').fill('looking around');
    await page.getByRole('button', { name: 'Request access' }).click();
    await expect
      .poll(() => page.getByRole('alert').textContent())
      .toBe(
        `Access was not granted: access denied: ${member} is not a member of team shop, which owns host odd-eu.shop.example.org (request 1)`,
      );
    await expect
      .poll(() => row(page, 'mine-heading', 'odd-eu.shop.example.org').locator('.status').textContent())
      .toBe('Denied');

    await page.getByLabel('Host').fill('localhost');
    await page.getByLabel('Reason').fill('incident 42: disk full');
    await page.getByLabel('Minutes').fill('30');
    await page.getByRole('button', { name: 'Request access' }).click();
    const granted = row(page, 'mine-heading', 'incident 42');
    await expect.poll(() => granted.locator('.status').textContent()).toBe('Granted');
    expect(await granted.locator('td').first().textContent()).toBe('localhost');
    expect(await page.getByRole('alert').count()).toBe(0);
    // A real grant: the member logs in to the bastion with their key.
    expect((await bastion.login(member, privateKeys.get(member) ?? '')).code).toBe(0);
    expect(await page.locator('[role="status"]').first().textContent()).toBe(
      'Access to localhost was granted.',
    );
    await shot(page, '20-access-requests');
  });

  it("shows a team mate's requests as they change, without reloading", async () => {
    await signIn(matePage, mate, 'nils-pass-1', '/access-requests');
    await expect.poll(() => heading(matePage).textContent()).toBe('Access requests');
    await matePage.getByLabel('Host').fill('localhost');
    await matePage.getByLabel('Reason').fill('deploy check');
    await matePage.getByRole('button', { name: 'Request access' }).click();
    await expect
      .poll(() => row(matePage, 'mine-heading', 'deploy check').locator('.status').textContent())
      .toBe('Granted');
    // The member's page, untouched, picks the mate's grant up on its own.
    const theirs = row(page, 'team-requests-heading', 'deploy check');
    await expect.poll(() => theirs.locator('.status').textContent(), { timeout: 20_000 }).toBe('Granted');
    expect(await theirs.getByRole('link', { name: mate }).count()).toBe(1);
    // Someone else's grant: only they (or an administrator) may end it.
    expect(await theirs.getByRole('button').count()).toBe(0);
    // The mate ends their grant early; the member sees it end.
    matePage.once('dialog', (dialog) => void dialog.accept());
    await matePage.getByRole('button', { name: `Revoke access to localhost for ${mate}` }).click();
    await expect
      .poll(() => row(matePage, 'mine-heading', 'deploy check').locator('.status').textContent())
      .toBe('Revoked');
    await expect.poll(() => theirs.locator('.status').textContent(), { timeout: 20_000 }).toBe('Revoked');
    await shot(page, '21-access-requests-team');
  });

  it('revokes an own grant early, after confirming', async () => {
    const mine = row(page, 'mine-heading', 'incident 42');
    const revoke = mine.getByRole('button', { name: `Revoke access to localhost for ${member}` });
    page.once('dialog', (dialog) => void dialog.dismiss());
    await revoke.click();
    expect(await mine.locator('.status').textContent()).toBe('Granted');
    page.once('dialog', (dialog) => void dialog.accept());
    await revoke.click();
    await expect.poll(() => mine.locator('.status').textContent()).toBe('Revoked');
    expect(await mine.locator('.status + .muted').textContent()).toContain(`revoked by ${member}`);
    expect(await mine.getByRole('button').count()).toBe(0);
    // The bastion no longer lets the member in.
    expect((await bastion.login(member, privateKeys.get(member) ?? '')).code).not.toBe(0);
  });

  it("lists the AWS accounts of one's teams", async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'AWS accounts' }).click();
    await page.waitForURL(`${consoleUrl}/aws-accounts`);
    await expect.poll(() => heading().textContent()).toBe('AWS accounts');
    await expect.poll(() => page.evaluate(() => document.activeElement?.tagName)).toBe('H1');
    expect(await page.title()).toBe('AWS accounts · STUPS console');
    await settled(page);
    expect(await page.locator('tbody tr td:first-child').allTextContents()).toEqual(['444444444444']);
    expect(
      await page.locator('tbody tr').getByRole('link', { name: 'Bastion team' }).getAttribute('href'),
    ).toBe(`/teams/${team}`);
    await shot(page, '22-aws-accounts');
    // The audit log is for administrators: a member who follows a link is told so.
    await page.goto(`${consoleUrl}/audit`);
    await expect
      .poll(() => page.getByRole('alert').textContent())
      .toBe('Only platform administrators may read the audit log.');
  });

  it('offers no "New resource type" to a team without applications', async () => {
    await page.goto(`${consoleUrl}/resource-types`);
    await expect.poll(() => heading().textContent()).toBe('Resource types');
    await settled(page);
    expect(await page.locator('.state-empty').textContent()).toContain('No resource type exists yet.');
    expect(await page.getByRole('link', { name: /New resource type|Create the first one/ }).count()).toBe(0);
    // Following a link to the form anyway: the id check says who may create it, before anything is sent.
    await page.goto(`${consoleUrl}/resource-types/new`);
    await page.getByLabel('Resource type id').fill('ledger');
    await expect
      .poll(() => page.locator('#rt-id-status').textContent())
      .toBe(
        'Only administrators may create ledger: name it after an application of your team, e.g. my-app.ledger.',
      );
  });

  it('lets an administrator filter, page and export the audit log', async () => {
    await matePage.getByRole('button', { name: 'Sign out' }).click();
    // Signing out passes through the token service's end-session endpoint: wait until it is back.
    await expect.poll(() => matePage.locator('main').textContent()).toContain('You are signed out.');
    await signIn(matePage, 'admin', 'admin-pass-1', '/audit');
    const admin = matePage;
    await expect.poll(() => heading(admin).textContent()).toBe('Audit log');
    expect(await admin.title()).toBe('Audit log · STUPS console');
    expect(
      await admin.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Audit log' }).count(),
    ).toBe(1);
    // An administrator may create any resource type.
    await admin.goto(`${consoleUrl}/resource-types`);
    await expect.poll(() => admin.getByRole('link', { name: 'New resource type' }).count()).toBe(1);
    await admin.goto(`${consoleUrl}/audit`);
    await expect.poll(() => heading(admin).textContent()).toBe('Audit log');
    await settled(admin);

    await admin.getByLabel('Actor').fill(member);
    await admin.getByLabel('Component').fill('even');
    await admin.getByLabel('Per page').selectOption('10');
    await admin.getByRole('button', { name: 'Apply filters' }).click();
    await admin.waitForURL(/\/audit\?actor=/);
    const actions = () => admin.locator('tbody tr td:nth-child(3)').allTextContents();
    // Newest first: the member's revocation (and the bastion's part of it), grant, creation and the refused request.
    await expect
      .poll(actions)
      .toEqual([
        'even.access_request.revoke_on_bastion',
        'even.access_request.revoke',
        'even.access_request.grant',
        'even.access_request.create',
        'even.access_request.create',
      ]);
    expect(await admin.locator('tbody tr td:nth-child(4) code').allTextContents()).toEqual(
      Array(5).fill(member),
    );
    expect(await admin.locator('tbody tr td:nth-child(6)').allTextContents()).toEqual([
      'success',
      'success',
      'success',
      'success',
      'refused',
    ]);
    await shot(admin, '23-audit-log');

    // Paging: everything by anyone, ten at a time; the second page starts where the first ended.
    await admin.getByLabel('Actor').fill('');
    await admin.getByLabel('Component').fill('');
    await admin.getByRole('button', { name: 'Apply filters' }).click();
    await expect.poll(() => admin.locator('tbody tr').count()).toBe(10);
    const firstPage = await admin.locator('tbody tr').allTextContents();
    await admin.getByRole('button', { name: 'Older events' }).click();
    await expect.poll(() => admin.locator('#events-heading').textContent()).toBe('Older events');
    await settled(admin);
    const secondPage = await admin.locator('tbody tr').allTextContents();
    expect(secondPage.length).toBeGreaterThan(0);
    expect(secondPage.filter((r) => firstPage.includes(r))).toEqual([]);
    await admin.getByRole('button', { name: 'Newest events' }).click();
    await expect.poll(() => admin.locator('tbody tr').allTextContents()).toEqual(firstPage);

    // The export holds every matching event, not only the page on screen.
    await admin.getByLabel('Actor').fill(member);
    await admin.getByLabel('Component').fill('even');
    await admin.getByRole('button', { name: 'Apply filters' }).click();
    await expect.poll(() => admin.locator('tbody tr').count()).toBe(5);
    const [download] = await Promise.all([
      admin.waitForEvent('download'),
      admin.getByRole('button', { name: 'Export CSV' }).click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/^audit-log-\d{4}-\d\d-\d\dT\d{6}\.csv$/);
    const csv = await readFile((await download.path()) ?? '', 'utf8');
    const lines = csv.trimEnd().split('\r\n');
    expect(lines[0]).toBe(
      'id,occurred_at,component,action,actor,actor_realm,target_type,target_id,outcome,request_id,details',
    );
    expect(lines.slice(1).map((l) => l.split(',')[3])).toEqual([
      'even.access_request.revoke_on_bastion',
      'even.access_request.revoke',
      'even.access_request.grant',
      'even.access_request.create',
      'even.access_request.create',
    ]);
    await expect
      .poll(() => admin.locator('.export [role="status"]').textContent())
      .toBe('Exported 5 events.');
  });

  it('shows the new pages on a phone without sideways scrolling', async () => {
    await page.setViewportSize(NARROW);
    try {
      for (const [where, title, name] of [
        ['/access-requests', 'Access requests', '24-narrow-access-requests'],
        ['/aws-accounts', 'AWS accounts', '25-narrow-aws-accounts'],
      ] as const) {
        await page.goto(`${consoleUrl}${where}`);
        await expect.poll(() => heading().textContent()).toBe(title);
        await settled(page);
        expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(
          NARROW.width,
        );
        await shot(page, name);
      }
      await matePage.setViewportSize(NARROW);
      await matePage.goto(`${consoleUrl}/audit?actor=${member}`);
      await expect.poll(() => heading(matePage).textContent()).toBe('Audit log');
      await settled(matePage);
      expect(await matePage.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(
        NARROW.width,
      );
      await shot(matePage, '26-narrow-audit-log');
    } finally {
      await page.setViewportSize(DESKTOP);
      await matePage.setViewportSize(DESKTOP);
    }
  });
});
