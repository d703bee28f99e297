import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { seedOrganisation, type TestOrganisation } from '../sandbox/test-support/harness.js';
import { type RunningMoto, skipWithoutMoto, startMoto } from '../senza/test-support/moto.js';
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
 * Sandbox accounts in the console, in Debian's Chromium against the real platform: the sandbox
 * service manages a moto organisation (10 accounts; jdoe holds sandbox-3), its own jobs mirror
 * it and run the spend check over a cost file with a spike on sandbox-5 yesterday.
 */

const shots = screenshotter(artifactsDir('console'));
const DAY_MS = 24 * 60 * 60 * 1000;
const day = (ago: number) => new Date(Date.now() - ago * DAY_MS).toISOString().slice(0, 10);

describe.skipIf(chromiumMissing() || skipWithoutMoto())(
  'sandbox accounts in the console',
  { timeout: 60_000 },
  () => {
    let moto: RunningMoto;
    let org: TestOrganisation;
    let running: ConsolePlatform;
    let browser: ConsoleBrowser;
    let page: Page;
    let consoleUrl: string;
    const heading = () => page.locator('main h1');

    beforeAll(async () => {
      vi.stubEnv('AWS_ACCESS_KEY_ID', 'testing');
      vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'testing');
      moto = await startMoto();
      org = await seedOrganisation(moto.endpoint);
      running = await startConsolePlatform({
        name: 'console-sandbox',
        settings: async ({ dataDir }) => {
          const costFile = join(dataDir, 'cur.csv');
          const lines = [
            'lineItem/UsageAccountId,lineItem/UsageStartDate,lineItem/UnblendedCost,lineItem/CurrencyCode',
          ];
          for (let ago = 10; ago >= 1; ago--) {
            lines.push(`${org.accountIds[3]},${day(ago)}T00:00:00Z,1.50,USD`);
            lines.push(`${org.accountIds[5]},${day(ago)}T00:00:00Z,3.00,USD`);
          }
          lines.push(`${org.accountIds[5]},${day(1)}T08:00:00Z,600.00,USD`);
          await writeFile(costFile, `${lines.join('\n')}\n`);
          return {
            sandbox: {
              enabled: true,
              aws: { endpoint: moto.endpoint, region: 'eu-west-1' },
              maintenanceIntervalSeconds: 1,
              // Every second here; a rerun on the same day raises no alarm twice.
              spend: { costFile, checkIntervalSeconds: 1 },
            },
          };
        },
      });
      expect(running.platform.listening).toEqual(expect.arrayContaining(['console', 'sandbox']));
      consoleUrl = running.consoleUrl;
      browser = await launchConsoleBrowser('console-sandbox');
      page = browser.page;
      await signIn(page, consoleUrl, { uid: 'jdoe', password: 'jdoe-demo' }, '/sandbox');
    }, 180_000);

    afterAll(async () => {
      await browser?.stop();
      await running?.stop();
      await moto?.stop();
      vi.unstubAllEnvs();
    });

    it('shows my account with its budget used, the accounts by state and the incidents', async () => {
      await page.goto(`${consoleUrl}/search`);
      await page
        .getByRole('navigation', { name: 'Main' })
        .getByRole('link', { name: 'Sandbox accounts' })
        .click();
      await expect.poll(() => heading().textContent()).toBe('Sandbox accounts');
      // The jobs fill the mirror and measure the spend within a few seconds: reload until they have.
      const mine = page.getByRole('definition').filter({ hasText: /of \$500\.00/ });
      const incidents = page.getByRole('table', { name: 'Incidents, newest first' });
      await expect
        .poll(
          async () => {
            await page.reload();
            await page.locator('#incidents-heading').waitFor();
            await page.waitForFunction(
              () => document.querySelectorAll('[role="status"].state-loading').length === 0,
            );
            return (await mine.count()) > 0 && (await incidents.count()) > 0;
          },
          { timeout: 30_000, interval: 1_000 },
        )
        .toBe(true);
      const my = page.getByRole('definition').filter({ hasText: org.accountIds[3]! });
      await expect.poll(() => my.textContent()).toContain('sandbox-3');
      expect(await page.locator(`dl[aria-label="Account ${org.accountIds[3]}"]`).textContent()).toMatch(
        /assigned/,
      );
      // 10 days of 1.50 in this month (or fewer at a month's start): never more than 15.00 of 500.
      expect(await mine.textContent()).toMatch(/^ ?\$\d+\.\d\d of \$500\.00 \(\d+ %\)$/);
      expect(await page.getByRole('meter', { name: 'Budget used this month' }).count()).toBe(1);
      const byState = page.locator('dl[aria-label="Accounts by state"]');
      expect(await byState.textContent()).toMatch(/assigned3/);
      expect(await byState.textContent()).toMatch(/vanilla4/);
      expect(await incidents.textContent()).toContain('BudgetAlert');
      expect(await incidents.textContent()).toContain(org.accountIds[5]!);
      // Spend per cost centre: the chart (a canvas, hidden from assistive technology) and its table.
      const spend = page.getByRole('table', { name: 'Spend per cost centre this month' });
      const spendText = (await spend.textContent()) ?? '';
      // sandbox-3 and sandbox-5 (odd: cc-200) carry all the cost; cc-100's accounts spent nothing.
      expect(spendText).toMatch(/cc-200\$\d+\.\d\d/);
      expect(spendText).toContain('cc-100$0.00');
      const chart = page.getByTestId('spend-chart');
      await chart.locator('canvas').waitFor();
      expect(await chart.getAttribute('aria-hidden')).toBe('true');
      await shots(page, 'sandbox');
    });

    it('is axe clean and fits a phone, light and dark', async () => {
      const found: string[] = [];
      for (const viewport of [DESKTOP, NARROW]) {
        for (const colorScheme of ['light', 'dark'] as const) {
          await page.emulateMedia({ colorScheme });
          await page.setViewportSize(viewport);
          for (const line of await axeViolations(page))
            found.push(`${colorScheme} ${viewport.width}: ${line}`);
          expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(
            viewport.width,
          );
        }
      }
      await shots(page, 'sandbox-phone');
      await page.emulateMedia({ colorScheme: 'light' });
      await page.setViewportSize(DESKTOP);
      expect(found).toEqual([]);
    });
  },
);
