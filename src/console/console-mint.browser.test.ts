import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
 * mint in the console, in Debian's Chromium against the real platform (mint's worker running
 * every second, buckets on disk): configure an application's OAuth client with scopes chosen
 * from essentials, change its access control, rotate now and see the rotation time move, edit
 * the redirect URL (https only) and confidentiality, and find the application under the resource
 * type's "Used by".
 */

const shots = screenshotter(artifactsDir('console'));

describe.skipIf(chromiumMissing())('mint in the console', { timeout: 60_000 }, () => {
  let running: ConsolePlatform;
  let platform: RunningPlatform;
  let browser: ConsoleBrowser;
  let page: Page;
  let consoleUrl: string;
  const appId = 'mint-console-app';
  // Essentials gives a type named after an application to that application's team.
  const typeId = `${appId}.orders`;
  let rotationBeforeSave: string | null = null;

  const shot = (name: string) => shots(page, name);

  const heading = () => page.locator('main h1');
  const fact = (label: string) => page.locator('dl[aria-label="OAuth client"] .dl-row', { hasText: label });
  const passwordRotation = () => fact('Last password rotation').locator('time').getAttribute('datetime');

  /** Sets things up the way a team would with the CLI, with the signed-in person's own token. */
  async function put(service: 'kio' | 'essentials', path: string, body: unknown): Promise<void> {
    const token = await page.evaluate(
      () =>
        (JSON.parse(sessionStorage.getItem('stups.console.session') ?? '{}') as { accessToken?: string })
          .accessToken,
    );
    const response = await fetch(`${platform.urls[service]}${path}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(response.status, `${path}: ${await response.clone().text()}`).toBeLessThan(300);
  }

  beforeAll(async () => {
    running = await startConsolePlatform({
      name: 'console-mint',
      // A short grace: mint queues a rotation until the previous generation's grace has ended.
      settings: () => ({ mint: { rotationIntervalSeconds: 1, retirementGraceSeconds: 2 } }),
    });
    platform = running.platform;
    expect(platform.listening).toEqual(expect.arrayContaining(['console', 'mint']));
    consoleUrl = running.consoleUrl;
    browser = await launchConsoleBrowser('console-mint');
    page = browser.page;
    await signIn(page, consoleUrl, { uid: 'jdoe', password: 'jdoe-demo' });
    await put('kio', `/apps/${appId}`, { team_id: 'demo', name: 'Mint Console App', active: true });
    await put('essentials', `/resource-types/${typeId}`, {
      name: 'Console orders',
      resource_owners: ['employees'],
    });
    await put('essentials', `/resource-types/${typeId}/scopes/read`, {
      summary: 'Read orders',
      is_resource_owner_scope: false,
    });
    await put('essentials', `/resource-types/${typeId}/scopes/write`, {
      summary: 'Change orders',
      is_resource_owner_scope: false,
    });
    await put('essentials', `/resource-types/${typeId}/scopes/own`, {
      summary: 'Read the orders of the signed-in person',
      is_resource_owner_scope: true,
    });
  }, 180_000);

  afterAll(async () => {
    await browser?.stop();
    await running?.stop();
  });

  it('configures mint for an application with scopes chosen from essentials', async () => {
    await page.goto(`${consoleUrl}/applications/${appId}`);
    await expect.poll(() => heading().textContent()).toBe('Mint Console App');
    await expect
      .poll(() => page.locator('.state-empty', { hasText: 'mint has no configuration' }).count())
      .toBe(1);
    const form = page.getByRole('form', { name: 'Configure mint' });
    // Grouped by resource type; the kinds are explained once.
    const group = form.locator('fieldset', { hasText: 'Console orders' });
    await expect.poll(() => group.locator('input[type="checkbox"]').count()).toBe(3);
    expect(await form.textContent()).toContain('Resource owner scopes');
    await form.getByLabel('Bucket').fill('demo-mint-console');
    await group.getByLabel(`${typeId}.read`).check();
    await shot('mint-01-configure');
    await form.getByRole('button', { name: 'Configure mint' }).click();

    await expect.poll(() => fact('Client id').locator('dd').textContent()).toBe(`stups_${appId}`);
    expect(await fact('Client type').locator('dd').textContent()).toBe('confidential');
    // The worker's first run rotates both credentials.
    await expect.poll(passwordRotation, { timeout: 15_000 }).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(await fact('Status').locator('dd').textContent()).toBe('no problems');
  });

  it('changes the access control, keeping the rest of the configuration', async () => {
    const access = page.getByRole('form', { name: 'Access control' });
    await expect.poll(() => access.getByLabel(`${typeId}.read`).isChecked()).toBe(true);
    await access.getByLabel(`${typeId}.write`).check();
    await access.getByLabel(`${typeId}.own`).check();
    rotationBeforeSave = await passwordRotation();
    await access.getByRole('button', { name: 'Save scopes' }).click();
    await expect.poll(() => access.getByRole('status').textContent()).toContain('Saved');

    await page.reload();
    await expect
      .poll(() =>
        page.getByRole('form', { name: 'Access control' }).getByLabel(`${typeId}.write`).isChecked(),
      )
      .toBe(true);
    expect(
      await page.getByRole('form', { name: 'Access control' }).getByLabel(`${typeId}.own`).isChecked(),
    ).toBe(true);
    expect(await fact('Buckets').locator('dd').textContent()).toBe('demo-mint-console');
    expect(await fact('Client type').locator('dd').textContent()).toBe('confidential');
  });

  it('rotates now and shows the new rotation time', async () => {
    // The scope change made the application due: let the worker finish that rotation first, so
    // that the time compared below is the one the button's rotation replaces.
    await expect.poll(passwordRotation, { timeout: 15_000 }).not.toBe(rotationBeforeSave);
    const before = await passwordRotation();
    // Same machine, same clock: the rotation the button asks for happens after the click.
    const clicked = Date.now();
    await page.getByRole('button', { name: 'Rotate now' }).click();
    await expect
      .poll(() => page.locator('.notice[role="status"]').textContent())
      .toContain('Rotation requested');
    await expect
      .poll(async () => Date.parse((await passwordRotation()) ?? '') >= clicked, { timeout: 15_000 })
      .toBe(true);
    expect(await passwordRotation()).not.toBe(before);
    expect(await fact('Last client rotation').locator('time').getAttribute('datetime')).not.toBeNull();
    await shot('mint-02-rotated');
  });

  it('edits the redirect URL and confidentiality, refusing an address that is not https', async () => {
    const settings = page.getByRole('form', { name: 'OAuth client settings' });
    const redirect = settings.getByLabel('Redirect URL');
    await redirect.fill('http://mint-console-app.example.org/callback');
    await settings.getByRole('button', { name: 'Save client settings' }).click();
    await expect
      .poll(() => settings.locator('#mint-redirect-url-problem').textContent())
      .toContain('must start with https://');
    expect(await redirect.getAttribute('aria-invalid')).toBe('true');
    // The problem is announced with the field.
    expect(await redirect.getAttribute('aria-describedby')).toContain('mint-redirect-url-problem');
    expect(await fact('Redirect URL').locator('dd').textContent()).toBe('not set');
    await page.setViewportSize(NARROW);
    await shot('mint-04-redirect-refused-390');
    await page.setViewportSize(DESKTOP);

    await redirect.fill('https://mint-console-app.example.org/callback');
    await settings.getByLabel(/Confidential client/).uncheck();
    await settings.getByRole('button', { name: 'Save client settings' }).click();
    await expect.poll(() => settings.getByRole('status').textContent()).toContain('Saved');
    expect(await settings.locator('#mint-redirect-url-problem').count()).toBe(0);
    // The panel's status refresh (every 3 s) shows what mint stored.
    await expect
      .poll(() => fact('Redirect URL').locator('dd').textContent(), { timeout: 10_000 })
      .toBe('https://mint-console-app.example.org/callback');
    expect(await fact('Client type').locator('dd').textContent()).toBe('public');

    // Stored by mint, not just shown: after a reload, with buckets and scopes kept.
    await page.reload();
    await expect.poll(() => fact('Client type').locator('dd').textContent()).toBe('public');
    expect(await fact('Redirect URL').locator('dd').textContent()).toBe(
      'https://mint-console-app.example.org/callback',
    );
    expect(await fact('Buckets').locator('dd').textContent()).toBe('demo-mint-console');
    expect(
      await page.getByRole('form', { name: 'Access control' }).getByLabel(`${typeId}.write`).isChecked(),
    ).toBe(true);
    expect(
      await page
        .getByRole('form', { name: 'OAuth client settings' })
        .getByLabel(/Confidential client/)
        .isChecked(),
    ).toBe(false);
    await shot('mint-05-client-settings');
  });

  it('lists the application under the resource type it uses', async () => {
    await page.goto(`${consoleUrl}/resource-types/${typeId}`);
    await expect.poll(() => heading().textContent()).toBe('Console orders');
    const usedBy = page.locator('section[aria-labelledby="used-by-heading"]');
    await expect.poll(() => usedBy.getByRole('link').allTextContents()).toEqual([appId]);
    expect(await usedBy.getByRole('link').getAttribute('href')).toBe(`/applications/${appId}`);
    await shot('mint-03-used-by');
  });

  it('passes axe at 1280 and 390 pixels', async () => {
    const found: string[] = [];
    for (const where of [`/applications/${appId}`, `/resource-types/${typeId}`]) {
      for (const viewport of [DESKTOP, NARROW]) {
        await page.setViewportSize(viewport);
        await page.goto(`${consoleUrl}${where}`);
        await expect.poll(() => page.locator('[role="status"].state-loading').count()).toBe(0);
        await expect.poll(() => heading().count()).toBe(1);
        if (where.startsWith('/applications')) {
          await expect.poll(() => page.getByRole('form', { name: 'Access control' }).count()).toBe(1);
        }
        for (const line of await axeViolations(page)) found.push(`${viewport.width} ${where}: ${line}`);
        expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(
          viewport.width,
        );
      }
    }
    await page.setViewportSize(DESKTOP);
    expect(found).toEqual([]);
  });
});
