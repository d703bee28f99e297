import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { axeViolations, contrastRatio } from '../console/test-support/axe.js';
import { openTestDatabase } from '../platform/test-support/databases.js';
import { skipWithout } from '../platform/test-support/required-parts.js';
import {
  createFixture,
  pkcePair,
  submitLoginPage,
  TOKEN_SERVICE_TEST_MIGRATIONS,
  type TokenServiceFixture,
  ZIGN_REDIRECT,
} from './test-support.js';

/*
 * Issue 15 items 11 and 13: the token service's own pages (sign-in, device, sign-out, error) in a
 * real browser at desktop and phone size, in both colour schemes: landmarks, a title per page,
 * labelled fields, a visible focus ring of at least 3:1, no horizontal scrolling at 390 px, and
 * the pages' CSP (no scripts, only their own hashed style) left as it is.
 */

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = fileURLToPath(new URL('../../test-artifacts/token-service/', import.meta.url));
const SIZES = { desktop: { width: 1280, height: 900 }, phone: { width: 390, height: 844 } };

const canRun = !skipWithout(
  'chromium',
  existsSync(CHROMIUM) ? undefined : `${CHROMIUM} is missing (bash scripts/ensure-system-packages.sh)`,
);

/** Tabs to the first field or button, as a keyboard user does, and reads its focus ring. */
async function focusRing(page: Page) {
  for (let i = 0; i < 10; i++) {
    await page.keyboard.press('Tab');
    const tag = await page.evaluate(() => document.activeElement?.tagName);
    if (tag === 'INPUT' || tag === 'BUTTON') break;
  }
  return page.evaluate(() => {
    const focused = document.activeElement as HTMLElement;
    const style = getComputedStyle(focused);
    const card = getComputedStyle(document.querySelector('.card')!);
    return {
      tag: focused.tagName,
      ring: style.outlineColor,
      ringStyle: style.outlineStyle,
      ringWidth: style.outlineWidth,
      border: style.borderTopColor,
      ground: card.backgroundColor,
    };
  });
}

