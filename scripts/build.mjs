#!/usr/bin/env node
// `npm run build` (and so `npm start`): the server and CLIs into dist/ with esbuild, the console
// with Vite — each only when its sources changed since the last build.
//
// Why not `tsc`: type checking the whole tree took ~51 s on every `npm start` (issue 23), and a
// newcomer's first start waited for it. Type checking belongs to the test command (`npm run
// typecheck` in scripts/test.sh, which also runs this build). esbuild transpiles each file on its
// own (no bundling: dist/ keeps the tree the bins import from), which `verbatimModuleSyntax` in
// tsconfig.json makes safe: every type-only import is written as one, so nothing needs the types.
//
// "Changed" is decided by a fingerprint of the sources' paths and contents plus what shapes the
// output (tsconfig, the lock file, this script), kept in dist/.build-state/. Contents, not
// modification times: a `git checkout` that restores a file leaves nothing to rebuild.
//
//   node scripts/build.mjs            build what is stale
//   node scripts/build.mjs --force    build everything
//   node scripts/build.mjs --check    exit 1 if something is stale, build nothing
//   node scripts/build.mjs --only server|console
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const STATE = join(ROOT, 'dist', '.build-state');
const WEB = join('src', 'console', 'web');

/** Every file below `dir` (relative to ROOT, `/`-separated) for which `keep` is true. */
async function filesBelow(dir, keep) {
  const found = [];
  const walk = async (rel) => {
    for (const entry of await readdir(join(ROOT, rel), { withFileTypes: true })) {
      const path = join(rel, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== 'node_modules') await walk(path);
      } else if (keep(path.split(sep).join('/'))) found.push(path.split(sep).join('/'));
    }
  };
  await walk(dir);
  return found.sort();
}

/** The server's sources: every TypeScript file of src/ but tests, test support and the console web app. */
export function isServerSource(path) {
  return (
    path.endsWith('.ts') &&
    !path.endsWith('.d.ts') &&
    !path.endsWith('.test.ts') &&
    !path.includes('/test-support/') &&
    !path.startsWith('src/console/web/')
  );
}

// Each file's digest, read once per run: the console's inputs include every server source, so
// without this a no-change start would read and hash ~400 files twice.
const fileDigests = new Map();

function digestOf(path) {
  let digest = fileDigests.get(path);
  if (!digest) {
    digest = (async () =>
      existsSync(join(ROOT, path))
        ? createHash('sha256')
            .update(await readFile(join(ROOT, path)))
            .digest('hex')
        : 'missing')();
    fileDigests.set(path, digest);
  }
  return digest;
}

export async function fingerprint(paths) {
  const digests = await Promise.all(paths.map(digestOf));
  const hash = createHash('sha256');
  paths.forEach((path, i) => hash.update(`${path}\0${digests[i]}\0`));
  return hash.digest('hex');
}

async function stateOf(name) {
  try {
    return JSON.parse(await readFile(join(STATE, `${name}.json`), 'utf8'));
  } catch {
    return undefined;
  }
}

async function saveState(name, state) {
  await mkdir(STATE, { recursive: true });
  await writeFile(join(STATE, `${name}.json`), `${JSON.stringify(state, null, 2)}\n`);
}

const SHARED = ['package-lock.json', 'scripts/build.mjs'];

/**
 * Each command in bin/ runs a bundle, dist/bin/<command>.js: the module its comment names and
 * everything that imports, our code and the pure-ESM packages below. Why: loading ~400 of our modules
 * plus kysely's 262, zod's 95 and jose's 46 files one by one was most of a CLI's start-up and of
 * `stups up`'s module loading (issue 23; measured: kysely + zod + jose 0.28 s CPU as packages,
 * 0.10 s bundled). Into Senza the AWS SDK is bundled too (below), from its ESM builds: as packages, `senza print`
 * spent ~1.3 s CPU of a loaded machine's 3 s in Node compiling and lexing its CommonJS files
 * (bundled: wall ×0.56, peak RSS 132 → 112 MiB; still imported on first use, as its own chunks).
 * yaml and commander (every CLI loads them) likewise, and the HTTP stack every service loads
 * (fastify and its plugins, ajv, undici under the console's proxy, pg, prom-client …): as
 * packages, `stups up` opened 817 module files before it was ready, bundled 196 (restart
 * 1.85 → 1.52 s in one paired run; issue 23). A package left external loads its own copy of
 * whatever it imports (fastify-type-provider-zod kept a second zod of 82 files), so a listed
 * package's users are listed too. Everything else stays a package import: packages that read
 * files next to themselves (PGlite's WASM, swagger-ui), pino (its transports run worker files by
 * path) and the rest.
 * The chunks shared by several commands sit beside them, so `import.meta.url` is two levels below
 * the checkout as it is in dist/<component>/<file>.js.
 */
