import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as records from '../fullstop/test-support/cloudtrail-records.js';
import type { RunningPlatform } from '../stups/runtime.js';
import { axeViolations } from './test-support/axe.js';
import {
  artifactsDir,
  chromiumMissing,
  type ConsoleBrowser,
  type ConsolePlatform,
  DESKTOP,
  launchConsoleBrowser,
  NARROW,
  screenshotter,
  signIn,
  startConsolePlatform,
} from './test-support/console-harness.js';

/*
 * fullstop in the console, in Debian's Chromium against the real platform: CloudTrail files in
 * the demo team's and the shop team's accounts are ingested by fullstop's own job; the page
 * lists the team's violations, filters them, resolves one with a comment, and draws the trend.
 * The risk acceptance test is written to the contract of the fs-accept task (built in parallel).
 */

const shots = screenshotter(artifactsDir('console'));
/** From config/demo-org.yaml: jdoe is in demo, bob in shop. */
const DEMO_ACCOUNT = '222222222222';
const SHOP_ACCOUNT = '333333333333';
/** The stups team's (admin's): enough violations for two pages of 25. */
const STUPS_ACCOUNT = '111111111111';
const STUPS_VIOLATIONS = 27;
const DAY_MS = 24 * 60 * 60 * 1000;

function day(ago: number): string {
  return new Date(Date.now() - ago * DAY_MS).toISOString().slice(0, 10);
}

/** Writes a day's CloudTrail file of `account` into fullstop's default folder. */
async function trail(root: string, account: string, ago: number, list: records.Record[]): Promise<void> {
  await records.writeCloudTrailFile(
    root,
    { account, region: 'eu-west-1', day: day(ago), name: `${day(ago).replaceAll('-', '')}T1000Z_${account}` },
    list,
  );
}

