import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWeb } from './test-support/build-web.js';

/** The budget for the JavaScript of the first page load, gzip-compressed. */
const FIRST_LOAD_JS_BUDGET = 300 * 1024;

describe('the built console', () => {
  let out: string;
  let html: string;

  beforeAll(async () => {
    out = await mkdtemp(join(tmpdir(), 'console-build-'));
    await buildWeb(out);
    html = await readFile(join(out, 'index.html'), 'utf8');
  }, 120_000);

  afterAll(async () => {
    if (out) await rm(out, { recursive: true, force: true });
  });

  it(`loads less than ${FIRST_LOAD_JS_BUDGET / 1024} KB of gzip JavaScript at first`, async () => {
    const scripts = [
      ...html.matchAll(/<(?:script[^>]*\ssrc|link[^>]*rel="modulepreload"[^>]*\shref)="([^"]+)"/g),
    ].map((m) => m[1]!);
    expect(scripts.length).toBeGreaterThan(0);
    let total = 0;
    for (const src of scripts) {
      expect(src).toMatch(/^\/assets\/[\w.-]+\.js$/);
      total += gzipSync(await readFile(join(out, src))).length;
    }
    console.log(
      `console first-load JavaScript: ${(total / 1024).toFixed(1)} KB gzip in ${scripts.length} file(s)`,
    );
    expect(total).toBeLessThan(FIRST_LOAD_JS_BUDGET);
  });

  it("carries no zod: the page imports the services' contracts as types only", async () => {
    const assets = (await readdir(join(out, 'assets'))).filter((name) => name.endsWith('.js'));
    expect(assets.length).toBeGreaterThan(0);
    for (const name of assets) {
      // zod's runtime names its errors ZodError; a value import of a contract would bring it in.
      expect(await readFile(join(out, 'assets', name), 'utf8')).not.toContain('ZodError');
    }
  });

  it('has no inline script or style, so the strict CSP holds', () => {
    expect(html).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/);
    expect(html).not.toMatch(/<style/);
    expect(html).not.toMatch(/\sstyle="/);
    expect(html).toMatch(/<link rel="stylesheet"[^>]* href="\/assets\/[\w.-]+\.css"/);
  });
});