/**
 * Commands bundled on their own, not sharing chunks with the others: a chunk shared by several
 * commands holds what any of them needs of a module. `senza print` uses 6 EC2 commands, but the
 * sandbox imports @aws-sdk/client-ec2 whole (`import('@aws-sdk/client-ec2')`), so the shared EC2
 * chunk held all of its ~1000 modules (2 MB Senza compiled on every run).
 */
const BUNDLED_ALONE = ['senza'];

const BUNDLED_PACKAGES = [
  'kysely',
  'zod',
  'jose',
  'yaml',
  'commander',
  'fastify-type-provider-zod',
  '@fastify/swagger',
  '@fastify/http-proxy',
  '@fastify/reply-from',
  '@fastify/ajv-compiler',
  '@fastify/fast-json-stringify-compiler',
  'ajv-formats',
  'fastify',
  'avvio',
  'find-my-way',
  'ajv',
  'fast-json-stringify',
  'semver',
  '@opentelemetry/api',
  'undici',
  'prom-client',
  'cron-parser',
  'pg',
  'pg-protocol',
  'pg-types',
  'ret',
];

/**
 * Bundled only into the commands bundled alone: bundling the SDK into every command tripled the
 * bins' build (3.8 → 11.8 s on a loaded machine; senza alone: 3.6 → 6.4 s), a cost every fresh clone's first start pays.
 */
const BUNDLED_ALONE_PACKAGES = ['@aws-sdk', '@smithy', '@aws-crypto'];

function binEntries() {
  const dir = join(ROOT, 'bin');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => name.endsWith('.js'))
    .sort()
    .flatMap((name) => {
      const source = /bundle that scripts\/build\.mjs makes of (src\/\S+\.ts)/.exec(
        readFileSync(join(dir, name), 'utf8'),
      )?.[1];
      if (!source) return [];
      return existsSync(join(ROOT, source))
        ? [{ name: name.replace(/\.js$/, ''), source, out: join('dist', 'bin', name) }]
        : [];
    });
}

async function bundleBins() {
  const entries = binEntries();
  await rm(join(ROOT, 'dist', 'bin'), { recursive: true, force: true });
  if (!entries.length) return;
  const { build } = await import('esbuild');
  const packageName = (specifier) =>
    specifier
      .split('/')
      .slice(0, specifier.startsWith('@') ? 2 : 1)
      .join('/');
  // A whole scope may be listed (`@aws-sdk`): the SDK's clients come with dozens of helper packages.
  const bundledFrom = (listed) => (specifier) =>
    listed.includes(packageName(specifier)) || listed.includes(specifier.split('/')[0]);
  const groups = [
    entries.filter((e) => !BUNDLED_ALONE.includes(e.name)),
    ...entries.filter((e) => BUNDLED_ALONE.includes(e.name)).map((e) => [e]),
  ].filter((group) => group.length);
  await Promise.all(
    groups.map((group) =>
      bundleGroup(
        build,
        group,
        bundledFrom(
          BUNDLED_ALONE.includes(group[0].name)
            ? [...BUNDLED_PACKAGES, ...BUNDLED_ALONE_PACKAGES]
            : BUNDLED_PACKAGES,
        ),
      ),
    ),
  );
}

async function bundleGroup(build, entries, bundled) {
  await build({
    entryPoints: Object.fromEntries(entries.map((e) => [e.name, join(ROOT, e.source)])),
    outdir: join(ROOT, 'dist', 'bin'),
    bundle: true,
    splitting: true,
    chunkNames: 'chunk-[hash]',
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // The ESM builds (dist-es) of the AWS SDK, not its CommonJS: those tree-shake, and nothing
    // of them is left for Node's CommonJS lexer to scan at run time.
    mainFields: ['module', 'main'],
    // CommonJS packages bundled here (yaml) `require` Node's builtins; an ES module has no `require`.
    banner: {
      js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
    },
    sourcemap: true,
    tsconfig: join(ROOT, 'tsconfig.json'),
    logLevel: 'warning',
    plugins: [
      {
        name: 'packages-stay-imports',
        setup(b) {
          // A bare specifier (a package or a node: builtin) is left to Node unless it is listed.
          b.onResolve({ filter: /^[^./]/ }, (args) =>
            bundled(args.path) ? undefined : { path: args.path, external: true },
          );
        },
      },
    ],
  });
}