describe.skipIf(!canRun)("the token service's pages in a browser", () => {
  let f: TokenServiceFixture;
  let drop: () => Promise<void>;
  let base: string;
  let browser: Browser;
  let signedIn: Page;
  /** A browser without a session: the sign-out endpoint answers it with the signed-out page. */
  let anonymous: Page;
  const cspViolations: string[] = [];

  beforeAll(async () => {
    await mkdir(SHOTS, { recursive: true });
    const opened = await openTestDatabase('pglite', TOKEN_SERVICE_TEST_MIGRATIONS);
    drop = opened.drop;
    f = await createFixture(opened.database);
    base = await f.app.listen({ host: '127.0.0.1', port: 0 });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
    });
    const context = await browser.newContext();
    // Signed in, as after the login form: the browser holds a session cookie of the token service.
    const login = await submitLoginPage(f.app, await f.app.inject({ url: loginUrl() }));
    const session = /stups_session=([^;]+)/.exec(String(login.headers['set-cookie']))?.[1];
    expect(session).toBeTruthy();
    await context.addCookies([{ name: 'stups_session', value: session!, url: `${base}/oauth2/` }]);
    signedIn = await context.newPage();
    anonymous = await (await browser.newContext()).newPage();
    for (const p of [signedIn, anonymous]) {
      p.setDefaultTimeout(15_000);
      p.on('console', (message) => {
        if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text());
      });
    }
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await f?.close();
    await drop?.();
  });

  const loginUrl = () =>
    `${base}/oauth2/authorize?${new URLSearchParams({
      response_type: 'code',
      client_id: 'zign',
      redirect_uri: ZIGN_REDIRECT,
      scope: 'uid openid profile email offline_access',
      state: 'st',
      code_challenge: pkcePair().challenge,
      code_challenge_method: 'S256',
    })}`;

  const pages: { name: string; url: () => string; title: string; field?: string; anonymous?: boolean }[] = [
    { name: 'sign-in', url: loginUrl, title: 'Sign in to STUPS', field: 'User name', anonymous: true },
    // Signed in: Allow for the session's user; without a session: the password form.
    {
      name: 'device',
      url: () => `${base}/oauth2/device?user_code=WDJB-MJHT`,
      title: 'Device sign-in',
      field: 'Code',
    },
    {
      name: 'device-password',
      url: () => `${base}/oauth2/device?user_code=WDJB-MJHT`,
      title: 'Device sign-in',
      field: 'Password',
      anonymous: true,
    },
    // Asked only while signed in (see beforeAll): without a session there is nothing to confirm.
    { name: 'sign-out', url: () => `${base}/oauth2/logout?client_id=zign`, title: 'Sign out of STUPS' },
    { name: 'signed-out', url: () => `${base}/oauth2/logout`, title: 'Signed out', anonymous: true },
    { name: 'error', url: () => `${base}/oauth2/authorize?client_id=nobody`, title: 'Sign-in failed' },
  ];

  for (const target of pages) {
    it(`${target.name}: landmarks, title, labels, focus ring, no overflow at 390 px, axe clean in both schemes`, async () => {
      const page = target.anonymous ? anonymous : signedIn;
      for (const [sizeName, size] of Object.entries(SIZES)) {
        await page.setViewportSize(size);
        for (const colorScheme of ['light', 'dark'] as const) {
          await page.emulateMedia({ colorScheme });
          await page.goto(target.url());
          expect(await page.title()).toBe(`${target.title} · STUPS`);
          expect(await page.locator('header').count()).toBe(1);
          expect(await page.locator('main').count()).toBe(1);
          expect(await page.locator('main h1').textContent()).toBe(target.title);
          const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
          expect(scrollWidth, `${sizeName} ${colorScheme}`).toBeLessThanOrEqual(size.width);
          expect(await axeViolations(page), `${sizeName} ${colorScheme}`).toEqual([]);
          // Every input a person types into has a label (axe checks it too; this names the field).
          if (target.field) expect(await page.getByLabel(target.field).count()).toBe(1);
          // The keyboard focus ring: solid, and at least 3:1 against the card it sits on (WCAG 1.4.11).
          if (await page.locator('main input:not([type=hidden]), main button').count()) {
            const colours = await focusRing(page);
            expect(['INPUT', 'BUTTON'], JSON.stringify(colours)).toContain(colours.tag);
            expect(colours.ringStyle).toBe('solid');
            expect(parseFloat(colours.ringWidth)).toBeGreaterThanOrEqual(2);
            expect(contrastRatio(colours.ring, colours.ground)).toBeGreaterThanOrEqual(3);
            if (colours.tag === 'INPUT') {
              expect(contrastRatio(colours.border, colours.ground)).toBeGreaterThanOrEqual(3);
            }
          }
          await page.screenshot({
            path: join(SHOTS, `${target.name}-${sizeName}-${colorScheme}.png`),
            fullPage: true,
          });
        }
      }
      // The page kept its CSP (no scripts, only its hashed style), and the browser applied the style.
      const response = await page.goto(target.url());
      expect(response?.headers()['content-security-policy']).toMatch(
        /^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/=]+';/,
      );
      expect(await page.evaluate(() => getComputedStyle(document.body).margin)).toBe('0px');
      expect(cspViolations).toEqual([]);
    });
  }

  it('dark mode follows the system setting', async () => {
    const page = anonymous;
    await page.setViewportSize(SIZES.desktop);
    const background = async (colorScheme: 'light' | 'dark') => {
      await page.emulateMedia({ colorScheme });
      await page.goto(loginUrl());
      return page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
    };
    expect(await background('light')).toBe('rgb(246, 247, 249)');
    expect(await background('dark')).toBe('rgb(16, 21, 31)');
  });
});
