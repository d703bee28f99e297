import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync, constants as zlib, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWeb } from './test-support/build-web.js';

/**
 * The budget for the JavaScript of the first page load (issue 15 item 13), in kB as Vite and
 * Lighthouse count them (1000 bytes): raw, and compressed as the console's server sends it.
 */
const FIRST_LOAD_RAW_BUDGET = 300_000;
const FIRST_LOAD_COMPRESSED_BUDGET = 90_000;

/** Pages the shell shows without a route (signed out, unknown path): they may be in the first load. */
const SHELL_PAGES = new Set(['./pages/sign-in', './pages/not-found']);

const APP_SOURCE = new URL('./web/src/app.tsx', import.meta.url);

interface ManifestChunk {
  file: string;
  src?: string;
  isEntry?: boolean;
  isDynamicEntry?: boolean;
  imports?: string[];
  dynamicImports?: string[];
}

/** The entry chunk and every chunk it imports statically: what the browser fetches before the app runs. */
function firstLoad(manifest: Record<string, ManifestChunk>): string[] {
  const entries = Object.entries(manifest).filter(([, chunk]) => chunk.isEntry);
  expect(entries.map(([key]) => key)).toEqual(['index.html']);
  const seen = new Set<string>();
  const visit = (key: string) => {
    if (seen.has(key)) return;
    seen.add(key);
    const chunk = manifest[key];
    if (!chunk) throw new Error(`the manifest names ${key} but has no entry for it`);
    for (const next of chunk.imports ?? []) visit(next);
  };
  visit('index.html');
  return [...seen].map((key) => manifest[key]!.file);
}

describe('the built console', () => {
  let out: string;
  let html: string;
  let manifest: Record<string, ManifestChunk>;

  beforeAll(async () => {
    out = await mkdtemp(join(tmpdir(), 'console-build-'));
    await buildWeb(out, { manifest: true });
    html = await readFile(join(out, 'index.html'), 'utf8');
    manifest = JSON.parse(await readFile(join(out, '.vite', 'manifest.json'), 'utf8')) as Record<
      string,
      ManifestChunk
    >;
  }, 120_000);

  afterAll(async () => {
    if (out) await rm(out, { recursive: true, force: true });
  });

  it(`loads less than ${FIRST_LOAD_RAW_BUDGET / 1000} kB of JavaScript (${FIRST_LOAD_COMPRESSED_BUDGET / 1000} kB compressed) at first`, async () => {
    const files = firstLoad(manifest);
    // What index.html makes the browser fetch is exactly that set: no chunk is preloaded beside it.
    const referenced = [
      ...html.matchAll(/<(?:script[^>]*\ssrc|link[^>]*rel="modulepreload"[^>]*\shref)="([^"]+)"/g),
    ].map((m) => m[1]!);
    expect(referenced.sort()).toEqual(files.map((file) => `/${file}`).sort());
    let raw = 0;
    let gzip = 0;
    let brotli = 0;
    for (const file of files) {
      expect(file).toMatch(/^assets\/[\w.-]+\.js$/);
      const body = await readFile(join(out, file));
      raw += body.length;
      // As src/console/server/static-files.ts compresses them.
      gzip += gzipSync(body, { level: zlib.Z_BEST_COMPRESSION }).length;
      brotli += brotliCompressSync(body, {
        params: {
          [zlib.BROTLI_PARAM_QUALITY]: zlib.BROTLI_MAX_QUALITY,
          [zlib.BROTLI_PARAM_MODE]: zlib.BROTLI_MODE_TEXT,
        },
      }).length;
    }
    console.log(
      `console first-load JavaScript in ${files.length} file(s): ${(raw / 1000).toFixed(1)} kB raw, ` +
        `${(gzip / 1000).toFixed(1)} kB gzip, ${(brotli / 1000).toFixed(1)} kB brotli`,
    );
    expect(raw).toBeLessThan(FIRST_LOAD_RAW_BUDGET);
    // Browsers without brotli get gzip, the larger of the two: that one counts.
    expect(gzip).toBeLessThan(FIRST_LOAD_COMPRESSED_BUDGET);
    expect(brotli).toBeLessThanOrEqual(gzip);
  });

  it('loads every routed page as a chunk of its own, on first use', async () => {
    const source = await readFile(APP_SOURCE, 'utf8');
    // A static import of a page would pull it (and what only it uses) into the first load.
    const staticPages = [...source.matchAll(/^import\s[^;]*?\sfrom\s+'(\.\/pages\/[^']+)'/gm)].map(
      (m) => m[1]!,
    );
    expect(staticPages.filter((page) => !SHELL_PAGES.has(page))).toEqual([]);
    const lazyPages = new Set(
      [...source.matchAll(/import\('(\.\/pages\/[^']+)'\)/g)].map((m) => `src/${m[1]!.slice(2)}.tsx`),
    );
    expect(lazyPages.size).toBeGreaterThanOrEqual(10);
    const entry = manifest['index.html']!;
    expect(new Set(entry.dynamicImports)).toEqual(lazyPages);
    for (const page of lazyPages) {
      expect(manifest[page], page).toMatchObject({ isDynamicEntry: true });
      expect(firstLoad(manifest)).not.toContain(manifest[page]!.file);
    }
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