/** The server and CLIs: one output file per source file. */
const server = {
  name: 'server',
  async inputs() {
    const sources = await filesBelow('src', isServerSource);
    const bins = existsSync(join(ROOT, 'bin')) ? await filesBelow('bin', (p) => p.endsWith('.js')) : [];
    return { sources, all: [...sources, ...bins, 'tsconfig.json', ...SHARED] };
  },
  outputsOf(sources) {
    return [
      ...sources.map((s) => join('dist', relative('src', s)).replace(/\.ts$/, '.js')),
      ...binEntries().map(({ out }) => out),
    ];
  },
  async build(sources) {
    const { build } = await import('esbuild');
    await build({
      entryPoints: sources.map((s) => join(ROOT, s)),
      outdir: join(ROOT, 'dist'),
      outbase: join(ROOT, 'src'),
      format: 'esm',
      platform: 'node',
      target: 'node20',
      sourcemap: true,
      tsconfig: join(ROOT, 'tsconfig.json'),
      logLevel: 'warning',
    });
    await bundleBins();
    // Outputs of sources that are gone would still be importable: remove them.
    const wanted = new Set(this.outputsOf(sources).map((p) => p.split(sep).join('/')));
    const stale = await filesBelow(
      'dist',
      (p) =>
        !p.startsWith('dist/console/web/') &&
        !p.startsWith('dist/bin/') &&
        p.endsWith('.js') &&
        !wanted.has(p),
    );
    for (const file of stale) {
      await rm(join(ROOT, file), { force: true });
      await rm(join(ROOT, `${file}.map`), { force: true });
    }
  },
};

/** The console's single-page app, built by Vite into dist/console/web. */
const consoleWeb = {
  name: 'console',
  async inputs() {
    const sources = await filesBelow(WEB, (p) => !p.endsWith('.test.ts'));
    // The pages import the components' contracts, and those import further modules: rather than
    // follow the imports, any server source counts (a server change costs one Vite run, ~4 s).
    const server = await filesBelow('src', isServerSource);
    return { sources, all: [...sources, ...server, ...SHARED] };
  },
  outputsOf() {
    return ['dist/console/web/index.html'];
  },
  async build() {
    const { spawnSync } = await import('node:child_process');
    const vite = join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js');
    const result = spawnSync(
      process.execPath,
      [vite, 'build', '--config', join(ROOT, WEB, 'vite.config.mts'), '--logLevel', 'warn'],
      { cwd: ROOT, stdio: 'inherit', env: { ...process.env, NODE_ENV: 'production' } },
    );
    if (result.status !== 0) throw new Error(`vite build failed (exit ${result.status})`);
    await precompress(join(ROOT, 'dist', 'console', 'web'));
  },
};

/** Text the console server sends compressed: what src/console/server/static-files.ts compresses. */
const COMPRESSIBLE = /\.(html|js|css|svg|json|txt|map)$/;

/**
 * Writes `<file>.br` and `<file>.gz` beside each compressible file of the built console, at the
 * strongest settings: `stups up` reads them instead of compressing ~0.5 MB at every start
 * (issue 23: ~0.5 s of a restart's CPU profile). Vite empties the directory first, so no stale
 * copy survives a rebuild.
 */
async function precompress(dir) {
  const { brotliCompressSync, gzipSync, constants } = await import('node:zlib');
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !COMPRESSIBLE.test(entry.name)) continue;
    const file = join(entry.parentPath, entry.name);
    const body = await readFile(file);
    if (body.length < 1024) continue; // the server's COMPRESS_FROM_BYTES
    const br = brotliCompressSync(body, {
      params: {
        [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
        [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
        [constants.BROTLI_PARAM_SIZE_HINT]: body.length,
      },
    });
    await writeFile(`${file}.br`, br);
    await writeFile(`${file}.gz`, gzipSync(body, { level: constants.Z_BEST_COMPRESSION }));
  }
}

/** What is stale (everything with `force`), and why, without building anything. */
export async function staleParts(parts = [server, consoleWeb], { force = false } = {}) {
  const stale = [];
  for (const part of parts) {
    const { sources, all } = await part.inputs();
    const print = await fingerprint(all);
    const before = await stateOf(part.name);
    const missing = part.outputsOf(sources).find((out) => !existsSync(join(ROOT, out)));
    if (force) stale.push({ part, sources, print, why: '--force' });
    else if (before?.fingerprint !== print)
      stale.push({ part, sources, print, why: before ? 'sources changed' : 'never built' });
    else if (missing) stale.push({ part, sources, print, why: `${missing} is missing` });
  }
  return stale;
}

async function main(args) {
  const force = args.includes('--force');
  const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;
  const parts = [server, consoleWeb].filter((p) => !only || p.name === only);
  if (!parts.length) throw new Error(`--only takes server or console, not ${only}`);
  const started = performance.now();
  const stale = await staleParts(parts, { force });
  if (args.includes('--check')) {
    for (const s of stale) console.log(`${s.part.name}: stale (${s.why})`);
    process.exitCode = stale.length ? 1 : 0;
    return;
  }
  for (const { part, sources, print, why } of stale) {
    const t = performance.now();
    await part.build(sources);
    await saveState(part.name, { fingerprint: print, builtAt: new Date().toISOString() });
    console.log(`build: ${part.name} (${why}) in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  }
  if (!stale.length)
    console.log(`build: up to date (checked in ${((performance.now() - started) / 1000).toFixed(2)} s)`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main(process.argv.slice(2)).catch((error) => {
    console.error(`build: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
}
