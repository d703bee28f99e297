import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  artifactsDir,
  chromiumMissing,
  type ConsoleBrowser,
  type ConsolePlatform,
  launchConsoleBrowser,
  screenshotter,
  startConsolePlatform,
} from './test-support/console-harness.js';

/*
 * Issue 15 item 11: single sign-on through the token service's session. Two tabs of one browser
 * against the real platform: the second tab gets in without the password, and signing out in
 * one tab ends the session at the token service and signs the other tab out too.
 */

const shot = screenshotter(artifactsDir('console-sso'));

describe.skipIf(chromiumMissing())('single sign-on across console tabs', () => {
  let running: ConsolePlatform;
  let launched: ConsoleBrowser;
  let browser: BrowserContext;
  let consoleUrl: string;
  const heading = (p: Page) => p.locator('main h1');

  beforeAll(async () => {
    running = await startConsolePlatform({ name: 'console-sso' });
    consoleUrl = running.consoleUrl;
    launched = await launchConsoleBrowser('console-sso');
    browser = launched.context;
  }, 180_000);

  afterAll(async () => {
    await launched?.stop();
    await running?.stop();
  });

  it('signs in once for every tab, and signing out in one tab signs out all', async () => {
    const tab1 = browser.pages()[0] ?? (await browser.newPage());
    await tab1.goto(`${consoleUrl}/applications`);
    await expect.poll(() => heading(tab1).textContent()).toBe('Sign in to the STUPS console');
    await tab1.getByRole('button', { name: 'Sign in' }).click();
    await tab1.getByLabel('User name').fill('jdoe');
    await tab1.getByLabel('Password').fill('jdoe-demo');
    await tab1.keyboard.press('Enter');
    await tab1.waitForURL(`${consoleUrl}/applications`);
    await expect.poll(() => heading(tab1).textContent()).toBe('Applications');

    // Tab 2: the console asks the token service silently (prompt=none) and the session answers.
    const tab2 = await browser.newPage();
    const authorizations: string[] = [];
    tab2.on('request', (request) => {
      if (request.isNavigationRequest() && request.url().includes('/oauth2/authorize'))
        authorizations.push(request.url());
    });
    let loginPageShown = false;
    tab2.on('framenavigated', async (frame) => {
      if (frame === tab2.mainFrame() && frame.url().includes('/oauth2/authorize')) loginPageShown = true;
    });
    await tab2.goto(`${consoleUrl}/applications`);
    await tab2.waitForURL(`${consoleUrl}/applications`);
    await expect.poll(() => heading(tab2).textContent()).toBe('Applications');
    expect(loginPageShown).toBe(false);
    expect(authorizations).toHaveLength(1);
    expect(new URL(authorizations[0]!).searchParams.get('prompt')).toBe('none');
    const sidebar = tab2.getByRole('navigation', { name: 'Main' });
    await expect.poll(() => sidebar.locator('.who-name').textContent()).toBe('Jane Doe');
    await shot(tab2, '01-second-tab-signed-in');

    // Sign out in tab 2: it comes back from the token service signed out ...
    await tab2.getByRole('button', { name: 'Sign out' }).click();
    await expect.poll(() => heading(tab2).textContent()).toBe('Sign in to the STUPS console');
    await tab2.waitForURL(`${consoleUrl}/`);
    await expect.poll(() => tab2.locator('main').textContent()).toContain('You are signed out.');
    // ... and tab 1, untouched, shows signed out too and has forgotten its tokens.
    await expect.poll(() => heading(tab1).textContent()).toBe('Sign in to the STUPS console');
    expect(await tab1.locator('main').textContent()).toContain('You signed out in another tab.');
    expect(await tab1.evaluate(() => sessionStorage.getItem('stups.console.session'))).toBeNull();
    await shot(tab1, '02-first-tab-signed-out');

    // The token service's session is gone: signing in asks for the password again, in any tab.
    await tab1.getByRole('button', { name: 'Sign in' }).click();
    await tab1.waitForURL(/\/oauth2\/authorize\?/);
    await expect.poll(() => tab1.getByLabel('Password').count()).toBe(1);
    const tab3 = await browser.newPage();
    await tab3.goto(`${consoleUrl}/applications`);
    await expect.poll(() => heading(tab3).textContent()).toBe('Sign in to the STUPS console');
    expect(await tab3.locator('main').textContent()).not.toContain('did not complete');
  }, 120_000);
});
