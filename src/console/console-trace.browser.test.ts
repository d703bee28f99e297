import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { axeViolations } from './test-support/axe.js';
import { accessTokenOf, CONSOLE_SESSION_KEY } from './test-support/demo-data.js';
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
 * The trace page in Debian's Chromium against the real platform (the demo organisation): the
 * search box sends what it is given to fullstop's /api/trace, which walks the chain with the
 * signed-in person's token exactly as `stups trace` does; the chain comes back as a graph of boxes
 * joined top to bottom by coloured edges, each link with its status in words and, when it does not
 * hold, why.
 */

const shots = screenshotter(artifactsDir('console'));

describe.skipIf(chromiumMissing())('trace in the console', { timeout: 60_000 }, () => {
  let running: ConsolePlatform;
  let browser: ConsoleBrowser;
  let page: Page;
  let consoleUrl: string;

  const tree = () => page.getByRole('list', { name: /^Trace of / });
  const linkCard = (name: RegExp) => tree().getByRole('article', { name });

  beforeAll(async () => {
    running = await startConsolePlatform({ name: 'console-trace' });
    consoleUrl = running.consoleUrl;
    browser = await launchConsoleBrowser('console-trace');
    page = browser.page;
    await signIn(page, consoleUrl, { uid: 'jdoe', password: 'jdoe-demo' }, '/trace');
  }, 180_000);

  afterAll(async () => {
    await browser?.stop();
    await running?.stop();
  });

  async function traceFor(subject: string) {
    await page.getByLabel('Instance, stack, image, digest or application').fill(subject);
    await page.getByRole('button', { name: 'Trace' }).click();
    await page.waitForURL((url) => url.searchParams.get('subject') === subject);
  }

  it('is in the navigation and traces an application from the search box', async () => {
    await page.goto(`${consoleUrl}/search`);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Trace' }).click();
    await expect.poll(() => page.locator('main h1').textContent()).toBe('Trace');
    await traceFor('kio');
    await expect
      .poll(() => page.getByRole('status').filter({ hasText: 'chain' }).textContent())
      .toBe('The chain is whole.');
    const app = linkCard(/^Application \(Kio\): holds$/);
    await expect.poll(() => app.locator('code').textContent()).toBe('kio');
    await expect
      .poll(() => app.locator('dt').allTextContents())
      .toEqual(['team', 'active', 'criticality', 'specification_url']);
    await expect.poll(() => app.locator('dd').first().textContent()).toBe('stups');
    // The violations follow the application: the next box down, joined to it by a green edge.
    const nodes = tree().locator(':scope > li > article');
    await expect.poll(() => nodes.nth(1).getAttribute('aria-label')).toBe('Violations: holds');
    const [above, below] = [await nodes.nth(0).boundingBox(), await nodes.nth(1).boundingBox()];
    expect(below!.y).toBeGreaterThan(above!.y + above!.height);
    const edge = (n: number, part: '::before' | '::after') =>
      page.evaluate(
        ([i, p]) => {
          const li = document.querySelectorAll('.trace-graph .trace-path > li')[i]!;
          const style = getComputedStyle(li, p);
          return { display: style.display, colour: style.borderLeftColor, height: style.height };
        },
        [n, part] as const,
      );
    expect((await edge(0, '::before')).display).toBe('none'); // nothing above the first box
    const into = await edge(1, '::before');
    expect(into.display).toBe('block');
    const green = await page.evaluate(
      () => getComputedStyle(document.querySelector('.trace-link.ok')!).borderTopColor,
    );
    expect(into.colour).toBe(green);
    expect(await axeViolations(page)).toEqual([]);
    await shots(page, 'trace-whole');
  });

  it('names a broken link and why, and says the chain is broken', async () => {
    await traceFor('no-such-app');
    await expect
      .poll(() => page.getByRole('status').filter({ hasText: 'chain' }).textContent())
      .toBe('The chain is broken: Application (Kio).');
    const app = linkCard(/^Application \(Kio\): broken$/);
    await expect
      .poll(() => app.locator('.trace-why').textContent())
      .toBe('Why: app unknown: Kio has no such application');
    // Red and green differ, and the word says it too.
    await expect.poll(() => app.locator('.trace-status').textContent()).toBe('broken');
    const colours = await page.evaluate(() => {
      const box = document.querySelector('.trace-link.broken')!;
      const probe = document.createElement('span');
      probe.style.color = 'var(--good)';
      document.body.append(probe);
      const good = getComputedStyle(probe).color;
      probe.remove();
      return { broken: getComputedStyle(box).borderTopColor, good };
    });
    expect(colours.broken).not.toBe(colours.good);
    expect(await axeViolations(page)).toEqual([]);
  });

  it('shows the problem when the input is no traceable thing', async () => {
    await traceFor('NOT A THING');
    await expect
      .poll(() => page.locator('main').textContent())
      .toMatch(/"NOT A THING" is no instance id, stack, image reference, image digest or application id/);
  });

  it('is linked from an application page, which traces that application', async () => {
    await page.goto(`${consoleUrl}/applications/kio`);
    await page.locator('main').getByRole('link', { name: 'Trace', exact: true }).click();
    await page.waitForURL((url) => url.pathname === '/trace' && url.searchParams.get('subject') === 'kio');
    await expect
      .poll(() => page.getByLabel('Instance, stack, image, digest or application').inputValue())
      .toBe('kio');
    await expect
      .poll(() => page.getByRole('status').filter({ hasText: 'chain' }).textContent())
      .toBe('The chain is whole.');
    await expect
      .poll(() =>
        linkCard(/^Application \(Kio\): holds$/)
          .locator('code')
          .textContent(),
      )
      .toBe('kio');
  });

  it('is linked from a violation of an instance, which traces that instance', async () => {
    // An sshd login that no even grant covers, as Taupage pushes it: fullstop stores a violation
    // naming the instance.
    const token = accessTokenOf(
      await page.evaluate((key) => sessionStorage.getItem(key), CONSOLE_SESSION_KEY),
    );
    const instanceId = 'i-0c0ffee0c0ffee01';
    const at = new Date().toISOString();
    const pushed = await fetch(`${running.platform.urls.fullstop}/api/instance-logs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        account_id: '222222222222',
        region: 'eu-west-1',
        instance_boot_time: at.slice(0, 19).replace('T', ' '),
        instance_id: instanceId,
        log_type: 'AUDIT_LOG',
        log_data: Buffer.from(
          `${at} ip-10-0-1-5 sshd[812]: Accepted publickey for jdoe from 127.0.0.1 port 50022 ssh2\n`,
        ).toString('base64'),
      }),
    });
    expect(pushed.status).toBe(201);
    const found = await fetch(`${running.platform.urls.fullstop}/api/violations?instance-ids=${instanceId}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const body = (await found.json()) as { content: { id: number }[] };
    expect(body.content.length).toBeGreaterThan(0);
    await page.goto(`${consoleUrl}/violations/${body.content[0]!.id}`);
    await page.locator('main').getByRole('link', { name: 'Trace', exact: true }).click();
    await page.waitForURL(
      (url) => url.pathname === '/trace' && url.searchParams.get('subject') === instanceId,
    );
    await expect
      .poll(() => page.getByLabel('Instance, stack, image, digest or application').inputValue())
      .toBe(instanceId);
    // This platform has no AWS to read the instance from: the page says so, naming EC2 (502,
    // not a bare server error).
    await expect
      .poll(() => page.locator('main').textContent())
      .toMatch(/fullstop\. could not answer: trace: cannot read EC2: /);
  });

  it('works at phone width: nothing wider than the screen', async () => {
    await page.setViewportSize(NARROW);
    try {
      await traceFor('no-such-app');
      await expect.poll(() => linkCard(/^Application \(Kio\): broken$/).count()).toBe(1);
      const overflow = await page.evaluate(
        () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
      );
      expect(overflow).toBe(0);
      expect(await axeViolations(page)).toEqual([]);
      await shots(page, 'trace-narrow');
    } finally {
      await page.setViewportSize(DESKTOP);
    }
  });
});
