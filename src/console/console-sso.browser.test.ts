import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../platform/logger.js';
import { PORT_BLOCK_SIZE } from '../platform/service-context.js';
import { skipWithout } from '../platform/test-support/required-parts.js';
import { freePortBlock } from '../stups/free-ports.js';
import { type RunningPlatform, startPlatform } from '../stups/runtime.js';
import { parseSettingsTree } from '../stups/settings.js';
import { buildWeb } from './test-support/build-web.js';

/*
 * Issue 15 item 11: single sign-on through the token service's session. Two tabs of one browser
 * against the real platform: the second tab gets in without the password, and signing out in
 * one tab ends the session at the token service and signs the other tab out too.
 */

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = fileURLToPath(new URL('../../test-artifacts/console-sso/', import.meta.url));
const DESKTOP = { width: 1280, height: 900 };

const canRun = !skipWithout(
  'chromium',
  existsSync(CHROMIUM) ? undefined : `${CHROMIUM} is missing (bash scripts/ensure-system-packages.sh)`,
);

describe.skipIf(!canRun)('single sign-on across console tabs', () => {
  let dataDir: string;
  let profile: string;
  let platform: RunningPlatform;
  let browser: BrowserContext;
  let consoleUrl: string;
  const heading = (p: Page) => p.locator('main h1');
  const shot = (p: Page, name: string) => p.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

  beforeAll(async () => {
    const webDir = await buildWeb();
    await mkdir(SHOTS, { recursive: true });
    dataDir = await mkdtemp(join(tmpdir(), 'console-sso-data-'));
    profile = await mkdtemp(join(tmpdir(), 'console-sso-chromium-'));
    const basePort = await freePortBlock(PORT_BLOCK_SIZE);
    platform = await startPlatform(
      parseSettingsTree({
        platform: { dataDir, basePort, logLevel: 'warn' },
        console: { staticDir: webDir },
      }),
      {
        logger: silentLogger(),
      },
    );
    consoleUrl = platform.urls.console;
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      viewport: DESKTOP,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
    });
    browser.setDefaultTimeout(15_000);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await platform?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
    if (profile) await rm(profile, { recursive: true, force: true });
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
