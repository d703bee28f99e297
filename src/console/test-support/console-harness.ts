import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import type { Scheduler } from '../../platform/jobs/job-runner.js';
import { silentLogger } from '../../platform/logger.js';
import { PORT_BLOCK_SIZE } from '../../platform/service-context.js';
import { skipWithout } from '../../platform/test-support/required-parts.js';
import { freePortBlock } from '../../stups/free-ports.js';
import { type RunningPlatform, startPlatform } from '../../stups/runtime.js';
import { parseSettingsTree } from '../../stups/settings.js';
import { buildWeb } from './build-web.js';

/*
 * What every console browser test sets up the same way: the SPA built from the current source, a
 * platform as `stups up` starts it serving that build, Debian's Chromium with a fresh profile, and
 * the sign-in through the token service's form. A test file keeps only what is its own (settings,
 * data, the pages it walks).
 */

export const CHROMIUM = '/usr/bin/chromium';
export const DESKTOP = { width: 1280, height: 900 };
export const NARROW = { width: 390, height: 844 };
/** Headless in a container: no sandbox, no GPU, nothing phoning home while a test measures. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** True when the browser tests cannot run here; fails instead when STUPS_REQUIRE names chromium. */
export function chromiumMissing(): boolean {
  return skipWithout(
    'chromium',
    existsSync(CHROMIUM) ? undefined : `${CHROMIUM} is missing (bash scripts/ensure-system-packages.sh)`,
  );
}

/** Where a test's screenshots and reports go (kept after the run for people to look at). */
export function artifactsDir(name: string): string {
  return fileURLToPath(new URL(`../../../test-artifacts/${name}/`, import.meta.url));
}

export interface ConsolePlatform {
  platform: RunningPlatform;
  consoleUrl: string;
  dataDir: string;
  basePort: number;
  stop(): Promise<void>;
}

export interface ConsolePlatformOptions {
  /** Names the temporary folders (`<name>-data-…`). */
  name: string;
  /**
   * The settings tree beside `platform.{dataDir,basePort,logLevel}` and `console.staticDir`, which
   * the harness sets; may be computed from the data folder and port block (org files, bastions).
   */
  settings?: (where: {
    dataDir: string;
    basePort: number;
  }) => Promise<Record<string, unknown>> | Record<string, unknown>;
  /** Replaces the job runner's timers, so that a test fires a job's tick itself. */
  scheduler?: Scheduler;
}

/** Builds the SPA into a folder of its own and starts a platform serving it on a free port block. */
export async function startConsolePlatform(options: ConsolePlatformOptions): Promise<ConsolePlatform> {
  const webDir = await buildWeb();
  const dataDir = await mkdtemp(join(tmpdir(), `${options.name}-data-`));
  const basePort = await freePortBlock(PORT_BLOCK_SIZE);
  const extra = (await options.settings?.({ dataDir, basePort })) ?? {};
  const {
    platform: platformExtra,
    console: consoleExtra,
    ...rest
  } = extra as {
    platform?: Record<string, unknown>;
    console?: Record<string, unknown>;
  };
  const platform = await startPlatform(
    parseSettingsTree({
      ...rest,
      platform: { dataDir, basePort, logLevel: 'warn', ...platformExtra },
      console: { staticDir: webDir, ...consoleExtra },
    }),
    { logger: silentLogger(), ...(options.scheduler ? { scheduler: options.scheduler } : {}) },
  );
  return {
    platform,
    consoleUrl: platform.urls.console,
    dataDir,
    basePort,
    async stop() {
      await platform.stop();
      await rm(dataDir, { recursive: true, force: true });
      await rm(webDir, { recursive: true, force: true });
    },
  };
}

export interface ConsoleBrowser {
  context: BrowserContext;
  /** The context's first tab. */
  page: Page;
  stop(): Promise<void>;
}

/** Chromium with a fresh profile (playwright passes it as --user-data-dir). */
export async function launchConsoleBrowser(
  name: string,
  options: { viewport?: { width: number; height: number }; acceptDownloads?: boolean } = {},
): Promise<ConsoleBrowser> {
  const profile = await mkdtemp(join(tmpdir(), `${name}-chromium-`));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    viewport: options.viewport ?? DESKTOP,
    headless: true,
    args: CHROMIUM_ARGS,
    ...(options.acceptDownloads ? { acceptDownloads: true } : {}),
  });
  context.setDefaultTimeout(15_000);
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    async stop() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/** Signs in through the token service's form from `path` and waits until the console is back there. */
export async function signIn(
  page: Page,
  consoleUrl: string,
  login: { uid: string; password: string },
  path = '/applications',
): Promise<void> {
  await page.goto(`${consoleUrl}${path}`);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByLabel('User name').fill(login.uid);
  await page.getByLabel('Password').fill(login.password);
  await page.keyboard.press('Enter');
  await page.waitForURL(`${consoleUrl}${path}`);
}

/** A full-page screenshot into `dir` (created on first use). */
export function screenshotter(dir: string): (page: Page, name: string) => Promise<void> {
  let made = false;
  return async (page, name) => {
    if (!made) {
      await mkdir(dir, { recursive: true });
      made = true;
    }
    await page.screenshot({ path: join(dir, `${name}.png`), fullPage: true });
  };
}
