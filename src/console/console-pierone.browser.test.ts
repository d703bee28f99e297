import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyArgs, ImageBuilder, skopeo } from '../pierone/test-support/registry-harness.js';
import type { Scheduler } from '../platform/jobs/job-runner.js';
import type { RunningPlatform } from '../stups/runtime.js';
import {
  artifactsDir,
  chromiumMissing,
  type ConsoleBrowser,
  type ConsolePlatform,
  launchConsoleBrowser,
  screenshotter,
  signIn,
  startConsolePlatform,
} from './test-support/console-harness.js';
import { accessTokenOf, CONSOLE_SESSION_KEY, DEMO_USER } from './test-support/demo-data.js';

/*
 * Pier One's housekeeping in the console, against the real platform in Debian's Chromium: a team
 * member sets a retention rule, the page shows the rule and its dry run, the platform's own
 * retention job (fired by the test instead of a timer) deletes the tag, and the page shows it as
 * "deleted by pierone-retention on D because R", with the team's storage and the quota an admin set.
 */

const shots = screenshotter(artifactsDir('console'));
/** The retention job's interval in the settings: the scheduler recognises its tick by it. */
const RETENTION_SECONDS = 4321;

describe.skipIf(chromiumMissing())('Pier One pages: deleted tags, storage and retention', () => {
  let running: ConsolePlatform;
  let platform: RunningPlatform;
  let browser: ConsoleBrowser;
  let adminBrowser: ConsoleBrowser;
  let page: Page;
  const ticks = new Map<number, () => void>();
  const scheduler: Scheduler = {
    every(ms, fn) {
      ticks.set(ms, fn);
      return () => ticks.delete(ms);
    },
  };
  const artifact = 'housekeeping';
  const section = (id: string) => page.locator(`section[aria-labelledby="${id}"]`);

  async function tokenOf(p: Page): Promise<string> {
    return accessTokenOf(await p.evaluate((key) => sessionStorage.getItem(key), CONSOLE_SESSION_KEY));
  }
  async function pierone(method: string, path: string, token: string, body?: unknown) {
    const response = await fetch(`${platform.urls.pierone}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    expect(response.status, await response.clone().text()).toBe(200);
    return response.json() as Promise<unknown>;
  }

  beforeAll(async () => {
    running = await startConsolePlatform({
      name: 'console-pierone',
      settings: () => ({ pierone: { retention: { intervalSeconds: RETENTION_SECONDS } } }),
      scheduler,
    });
    platform = running.platform;
    browser = await launchConsoleBrowser('console-pierone');
    page = browser.page;
    adminBrowser = await launchConsoleBrowser('console-pierone-admin');
  }, 180_000);

  afterAll(async () => {
    await browser?.stop();
    await adminBrowser?.stop();
    await running?.stop();
  });

  it('shows the retention rule and its dry run, then the deletion by the job with its reason, and the quota', async () => {
    await signIn(page, running.consoleUrl, DEMO_USER, '/applications');
    const token = await tokenOf(page);
    const registry = new URL(platform.urls.pierone).host;
    const builder = await ImageBuilder.create();
    try {
      for (const tag of ['1.0', '2.0', '3.0']) {
        const image = await builder.image(tag, [{ 'app/version.txt': tag }]);
        const push = await skopeo([
          ...copyArgs({ destToken: token }),
          image,
          `docker://${registry}/demo/${artifact}:${tag}`,
        ]);
        expect(push.code, push.stderr).toBe(0);
      }
    } finally {
      await builder.dispose();
    }
    // A member of demo sets the repository's rule; a platform admin sets the team's quota.
    await pierone('PUT', `/teams/demo/artifacts/${artifact}/retention-rule`, token, {
      keep_last: 2,
      keep_patterns: ['release-*'],
    });
    await signIn(
      adminBrowser.page,
      running.consoleUrl,
      { uid: 'admin', password: 'admin-demo' },
      '/applications',
    );
    await pierone('PUT', '/teams/demo/quota', await tokenOf(adminBrowser.page), { bytes: 50 * 1024 * 1024 });

    await page.goto(`${running.consoleUrl}/artifacts/demo/${artifact}`);
    await expect
      .poll(() => section('retention-heading').locator('p').first().textContent())
      .toMatch(/^Rule of demo\/housekeeping: keep the newest 2 tags; always keep release-\*set by jdoe on /);
    expect(await section('retention-heading').locator('.retention-plan li').allTextContents()).toEqual([
      '1.0 (retention rule demo/housekeeping: not among the newest 2 tags)',
    ]);
    expect(await section('deleted-heading').textContent()).toContain(
      'No tag of demo/housekeeping was deleted.',
    );
    const storage = section('storage-heading');
    await expect
      .poll(() => storage.locator('.dl-row', { hasText: 'Team demo' }).locator('dd').textContent())
      .toMatch(
        /^\d+(\.\d)? (B|KiB) of a 50(\.0)? MiB quota \(0 %\)each blob counted once per team, in 1 repository$/,
      );
    expect(
      await storage.locator('.dl-row', { hasText: 'This repository' }).locator('dd').textContent(),
    ).toMatch(/^\d+(\.\d)? (B|KiB)$/);
    await shots(page, 'pierone-01-retention-dry-run');

    // The platform's retention job, on its tick.
    const tick = ticks.get(RETENTION_SECONDS * 1000);
    expect(tick, 'the retention job is scheduled').toBeDefined();
    tick!();
    await platform.jobs.idle();

    await page.reload();
    const deleted = section('deleted-heading').locator('.deleted-tags li');
    await expect.poll(() => deleted.count()).toBe(1);
    expect(await deleted.textContent()).toMatch(
      /^1\.0: deleted by pierone-retention on .+ because retention rule demo\/housekeeping: not among the newest 2 tags$/,
    );
    await expect
      .poll(() => section('retention-heading').textContent())
      .toContain('The next retention run would delete nothing here.');
    expect(await section('tags-heading').locator('tbody td code').allTextContents()).not.toContain('1.0');
    await shots(page, 'pierone-02-deleted-by-retention');
  }, 120_000);
});
