import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyArgs, ImageBuilder, skopeo } from '../pierone/test-support/registry-harness.js';
import { sshKeygen } from '../platform/test-support/ssh-keygen.js';
import type { RunningPlatform } from '../stups/runtime.js';
import { axeViolations, contrastRatio } from './test-support/axe.js';
import {
  artifactsDir,
  chromiumMissing,
  type ConsoleBrowser,
  type ConsolePlatform,
  DESKTOP,
  launchConsoleBrowser,
  NARROW,
  screenshotter,
  startConsolePlatform,
} from './test-support/console-harness.js';

/*
 * The console in a real browser (Debian's Chromium, headless) against the real platform as
 * `stups up` starts it: sign in at the token service's login page, create an application,
 * push its image, find it, edit it, and define a resource type with a scope.
 */

const shots = screenshotter(artifactsDir('console'));

describe.skipIf(chromiumMissing())('the console in a browser', () => {
  let running: ConsolePlatform;
  let platform: RunningPlatform;
  let browser: ConsoleBrowser;
  let page: Page;
  let consoleUrl: string;
  const appId = 'hello-console';
  const revision = '4f2a9c1e0b7d3a5c6e8f9012a3b4c5d6e7f80912';
  let sshFingerprint = '';

  const shot = (name: string) => shots(page, name);

  const heading = () => page.locator('main h1');

  beforeAll(async () => {
    running = await startConsolePlatform({ name: 'console-e2e' });
    platform = running.platform;
    expect(platform.listening).toContain('console');
    consoleUrl = running.consoleUrl;
    browser = await launchConsoleBrowser('console-e2e');
    page = browser.page;
  }, 180_000);

  afterAll(async () => {
    await browser?.stop();
    await running?.stop();
  });

  it('signs in through the token service and comes back to the deep link', async () => {
    await page.goto(`${consoleUrl}/applications`);
    await expect.poll(() => heading().textContent()).toBe('Sign in to the STUPS console');
    await shot('01-sign-in');
    await page.getByRole('button', { name: 'Sign in' }).click();

    await page.getByLabel('User name').fill('jdoe');
    expect(page.url()).toMatch(new RegExp(`^${platform.urls['token-service']}/oauth2/authorize\\?`));
    expect(new URL(page.url()).searchParams.get('code_challenge_method')).toBe('S256');
    await page.getByLabel('Password').fill('jdoe-demo');
    await page.keyboard.press('Enter');

    await page.waitForURL(`${consoleUrl}/applications`);
    await expect.poll(() => heading().textContent()).toBe('Applications');
    const sidebar = page.getByRole('navigation', { name: 'Main' });
    await expect.poll(() => sidebar.locator('.who-name').textContent()).toBe('Jane Doe');
    expect(await sidebar.locator('.who-teams li').allTextContents()).toEqual(['demo']);
    // Other teams' applications from the demo organisation are listed apart from one's own.
    await expect.poll(() => page.locator('#other-heading + * a', { hasText: 'Kio' }).count()).toBe(1);
    await shot('02-applications');
  });

  it('creates an application, checking the id while typing', async () => {
    await page.getByRole('link', { name: 'New application' }).click();
    await expect.poll(() => heading().textContent()).toBe('New application');
    const id = page.getByLabel('Application id');
    await id.fill('Hello');
    await expect.poll(() => page.locator('#id-status').textContent()).toBe('Use lowercase letters only.');
    await id.fill('kio');
    await expect.poll(() => page.locator('#id-status').textContent()).toContain('kio is taken');
    await id.fill(appId);
    await expect.poll(() => page.locator('#id-status').textContent()).toBe(`✓ ${appId} is free.`);
    await page.getByLabel('Name', { exact: false }).first().fill('Hello Console');
    await page.getByLabel('Description').fill('Says hello from the console walkthrough.');
    await page.getByLabel('Source code URL').fill(`https://git.example.org/demo/${appId}`);
    await shot('03-application-form');
    await page.getByRole('button', { name: 'Create application' }).click();

    await page.waitForURL(`${consoleUrl}/applications/${appId}`);
    await expect.poll(() => heading().textContent()).toBe('Hello Console');
    await expect
      .poll(() => page.locator('.state-empty', { hasText: 'No image of' }).textContent())
      .toContain(`No image of demo/${appId} was pushed yet.`);
  });

  it('shows the scm-source commit of a pushed image, and finds both by search', async () => {
    const token = await page.evaluate(
      () =>
        (JSON.parse(sessionStorage.getItem('stups.console.session')!) as { accessToken: string }).accessToken,
    );
    const builder = await ImageBuilder.create();
    try {
      const scm = { url: `git@git.example.org:demo/${appId}.git`, revision, author: 'jdoe', status: '' };
      const image = await builder.image('1.0', [
        { 'scm-source.json': JSON.stringify(scm), 'app/hello.txt': 'hi' },
      ]);
      const registry = new URL(platform.urls.pierone).host;
      const push = await skopeo([
        ...copyArgs({ destToken: token }),
        image,
        `docker://${registry}/demo/${appId}:1.0`,
      ]);
      expect(push.stderr).toBe('');
      expect(push.code).toBe(0);
    } finally {
      await builder.dispose();
    }

    await page.getByRole('link', { name: 'Search' }).click();
    await page.getByRole('searchbox').fill(appId);
    await page.keyboard.press('Enter');
    await page.waitForURL(`${consoleUrl}/search?q=${appId}`);
    const appHit = page.locator('#apps-heading + ul a', { hasText: 'Hello Console' });
    const imageHit = page.locator('#images-heading + ul a', { hasText: `demo/${appId}` });
    await expect.poll(() => appHit.count()).toBe(1);
    await expect.poll(() => imageHit.count()).toBe(1);
    await shot('04-search');

    await imageHit.click();
    await page.waitForURL(`${consoleUrl}/artifacts/demo/${appId}`);
    // The newest image in detail: how to pull it, who pushed it, its size and layers (from the registry's manifest).
    const facts = page.locator('#latest-heading + .facts');
    await expect
      .poll(() => facts.locator('.pull').textContent())
      .toBe(`docker pull ${new URL(platform.urls.pierone).host}/demo/${appId}:1.0`);
    expect(await facts.locator('.dl-row', { hasText: 'Pushed' }).getByRole('link').textContent()).toBe(
      'jdoe',
    );
    expect(await facts.locator('.dl-row', { hasText: 'Layers' }).locator('dd').textContent()).toMatch(
      /^1 layer/,
    );
    expect(await facts.locator('.layers li').count()).toBe(1);
    expect(await facts.locator('.dl-row', { hasText: 'Size' }).locator('dd').textContent()).toMatch(
      /^\d+(\.\d)? (B|KiB) compressed$/,
    );
    await shot('04b-image');
    // Every tag row leads to the trace of that image.
    await page
      .getByRole('link', { name: `Trace demo/${appId}:1.0` })
      .first()
      .click();
    await page.waitForURL(
      (url) => url.pathname === '/trace' && url.searchParams.get('subject') === `demo/${appId}:1.0`,
    );
    const trace = page.getByRole('list', { name: `Trace of demo/${appId}:1.0` });
    await expect.poll(() => trace.count()).toBe(1);
    // This platform has no AWS: where the version runs is left unchecked, said why; the chain
    // through Pier One and Kio is still drawn.
    await expect
      .poll(() => trace.getByRole('article', { name: /^Deployments: / }).textContent())
      .toContain('not checked: cannot read CloudFormation: ');
    await page.goBack();
    await page.waitForURL(`${consoleUrl}/artifacts/demo/${appId}`);
    await page.getByRole('link', { name: 'Hello Console' }).click();
    await page.waitForURL(`${consoleUrl}/applications/${appId}`);
    // The application page leads to its image page.
    expect(
      await page
        .locator('#images-heading + p')
        .getByRole('link', { name: `demo/${appId}` })
        .getAttribute('href'),
    ).toBe(`/artifacts/demo/${appId}`);
    const commit = page.getByRole('link', { name: revision.slice(0, 12) });
    await expect
      .poll(() => commit.getAttribute('href'))
      .toBe(`https://git.example.org/demo/${appId}/commit/${revision}`);
    expect(await page.locator('td code', { hasText: '1.0' }).count()).toBe(1);
    await shot('05-application-detail');
  });

  it('edits the application and shows the change in its history', async () => {
    await page.getByRole('link', { name: 'Edit' }).click();
    await expect.poll(() => heading().textContent()).toBe(`Edit ${appId}`);
    await page.getByLabel('Subtitle').fill('The friendliest service');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.waitForURL(`${consoleUrl}/applications/${appId}`);
    await expect.poll(() => page.locator('.subtitle').textContent()).toBe('The friendliest service');
    const history = page.locator('.history');
    await expect.poll(() => history.locator('li').first().textContent()).toContain('Changed by jdoe');
    expect(await history.locator('.changes li').first().textContent()).toBe(
      'subtitle: (empty) → The friendliest service',
    );

    // A deep link survives a reload: the server answers with the app, the session is in the tab.
    await page.reload();
    await expect.poll(() => heading().textContent()).toBe('Hello Console');
  });

  it('creates a resource type and scopes under the resource-owner rule', async () => {
    await page.getByRole('link', { name: 'Resource types' }).click();
    await expect
      .poll(() => page.locator('.state-empty').textContent())
      .toContain('No resource type exists yet.');
    await page.getByRole('link', { name: 'New resource type' }).click();
    await page.getByLabel('Resource type id').fill(`${appId}.greeting`);
    await expect.poll(() => page.locator('#rt-id-status').textContent()).toBe(`✓ ${appId}.greeting is free.`);
    await page.locator('#rt-name').fill('Greetings');
    await page.getByRole('button', { name: 'Create resource type' }).click();
    await page.waitForURL(`${consoleUrl}/resource-types/${appId}.greeting`);
    await expect
      .poll(() => page.locator('section[aria-labelledby="scopes-heading"] .state-empty').textContent())
      .toBe('This resource type has no scope yet.');

    await page.getByRole('link', { name: 'New scope' }).click();
    // No owners: only an application scope is possible, and the form says why.
    expect(await page.getByLabel('Resource owner scope').isDisabled()).toBe(true);
    expect(await page.locator('#kind-resource-owner-help').textContent()).toContain('has no resource owners');
    await page.getByLabel('Scope id').fill('read');
    await page.getByLabel('Summary').fill('Read greetings');
    await shot('06-scope-form');
    await page.getByRole('button', { name: 'Create scope' }).click();
    await page.waitForURL(`${consoleUrl}/resource-types/${appId}.greeting/scopes/read`);
    await expect.poll(() => heading().textContent()).toBe(`${appId}.greeting.read`);
    expect(await page.locator('#used-by-heading + .state-empty').textContent()).toContain(
      'No application uses this scope yet.',
    );
    await shot('07-scope-detail');
  });

  it('offers "Edit" and "New resource type" only to those the services would let write', async () => {
    // Kio of the stups team: jdoe may read it, not change it; the page says why instead of an Edit button.
    await page.goto(`${consoleUrl}/applications/kio`);
    await expect.poll(() => heading().textContent()).toBe('Kio');
    expect(await page.getByRole('link', { name: 'Edit' }).count()).toBe(0);
    expect(await page.locator('.notice').textContent()).toContain('only its members can change it');
    await page.goto(`${consoleUrl}/applications/${appId}`);
    await expect.poll(() => heading().textContent()).toBe('Hello Console');
    expect(await page.getByRole('link', { name: 'Edit' }).count()).toBe(1);
    // jdoe's team owns an application, so jdoe may name new resource types after it.
    await page.goto(`${consoleUrl}/resource-types`);
    await expect.poll(() => page.getByRole('link', { name: 'New resource type' }).count()).toBe(1);
    await page.getByRole('link', { name: 'New resource type' }).click();
    // A type named after another team's application is refused while typing, before the form is filled.
    await page.getByLabel('Resource type id').fill('kio.secrets');
    await expect
      .poll(() => page.locator('#rt-id-status').textContent())
      .toBe(
        'Only members of team stups, which owns the application kio, or administrators may create kio.secrets.',
      );
    // The type jdoe's team owns shows Edit and New scope.
    await page.goto(`${consoleUrl}/resource-types/${appId}.greeting`);
    await expect.poll(() => page.getByRole('link', { name: 'New scope' }).count()).toBe(1);
    expect(await page.getByRole('link', { name: 'Edit' }).count()).toBe(1);
  });

  it('explains failures in plain words', async () => {
    await page.goto(`${consoleUrl}/applications/no-such-app`);
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('does not exist');
    await page.goto(`${consoleUrl}/no/such/page`);
    await expect.poll(() => heading().textContent()).toBe('Page not found');
    // A stale callback link while signed in keeps the session and goes home.
    await page.goto(`${consoleUrl}/auth/callback?code=stale&state=stale`);
    await page.waitForURL(`${consoleUrl}/`);
    await expect.poll(() => heading().textContent()).toBe('Search');
  });

  it('can be used with the keyboard alone', async () => {
    await page.goto(`${consoleUrl}/resource-types`);
    await expect.poll(() => heading().textContent()).toBe('Resource types');
    // The first Tab on a fresh page reaches the skip link, then the brand, then the navigation.
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to content');
    for (const expected of ['YOUR TURN STUPS console', 'Search', 'Applications']) {
      await page.keyboard.press('Tab');
      expect(await page.evaluate(() => document.activeElement?.textContent)).toBe(expected);
    }
    await page.keyboard.press('Enter');
    await page.waitForURL(`${consoleUrl}/applications`);
    // Focus moves to the new page's heading, as a page load would put it.
    await expect.poll(() => page.evaluate(() => document.activeElement?.tagName)).toBe('H1');
    // Each page names itself in the title, which screen readers announce on navigation.
    expect(await page.title()).toBe('Applications · STUPS console');
  });

  it('adds an SSH key on "SSH keys", refusing a private key with the service\'s reason', async () => {
    // A fingerprint with "/" (base64) must survive the trip through the page's URL and the console's proxy
    // when the key is removed: keys are made until one has it (about every second key does).
    let key = await sshKeygen('ed25519', { comment: 'jdoe@console-test' });
    for (let i = 0; i < 40 && !key.fingerprint.includes('/'); i++) {
      key = await sshKeygen('ed25519', { comment: 'jdoe@console-test' });
    }
    expect(key.fingerprint).toContain('/');
    sshFingerprint = key.fingerprint;
    await page.getByRole('link', { name: 'SSH keys' }).click();
    await page.waitForURL(`${consoleUrl}/ssh-keys`);
    await expect.poll(() => heading().textContent()).toBe('SSH keys');
    expect(await page.title()).toBe('SSH keys · STUPS console');
    await expect
      .poll(() => page.locator('.state-empty').textContent())
      .toBe('You have no SSH key registered yet.');

    const input = page.getByLabel('Public key');
    await input.fill(key.privateKey);
    await page.getByRole('button', { name: 'Add key' }).click();
    await expect
      .poll(() => page.getByRole('alert').textContent())
      .toBe('The key was not added: this is a private key: upload the public key (.pub) only');

    await input.fill(key.publicKey);
    await page.getByRole('button', { name: 'Add key' }).click();
    const listed = page.locator('.key-list .fingerprint');
    await expect.poll(() => listed.allTextContents()).toEqual([key.fingerprint]);
    expect(await page.locator('.key-list .muted').textContent()).toContain('ssh-ed25519 … jdoe@console-test');
    expect(await input.inputValue()).toBe('');
    expect(await page.getByRole('alert').count()).toBe(0);
    await shot('10-ssh-keys');
  });

  it('shows a team with its members, applications and AWS accounts, and a member with teams and keys', async () => {
    await page.getByRole('link', { name: 'Teams' }).click();
    await page.waitForURL(`${consoleUrl}/teams`);
    await expect.poll(() => heading().textContent()).toBe('Teams');
    const demoRow = page.locator('tr', { has: page.getByRole('link', { name: 'Demo team' }) });
    await expect
      .poll(() => demoRow.locator('td').allTextContents())
      .toEqual(['Demo teamyour team', 'demo', '2']);
    await shot('11-teams');

    await page.getByRole('link', { name: 'Demo team' }).click();
    await page.waitForURL(`${consoleUrl}/teams/demo`);
    await expect.poll(() => heading().textContent()).toBe('Demo team');
    expect(await page.title()).toBe('demo · Teams · STUPS console');
    await expect
      .poll(() => page.locator('#members-heading + ul a').allTextContents())
      .toEqual(['Alice Example', 'Jane Doe']);
    expect(await page.locator('#members-heading + ul code').allTextContents()).toEqual(['alice', 'jdoe']);
    const app = page.locator('#team-apps-heading + ul a', { hasText: 'Hello Console' });
    await expect.poll(() => app.getAttribute('href')).toBe(`/applications/${appId}`);
    // Only the team's own applications: Kio of the stups team is not among them.
    expect(await page.locator('#team-apps-heading + ul a', { hasText: 'Kio' }).count()).toBe(0);
    expect(await page.locator('#accounts-heading + ul code').allTextContents()).toEqual(['222222222222']);
    await shot('12-team');

    // The application page leads back to its team.
    await app.click();
    await page.waitForURL(`${consoleUrl}/applications/${appId}`);
    await page.locator('.facts').getByRole('link', { name: 'demo', exact: true }).click();
    await page.waitForURL(`${consoleUrl}/teams/demo`);
    await expect.poll(() => heading().textContent()).toBe('Demo team');

    await page.locator('#members-heading + ul a', { hasText: 'Jane Doe' }).click();
    await page.waitForURL(`${consoleUrl}/people/jdoe`);
    await expect.poll(() => heading().textContent()).toBe('Jane Doe');
    expect(await page.getByRole('link', { name: 'jane.doe@example.org' }).count()).toBe(1);
    expect(await page.locator('#person-teams-heading + ul a').allTextContents()).toEqual(['Demo team']);
    expect(await page.locator('#person-keys-heading + ul code').allTextContents()).toEqual([sshFingerprint]);
    await shot('13-person');
    // The signed-in person's teams in the sidebar lead to the team pages.
    await page
      .getByRole('navigation', { name: 'Main' })
      .getByRole('link', { name: 'demo', exact: true })
      .click();
    await page.waitForURL(`${consoleUrl}/teams/demo`);
    await expect.poll(() => heading().textContent()).toBe('Demo team');
  });

  it('removes an SSH key after confirming', async () => {
    await page.goto(`${consoleUrl}/ssh-keys`);
    const listed = page.locator('.key-list .fingerprint');
    await expect.poll(() => listed.allTextContents()).toEqual([sshFingerprint]);
    // Declining the confirmation keeps the key.
    page.once('dialog', (dialog) => void dialog.dismiss());
    await page.getByRole('button', { name: `Remove key ${sshFingerprint}` }).click();
    expect(await listed.allTextContents()).toEqual([sshFingerprint]);
    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByRole('button', { name: `Remove key ${sshFingerprint}` }).click();
    await expect
      .poll(() => page.locator('.state-empty').textContent())
      .toBe('You have no SSH key registered yet.');
    // The removed key's button is gone: focus is on the list's heading, not on <body>.
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('keys-heading');
    // The person page reads the same directory: the key is gone there too.
    await page.goto(`${consoleUrl}/people/jdoe`);
    await expect
      .poll(() => page.locator('#person-keys-heading + .state-empty').textContent())
      .toBe('Jane Doe has registered no SSH key.');
    // Unknown teams and people are said so in words, under a heading that names what was asked for.
    await page.goto(`${consoleUrl}/teams/no-such-team`);
    await expect
      .poll(() => page.getByRole('alert').textContent())
      .toContain('team no-such-team does not exist');
    expect(await heading().textContent()).toBe('Team no-such-team');
    await page.goto(`${consoleUrl}/people/nobody`);
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('user nobody does not exist');
    expect(await heading().textContent()).toBe('nobody');
  });

  it('shows teams, a team, a person and SSH keys on a narrow screen without sideways scrolling', async () => {
    await page.setViewportSize(NARROW);
    try {
      const pages = [
        ['/teams', 'Teams', '14-narrow-teams'],
        ['/teams/demo', 'Demo team', '15-narrow-team'],
        ['/people/jdoe', 'Jane Doe', '16-narrow-person'],
        ['/ssh-keys', 'SSH keys', '17-narrow-ssh-keys'],
      ] as const;
      for (const [where, title, name] of pages) {
        await page.goto(`${consoleUrl}${where}`);
        await expect.poll(() => heading().textContent()).toBe(title);
        await expect.poll(() => page.locator('[role="status"].state-loading').count()).toBe(0);
        expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(
          NARROW.width,
        );
        // Ids are not broken mid-word: each short id in a code element is on one line.
        const brokenIds = await page.evaluate(() =>
          Array.from(document.querySelectorAll('main code'))
            .filter((c) => (c.textContent ?? '').length <= 20 && c.getClientRects().length > 1)
            .map((c) => c.textContent),
        );
        expect(brokenIds).toEqual([]);
        await shot(name);
      }
    } finally {
      await page.setViewportSize(DESKTOP);
    }
  });

  it('works on a narrow screen', async () => {
    await page.setViewportSize(NARROW);
    await page.goto(`${consoleUrl}/applications/${appId}`);
    await expect.poll(() => heading().textContent()).toBe('Hello Console');
    expect(await page.getByRole('navigation', { name: 'Main' }).isVisible()).toBe(false);
    // Nothing forces sideways scrolling of the page itself (wide tables scroll in their own box).
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(NARROW.width);
    await shot('08-narrow-application-detail');
    await page.getByRole('button', { name: 'Menu' }).click();
    expect(await page.getByRole('navigation', { name: 'Main' }).isVisible()).toBe(true);
    await shot('09-narrow-menu');
    // Escape closes the menu and gives focus back to the button that opened it.
    await page.keyboard.press('Escape');
    expect(await page.getByRole('navigation', { name: 'Main' }).isVisible()).toBe(false);
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Menu');
    await page.getByRole('button', { name: 'Menu' }).click();
    await page.getByRole('link', { name: 'Search' }).click();
    await page.waitForURL(`${consoleUrl}/search`);
    expect(await page.getByRole('navigation', { name: 'Main' }).isVisible()).toBe(false);
    // A short page starts right under the top bar (the empty sidebar row once pushed it ~490 px down).
    const gap = await page.evaluate(() => {
      const top = document.querySelector('.topbar')!.getBoundingClientRect().bottom;
      return document.querySelector('main')!.getBoundingClientRect().top - top;
    });
    expect(gap).toBeLessThan(2);
    await page.setViewportSize(DESKTOP);
  });

  it('passes axe-core (WCAG 2.1 A/AA) on every page, wide and narrow, light and dark', async () => {
    const pages = [
      '/search?q=hello',
      '/applications',
      '/applications/new',
      `/applications/${appId}`,
      `/applications/${appId}/edit`,
      `/artifacts/demo/${appId}`,
      '/resource-types',
      '/resource-types/new',
      `/resource-types/${appId}.greeting`,
      `/resource-types/${appId}.greeting/scopes/new`,
      `/resource-types/${appId}.greeting/scopes/read`,
      '/teams',
      '/teams/demo',
      '/people/jdoe',
      '/ssh-keys',
      '/access-requests',
      '/aws-accounts',
      '/audit',
      '/no/such/page',
    ];
    const found: string[] = [];
    try {
      // Each page is loaded once and checked in all four looks: the colour scheme and the width
      // are media queries the page follows live, so a reload per look only costs time (it was
      // three quarters of this test's ~50 s).
      for (const where of pages) {
        await page.goto(`${consoleUrl}${where}`);
        await expect.poll(() => heading().count()).toBe(1);
        await expect.poll(() => page.locator('[role="status"].state-loading').count()).toBe(0);
        for (const colorScheme of ['light', 'dark'] as const) {
          await page.emulateMedia({ colorScheme });
          for (const viewport of [DESKTOP, NARROW]) {
            await page.setViewportSize(viewport);
            // Two frames: whatever the page does on a resize or scheme change is painted.
            await page.evaluate(
              () => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))),
            );
            for (const line of await axeViolations(page))
              found.push(`${colorScheme} ${viewport.width} ${where}: ${line}`);
          }
        }
      }
      for (const colorScheme of ['light', 'dark'] as const) {
        await page.emulateMedia({ colorScheme });
        await page.setViewportSize(DESKTOP);
        await page.goto(`${consoleUrl}/applications/new`);
        await expect.poll(() => heading().textContent()).toBe('New application');
        await shot(`18-${colorScheme}-form`);
        // Non-text contrast (WCAG 1.4.11): a field's border and the focus ring stand out ≥ 3:1.
        const field = page.getByLabel('Application id');
        await field.focus();
        await page.keyboard.press('Shift+Tab');
        await page.keyboard.press('Tab');
        const colours = await field.evaluate((el) => {
          const style = getComputedStyle(el);
          const main = getComputedStyle(document.querySelector('main')?.parentElement ?? document.body);
          return {
            border: style.borderTopColor,
            field: style.backgroundColor,
            ring: style.outlineColor,
            ringStyle: style.outlineStyle,
            ground: main.backgroundColor,
          };
        });
        expect(colours.ringStyle).toBe('solid');
        expect(contrastRatio(colours.border, colours.field)).toBeGreaterThanOrEqual(3);
        expect(contrastRatio(colours.border, colours.ground)).toBeGreaterThanOrEqual(3);
        expect(contrastRatio(colours.ring, colours.ground)).toBeGreaterThanOrEqual(3);
      }
    } finally {
      await page.emulateMedia({ colorScheme: 'light' });
      await page.setViewportSize(DESKTOP);
    }
    expect(found).toEqual([]);
  }, 300_000);

  it('signs out', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await expect.poll(() => heading().textContent()).toBe('Sign in to the STUPS console');
    expect(await page.title()).toBe('Sign in · STUPS console');
    // Focus follows to the sign-in page instead of falling to <body>.
    await expect.poll(() => page.evaluate(() => document.activeElement?.tagName)).toBe('H1');
    expect(await page.evaluate(() => sessionStorage.getItem('stups.console.session'))).toBeNull();
    // The sign-in page passes axe too, in both colour schemes.
    for (const colorScheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme });
      expect(await axeViolations(page)).toEqual([]);
    }
    await page.emulateMedia({ colorScheme: 'light' });
  });
});
