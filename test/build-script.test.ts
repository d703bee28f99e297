import { spawnSync } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from './e2e/support/start-stups.js';

/*
 * scripts/build.mjs (npm run build, npm start) in a small tree of its own: it builds what is
 * stale, nothing when nothing changed, and what a changed, added or deleted source needs.
 */
describe('scripts/build.mjs', () => {
  let root: string;
  const build = (...args: string[]) => {
    const r = spawnSync(process.execPath, [join(root, 'scripts/build.mjs'), '--only', 'server', ...args], {
      cwd: root,
      encoding: 'utf8',
    });
    return { code: r.status, out: `${r.stdout}${r.stderr}` };
  };
  const write = (path: string, text: string) => writeFile(join(root, path), text);

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'build-script-'));
    await mkdir(join(root, 'scripts'));
    await mkdir(join(root, 'src', 'lib', 'test-support'), { recursive: true });
    for (const file of ['scripts/build.mjs', 'tsconfig.json', 'package-lock.json'])
      await copyFile(join(ROOT, file), join(root, file));
    await symlink(join(ROOT, 'node_modules'), join(root, 'node_modules'));
    await write('src/lib/answer.ts', 'export const answer: number = 41;\n');
    await write(
      'src/main.ts',
      "import type { Server } from 'node:http';\nimport { answer } from './lib/answer.js';\nexport const shown = (s?: Server) => `${answer} ${s ? 'up' : 'down'}`;\n",
    );
    await write('src/main.test.ts', 'export {};\n');
    await write('src/lib/test-support/fake.ts', 'export {};\n');
  });
  afterAll(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('builds a tree never built, then nothing while nothing changes', async () => {
    expect(build('--check')).toEqual({ code: 1, out: 'server: stale (never built)\n' });
    expect(build().out).toMatch(/^build: server \(never built\) in [\d.]+ s\n$/);
    const main = (await import(join(root, 'dist/main.js'))) as { shown(): string };
    expect(main.shown()).toBe('41 down');
    // Tests and test support are not part of what runs.
    expect(existsSync(join(root, 'dist/main.test.js'))).toBe(false);
    expect(existsSync(join(root, 'dist/lib/test-support/fake.js'))).toBe(false);
    expect(build().out).toMatch(/^build: up to date/);
    expect(build('--check').code).toBe(0);
  });

  it('rebuilds when a source changes, and when an output is missing', async () => {
    await write('src/lib/answer.ts', 'export const answer: number = 42;\n');
    expect(build('--check').code).toBe(1);
    expect(build().out).toMatch(/^build: server \(sources changed\)/);
    expect(await readFile(join(root, 'dist/lib/answer.js'), 'utf8')).toContain('42');
    await rm(join(root, 'dist/main.js'));
    expect(build().out).toMatch(/^build: server \(dist\/main\.js is missing\)/);
    expect(existsSync(join(root, 'dist/main.js'))).toBe(true);
  });

  it('removes the output of a deleted source, so nothing can import it any more', async () => {
    await write('src/extra.ts', 'export const extra = 1;\n');
    build();
    expect(existsSync(join(root, 'dist/extra.js'))).toBe(true);
    await rm(join(root, 'src/extra.ts'));
    expect(build().out).toMatch(/^build: server \(sources changed\)/);
    expect(existsSync(join(root, 'dist/extra.js'))).toBe(false);
    expect(existsSync(join(root, 'dist/extra.js.map'))).toBe(false);
  });

  it('bundles what each command in bin/ runs, with the listed packages inside and the rest imported', async () => {
    await mkdir(join(root, 'bin'), { recursive: true });
    await write('bin/tool.js', '// Runs the bundle that scripts/build.mjs makes of src/tool.ts.\n');
    await write(
      'src/tool.ts',
      "import { sql } from 'kysely';\nimport { parse } from 'yaml';\nimport { toUtf8 } from '@smithy/util-utf8';\n" +
        "import { LRUCache } from 'lru-cache';\nimport { answer } from './lib/answer.js';\n" +
        'export const main = () =>\n' +
        '  `${answer} ${typeof sql} ${JSON.stringify(parse("a: 1"))} ${toUtf8(new Uint8Array([111, 107]))} ${new LRUCache({ max: 3 }).max}`;\n',
    );
    expect(build().out).toMatch(/^build: server \(sources changed\)/);
    const bundle = await readFile(join(root, 'dist/bin/tool.js'), 'utf8');
    // kysely is inside the bundle (no import of it is left), so is yaml (CommonJS: its `require` of
    // Node's builtins must work in an ES module); lru-cache, not listed, stays a package import, and
    // so does @smithy/* (listed for the commands bundled alone, senza, only).
    expect(bundle).not.toMatch(/from ["'](kysely|yaml)["']/);
    expect(bundle).toMatch(/from ["']lru-cache["']/);
    expect(bundle).toMatch(/from ["']@smithy\/util-utf8["']/);
    const tool = (await import(join(root, 'dist/bin/tool.js'))) as { main(): string };
    expect(tool.main()).toBe('42 function {"a":1} ok 3');
    // A command whose comment names no source gets no bundle; a removed command loses its bundle.
    await rm(join(root, 'bin/tool.js'));
    build();
    expect(existsSync(join(root, 'dist/bin/tool.js'))).toBe(false);
  });

  it('says what is wrong with a source, in one line per problem, and exits 1', async () => {
    await write('src/broken.ts', 'export const = ;\n');
    const r = build();
    expect(r.code).toBe(1);
    expect(r.out).toContain('src/broken.ts');
    expect(r.out).toMatch(/build: Build failed with 1 error/);
    await rm(join(root, 'src/broken.ts'));
  });
});
