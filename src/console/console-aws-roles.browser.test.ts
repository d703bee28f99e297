import { writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { SAML, ValidateInResponseTo } from '@node-saml/node-saml';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { AWS_SAML_ATTRIBUTES } from '../token-service/aws/saml.js';
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

const DEV_ACCOUNT = '123456789012';
const PROD_ACCOUNT = '444444444444';
const MEMBER = { uid: 'mia', password: 'mia-pass-1' };
const AUDIENCE = 'urn:amazon:webservices';

/** What the stand-in for https://signin.aws.amazon.com/saml received. */
interface Received {
  SAMLResponse: string;
  RelayState: string | null;
}

/**
 * Stands in for the AWS sign-in endpoint (`token-service.aws.saml.destination`): takes the form
 * post the token service's page sends, and hands its fields to the test.
 */
async function startSamlCatcher(): Promise<{
  url: string;
  next(): Promise<Received>;
  stop(): Promise<void>;
}> {
  const waiting: ((received: Received) => void)[] = [];
  const early: Received[] = [];
  const server: Server = createServer((request, response) => {
    // Only the form post counts (the browser also asks for /favicon.ico).
    if (request.method !== 'POST' || request.url !== '/saml') {
      response.writeHead(404).end();
      return;
    }
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (body += chunk));
    request.on('end', () => {
      const form = new URLSearchParams(body);
      const received = { SAMLResponse: form.get('SAMLResponse') ?? '', RelayState: form.get('RelayState') };
      const resolve = waiting.shift();
      if (resolve) resolve(received);
      else early.push(received);
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      response.end(
        '<!doctype html><html lang="en"><title>AWS</title><h1>Signed in to AWS (stand-in)</h1></html>',
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/saml`,
    next: () => {
      const ready = early.shift();
      return ready ? Promise.resolve(ready) : new Promise<Received>((resolve) => waiting.push(resolve));
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const shot = screenshotter(artifactsDir('console'));

/**
 * Issue 19: the console's "AWS accounts and roles" page in Debian's Chromium against the real
 * platform. Its buttons post to the token service's IdP-initiated SSO, whose page posts the SAML
 * response on to the destination, here a local catcher; node-saml, as the SP, validates it.
 */
describe.skipIf(chromiumMissing())('console: AWS accounts and roles, signing in to AWS', () => {
  let running: ConsolePlatform;
  let browser: ConsoleBrowser;
  let page: Page;
  let catcher: Awaited<ReturnType<typeof startSamlCatcher>>;
  let tokenServiceUrl: string;

  const heading = () => page.locator('main h1');
  const roleForm = (account: string, role: string) =>
    page.locator('form.aws-role', {
      has: page.locator(`input[name="role_arn"][value="arn:aws:iam::${account}:role/${role}"]`),
    });
  /** node-saml as the AWS stand-in's SP: the certificates of the metadata, our issuer, the catcher as ACS. */
  const validated = async (received: Received) => {
    const metadata = await (await fetch(`${tokenServiceUrl}/saml/metadata`)).text();
    const certs = [...metadata.matchAll(/<ds:X509Certificate>([^<]+)<\/ds:X509Certificate>/g)].map(
      (m) => m[1]!,
    );
    const sp = new SAML({
      idpCert: certs,
      issuer: AUDIENCE,
      audience: AUDIENCE,
      callbackUrl: catcher.url,
      idpIssuer: `${tokenServiceUrl}/saml`,
      wantAssertionsSigned: true,
      wantAuthnResponseSigned: true,
      validateInResponseTo: ValidateInResponseTo.never,
    });
    return (await sp.validatePostResponseAsync({ SAMLResponse: received.SAMLResponse })).profile;
  };

  beforeAll(async () => {
    catcher = await startSamlCatcher();
    running = await startConsolePlatform({
      name: 'console-aws-roles',
      settings: async ({ dataDir }) => {
        const orgFile = join(dataDir, 'org.yaml');
        await writeFile(
          orgFile,
          stringify({
            admins: [],
            teams: [
              {
                id: 'alpha',
                name: 'Team Alpha',
                members: [MEMBER.uid],
                aws_accounts: [DEV_ACCOUNT, PROD_ACCOUNT],
              },
              { id: 'beta', name: 'Team Beta', members: ['bo'], aws_accounts: ['210987654321'] },
            ],
            users: [
              { uid: MEMBER.uid, name: 'Mia Member', email: 'mia@example.org', password: MEMBER.password },
              { uid: 'bo', name: 'Bo Beta', email: 'bo@example.org', password: 'bo-pass-1' },
            ],
          }),
        );
        return {
          platform: { orgFile },
          'token-service': {
            aws: {
              roleMapping: [
                { who: 'members', role: 'PowerUser', accounts: 'team' },
                { who: 'everyone', role: 'ReadOnly', accounts: 'team' },
              ],
              saml: { destination: catcher.url, reasonRequiredAccounts: [PROD_ACCOUNT] },
            },
          },
        };
      },
    });
    tokenServiceUrl = running.platform.urls['token-service'];
    browser = await launchConsoleBrowser('console-aws-roles');
    page = browser.page;
    await signIn(page, running.consoleUrl, MEMBER, '/search');
  }, 240_000);

  afterAll(async () => {
    await browser?.stop();
    await running?.stop();
    await catcher?.stop();
  });

  it('lists the person’s accounts and roles, reachable from the navigation, accessible', async () => {
    await page.goto(`${running.consoleUrl}/search`);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'AWS roles' }).click();
    await page.waitForURL(`${running.consoleUrl}/aws-roles`);
    await expect.poll(() => heading().textContent()).toBe('AWS accounts and roles');
    expect(await page.title()).toBe('AWS accounts and roles · STUPS console');
    await expect.poll(() => page.locator('form.aws-role').count()).toBe(4);
    expect(await page.locator('.aws-account h2').allTextContents()).toEqual([
      `alpha ${DEV_ACCOUNT}`,
      `alpha ${PROD_ACCOUNT}`,
    ]);
    // Another team's account is not offered.
    expect(await page.content()).not.toContain('210987654321');
    // Only the production account's roles ask for a reason.
    expect(await roleForm(PROD_ACCOUNT, 'PowerUser').getByLabel('Reason').count()).toBe(1);
    expect(await roleForm(DEV_ACCOUNT, 'PowerUser').getByLabel('Reason').count()).toBe(0);
    expect(await axeViolations(page)).toEqual([]);
    await shot(page, '40-aws-roles');
  });

  it('works at phone size: no horizontal scrolling, buttons reachable, accessible', async () => {
    await page.setViewportSize(NARROW);
    try {
      await page.reload();
      await expect.poll(() => page.locator('form.aws-role').count()).toBe(4);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow).toBeLessThanOrEqual(0);
      const button = roleForm(PROD_ACCOUNT, 'PowerUser').getByRole('button');
      await button.scrollIntoViewIfNeeded();
      const box = await button.boundingBox();
      expect(box!.x + box!.width).toBeLessThanOrEqual(NARROW.width);
      expect(await axeViolations(page)).toEqual([]);
      await shot(page, '41-narrow-aws-roles');
    } finally {
      await page.setViewportSize(DESKTOP);
    }
  });

  it('signs in to AWS with a role: the response posted to the destination validates in node-saml', async () => {
    await page.goto(`${running.consoleUrl}/aws-roles`);
    await expect.poll(() => page.locator('form.aws-role').count()).toBe(4);
    const arriving = catcher.next();
    await page.getByRole('button', { name: `Sign in as PowerUser in alpha (${DEV_ACCOUNT})` }).click();
    // The token service's page posts on by itself (its one script): no further click.
    await page.waitForURL(catcher.url);
    await expect.poll(() => page.locator('h1').textContent()).toBe('Signed in to AWS (stand-in)');
    const profile = await validated(await arriving);
    expect(profile?.nameID).toBe(MEMBER.uid);
    expect(profile?.[AWS_SAML_ATTRIBUTES.role]).toBe(
      `arn:aws:iam::${DEV_ACCOUNT}:role/PowerUser,arn:aws:iam::${DEV_ACCOUNT}:saml-provider/stups`,
    );
  });

  it('a production role needs the reason; with it the sign-in goes through', async () => {
    await page.goto(`${running.consoleUrl}/aws-roles`);
    await expect.poll(() => page.locator('form.aws-role').count()).toBe(4);
    const form = roleForm(PROD_ACCOUNT, 'ReadOnly');
    await form.getByRole('button').click();
    // The browser keeps the form until the required reason is there.
    expect(page.url()).toBe(`${running.consoleUrl}/aws-roles`);
    expect(
      await form.getByLabel('Reason').evaluate((input) => (input as HTMLInputElement).validity.valueMissing),
    ).toBe(true);
    await form.getByLabel('Reason').fill('INC-19 check the queue');
    const arriving = catcher.next();
    await form.getByRole('button').click();
    await page.waitForURL(catcher.url);
    const profile = await validated(await arriving);
    expect(profile?.[AWS_SAML_ATTRIBUTES.role]).toBe(
      `arn:aws:iam::${PROD_ACCOUNT}:role/ReadOnly,arn:aws:iam::${PROD_ACCOUNT}:saml-provider/stups`,
    );
    // Its audit event (with the reason) is checked in token-service/aws/saml-sso.test.ts.
  });
});