describe.skipIf(chromiumMissing())('fullstop in the console', { timeout: 60_000 }, () => {
  let running: ConsolePlatform;
  let platform: RunningPlatform;
  let browser: ConsoleBrowser;
  let page: Page;
  let consoleUrl: string;

  const shot = (name: string) => shots(page, name);

  const heading = () => page.locator('main h1');
  // The violations' table, not the trend's.
  const list = () => page.locator('section[aria-labelledby="list-heading"]');
  const rows = () => list().locator('table.list-table tbody tr');
  const types = () => rows().locator('td:first-child a');
  const settled = () => expect.poll(() => page.locator('[role="status"].state-loading').count()).toBe(0);

  beforeAll(async () => {
    running = await startConsolePlatform({
      name: 'console-violations',
      settings: async ({ dataDir }) => {
        // fullstop's default folder; no RunInstances, so no rule asks AWS about an image.
        const cloudtrail = join(dataDir, 'fullstop', 'cloudtrail');
        const at = (ago: number) => `${day(ago)}T10:00:00Z`;
        await trail(cloudtrail, DEMO_ACCOUNT, 3, [
          records.cloudTrailEvent('StopLogging', { account: DEMO_ACCOUNT, time: at(3) }),
        ]);
        await trail(cloudtrail, DEMO_ACCOUNT, 2, [
          records.authorizeIngress({
            account: DEMO_ACCOUNT,
            time: at(2),
            from: 22,
            to: 22,
            cidr: '0.0.0.0/0',
          }),
        ]);
        await trail(cloudtrail, DEMO_ACCOUNT, 1, [
          records.consoleLogin({ account: DEMO_ACCOUNT, time: at(1), type: 'IAMUser' }),
          records.iamRoleEvent('PutRolePolicy', { account: DEMO_ACCOUNT, time: at(1), roleName: 'fullstop' }),
        ]);
        await trail(
          cloudtrail,
          STUPS_ACCOUNT,
          1,
          Array.from({ length: STUPS_VIOLATIONS }, () =>
            records.cloudTrailEvent('StopLogging', { account: STUPS_ACCOUNT, time: at(1) }),
          ),
        );
        await trail(cloudtrail, SHOP_ACCOUNT, 1, [
          records.consoleLogin({ account: SHOP_ACCOUNT, time: at(1), type: 'Root' }),
        ]);

        return { fullstop: { ingestion: { intervalSeconds: 1 } } };
      },
    });
    platform = running.platform;
    expect(platform.listening).toEqual(expect.arrayContaining(['console', 'fullstop']));
    consoleUrl = running.consoleUrl;
    browser = await launchConsoleBrowser('console-violations');
    page = browser.page;
    await signIn(page, consoleUrl, { uid: 'jdoe', password: 'jdoe-demo' }, '/violations');
  }, 180_000);

  afterAll(async () => {
    await browser?.stop();
    await running?.stop();
  });

  it('lists the open violations of the signed-in person’s teams, newest first, from the navigation', async () => {
    await page.goto(`${consoleUrl}/search`);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Violations' }).click();
    await expect.poll(() => heading().textContent()).toBe('Violations');
    // The ingestion job runs every second: reload until all four files are in.
    await expect
      .poll(
        async () => {
          await page.reload();
          await settled();
          return rows().count();
        },
        { timeout: 30_000 },
      )
      .toBe(4);
    expect((await types().allTextContents()).sort()).toEqual([
      'CloudTrail switched off',
      'IAM User has password set',
      'Possible privilege escalation',
      'Security group open to the world',
    ]);
    // The shop team's root login is not among them.
    expect(await list().textContent()).not.toContain(SHOP_ACCOUNT);
    // Severity is a word, not only a colour.
    const login = rows().filter({ hasText: 'IAM User has password set' });
    expect(await login.locator('.severity').textContent()).toMatch(
      /^(Info|Low|Medium|High|Critical) severity$/,
    );
    expect(await page.locator('main [role="status"]', { hasText: 'violations' }).textContent()).toBe(
      '4 violations',
    );
    await shot('violations-01-list');
  });

  it('filters by type, severity, time and team, keeping the filters in the address', async () => {
    await page.locator('#violations-type').selectOption('PASSWORD_USED');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await expect.poll(() => types().allTextContents()).toEqual(['IAM User has password set']);
    expect(page.url()).toContain('type=PASSWORD_USED');

    // fullstop dates a violation when it stores it (the files were ingested today).
    await page.locator('#violations-type').selectOption('');
    await page.locator('#violations-from').fill(day(1));
    await page.locator('#violations-to').fill(day(1));
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await expect.poll(() => page.locator('.state-empty').textContent()).toBe('No open violation matches.');
    expect(page.url()).toContain(`from=${day(1)}`);
    await page.locator('#violations-to').fill(day(0));
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await expect.poll(() => rows().count()).toBe(4);

    await page.locator('#violations-from').fill('');
    await page.locator('#violations-to').fill('');
    await page.locator('#violations-severity').selectOption('4');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await settled();
    const critical = await rows().count();
    for (let i = 0; i < critical; i++)
      expect(await rows().nth(i).locator('.severity').textContent()).toContain('Critical');

    // Another team's violations are readable too; the team selector applies at once.
    await page.goto(`${consoleUrl}/violations`);
    await page.locator('#violations-team').selectOption('shop');
    // The rows, not the list section: its account filter names the shop's account at once.
    await expect.poll(() => rows().allTextContents()).toEqual([expect.stringContaining(SHOP_ACCOUNT)]);
    expect(page.url()).toContain('team=shop');
    await page.locator('#violations-team').selectOption('');
    await expect.poll(() => rows().count()).toBe(4);
  });

  it('pages through a team’s violations, 25 at a time', async () => {
    await page.goto(`${consoleUrl}/violations?team=stups`);
    await expect.poll(() => rows().count()).toBe(25);
    const count = list().locator('p[role="status"]');
    expect(await count.textContent()).toBe(`${STUPS_VIOLATIONS} violations, page 1 of 2`);
    const pager = page.getByRole('navigation', { name: 'Pages of violations' });
    expect(await pager.getByRole('button').allTextContents()).toEqual(['Older']);
    const firstPage = await types().allTextContents();
    await pager.getByRole('button', { name: 'Older' }).click();
    await expect.poll(() => rows().count()).toBe(STUPS_VIOLATIONS - 25);
    expect(page.url()).toContain('page=1');
    expect(await count.textContent()).toBe(`${STUPS_VIOLATIONS} violations, page 2 of 2`);
    expect(await pager.getByRole('button').allTextContents()).toEqual(['Newer']);
    await pager.getByRole('button', { name: 'Newer' }).click();
    await expect.poll(() => rows().count()).toBe(25);
    expect(await types().allTextContents()).toEqual(firstPage);
    await page.goto(`${consoleUrl}/violations`);
    await expect.poll(() => rows().count()).toBe(4);
  });

  it('shows a violation’s details and resolves it with a comment', async () => {
    await page.getByRole('link', { name: 'IAM User has password set' }).click();
    await expect.poll(() => heading().textContent()).toMatch(/^IAM User has password set #\d+$/);
    const facts = page.locator('dl[aria-label="Violation"]');
    expect(await facts.textContent()).toContain(DEMO_ACCOUNT);
    // The owning team comes from the organisation, a second request: it fills in after the facts.
    await expect.poll(() => facts.textContent()).toContain('team demo');
    expect(await page.locator('pre.meta-info').textContent()).toContain('legacy-admin');
    await shot('violations-02-detail');

    const form = page.getByRole('form', { name: 'Resolve' });
    await form.getByRole('button', { name: 'Resolve' }).click();
    expect(await form.locator('.problem').textContent()).toContain('comment');
    await form.getByLabel('Comment').fill('Password removed, user deleted (INC-4711)');
    await form.getByRole('button', { name: 'Resolve' }).click();
    await expect
      .poll(() => page.locator('main [role="status"].notice').textContent())
      .toBe('Resolved by jdoe.');
    expect(await facts.locator('.dl-row', { hasText: 'Status' }).locator('dd').textContent()).toBe(
      'resolved',
    );
    expect(await facts.locator('.dl-row', { hasText: 'Comment' }).textContent()).toContain(
      'Password removed, user deleted (INC-4711)',
    );

    // Stored by fullstop: a reload shows it, and the list moves it to the resolved ones.
    await page.reload();
    await expect
      .poll(() => facts.locator('.dl-row', { hasText: 'Comment' }).textContent())
      .toContain('INC-4711');
    await page.goto(`${consoleUrl}/violations`);
    await expect.poll(() => rows().count()).toBe(3);
    await page.locator('#violations-status').selectOption('checked');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await expect.poll(() => types().allTextContents()).toEqual(['IAM User has password set']);
    expect(await rows().locator('.status-granted').textContent()).toBe('resolved');
  });

  it('does not offer resolving another team’s violation', async () => {
    await page.goto(`${consoleUrl}/violations?team=shop`);
    await page.getByRole('link', { name: 'IAM User has password set' }).click();
    await expect.poll(() => heading().textContent()).toMatch(/#\d+$/);
    await expect
      .poll(() => page.locator('section[aria-labelledby="resolution-heading"]').textContent())
      .toContain('Only members of team shop can resolve this violation.');
    expect(await page.getByRole('form', { name: 'Resolve' }).count()).toBe(0);
  });

  it('draws the trend with uPlot and says the same in words and a table', async () => {
    await page.goto(`${consoleUrl}/violations`);
    const trend = page.locator('section[aria-labelledby="trend-heading"]');
    await expect.poll(() => trend.locator('[data-testid="trend-chart"] canvas').count()).toBe(1);
    expect(await trend.locator('[data-testid="trend-chart"]').getAttribute('aria-hidden')).toBe('true');
    expect(await trend.locator('#trend-summary').textContent()).toBe(
      `From ${day(29)} to ${day(0)}: 4 violations found, 1 resolved; open went from 0 to 3.`,
    );
    await trend.getByText('The trend as a table').click();
    const today = trend.locator('tbody tr').first();
    expect(await today.locator('td').allTextContents()).toEqual([day(0), '4', '1', '3']);
    expect(await trend.locator('tbody tr').count()).toBe(30);
    expect(
      await trend
        .locator('tbody tr', { hasText: day(1) })
        .locator('td')
        .allTextContents(),
    ).toEqual([day(1), '0', '0', '0']);
    await shot('violations-03-trend');
    await page.setViewportSize(NARROW);
    await page.reload();
    await expect.poll(() => trend.locator('[data-testid="trend-chart"] canvas').count()).toBe(1);
    const width = await trend
      .locator('[data-testid="trend-chart"]')
      .evaluate((e) => e.getBoundingClientRect().width);
    expect(width).toBeLessThanOrEqual(NARROW.width);
    await shot('violations-04-narrow');
    await page.setViewportSize(DESKTOP);
  });

  it('passes axe at 1280 and 390 pixels, light and dark, without sideways scrolling', async () => {
    await page.goto(`${consoleUrl}/violations`);
    await page.getByRole('link', { name: 'Security group open to the world' }).click();
    await expect.poll(() => heading().textContent()).toMatch(/#\d+$/);
    const detail = new URL(page.url()).pathname;
    const found: string[] = [];
    for (const where of [
      '/violations',
      '/violations?status=checked',
      detail,
      '/violations/risk-acceptances',
    ]) {
      // Loaded once, checked in all four looks: scheme and width are media queries the page
      // (and its chart) follow live.
      await page.goto(`${consoleUrl}${where}`);
      await settled();
      await expect.poll(() => heading().count()).toBe(1);
      if (where.startsWith('/violations?') || where === '/violations') {
        await expect.poll(() => page.locator('[data-testid="trend-chart"] canvas').count()).toBe(1);
      }
      for (const viewport of [DESKTOP, NARROW]) {
        for (const colorScheme of ['light', 'dark'] as const) {
          await page.emulateMedia({ colorScheme });
          await page.setViewportSize(viewport);
          // Two frames: the chart redraws on a resize or scheme change.
          await page.evaluate(
            () => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))),
          );
          for (const line of await axeViolations(page)) {
            found.push(`${colorScheme} ${viewport.width} ${where}: ${line}`);
          }
          expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(
            viewport.width,
          );
        }
      }
    }
    await shot('violations-05-dark-narrow');
    await page.emulateMedia({ colorScheme: 'light' });
    await page.setViewportSize(DESKTOP);
    expect(found).toEqual([]);
  });

  // Needs the risk acceptance API of the fs-accept task: fails until that is merged.
  it('accepts a risk after a dry-run preview, and ends it early', async () => {
    await page.goto(`${consoleUrl}/violations/risk-acceptances?team=demo`);
    await expect.poll(() => heading().textContent()).toBe('Risk acceptances');
    await settled();
    // Without the API the page says why (a 404 from fullstop): fail with that sentence, at once.
    expect(await page.locator('main [role="alert"]').allTextContents()).toEqual([]);
    const form = page.getByRole('form', { name: 'New risk acceptance' });
    await form.getByLabel('Security group open to the world').check();
    await form.getByRole('button', { name: 'Preview' }).click();
    await expect.poll(() => form.locator('#preview-heading').textContent()).toBe('Would cover 1 violation');
    expect(await form.locator('.preview tbody tr').count()).toBe(1);
    await form.getByLabel('Reason').fill('SSH open for the migration, closed by the end of the quarter');
    // The reason does not change what is covered: the preview stays.
    expect(await form.locator('#preview-heading').textContent()).toBe('Would cover 1 violation');
    await shot('violations-06-acceptance-preview');
    await form.getByRole('button', { name: 'Accept the risk' }).click();
    await expect
      .poll(() => page.locator('main .notice[role="status"]').first().textContent())
      .toMatch(/^Acceptance \d+ covers 1 violation until /);
    const listed = page.locator('table.list-table tbody tr', { hasText: 'SSH open for the migration' });
    await expect.poll(() => listed.count()).toBe(1);
    expect(await listed.locator('td').nth(3).textContent()).toBe('1');

    // Covered: no longer open.
    await page.goto(`${consoleUrl}/violations`);
    await expect.poll(() => rows().count()).toBe(2);
    expect(await types().allTextContents()).not.toContain('Security group open to the world');

    await page.goto(`${consoleUrl}/violations/risk-acceptances?team=demo`);
    await listed.getByRole('button', { name: /Expire now/ }).click();
    await listed.getByLabel('Why end it now (optional)').fill('Migration done early');
    await listed.getByRole('button', { name: /Expire acceptance \d+/ }).click();
    await expect.poll(() => page.locator('main p[role="status"]', { hasText: 'has ended' }).count()).toBe(1);
    await expect.poll(() => listed.count()).toBe(0);
    await page.goto(`${consoleUrl}/violations/risk-acceptances?team=demo&status=expired`);
    await expect.poll(() => listed.locator('.status').textContent()).toBe('expired');
    await shot('violations-07-acceptance-expired');

    await page.goto(`${consoleUrl}/violations`);
    await expect.poll(() => rows().count()).toBe(3);
  });
});
