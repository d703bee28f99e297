import { randomBytes } from 'node:crypto';
import { closeSync, ftruncateSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { homedir, tmpdir } from 'node:os';
import { dirname, join, resolve, sep } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import tarStream from 'tar-stream';

/*
 * PGlite runs initdb inside WebAssembly on every new database: about 8 s and 700 MiB here.
 * Restoring a dump of a freshly initialised cluster takes about 1 s. The dump is made once per
 * PGlite version and kept in the user's cache directory; it holds no data, only the empty
 * cluster initdb would have produced.
 */

/** The installed PGlite's version: a dump only fits the version that made it. */
async function pgliteVersion(): Promise<string> {
  const entry = createRequire(import.meta.url).resolve('@electric-sql/pglite');
  const packageRoot = entry.slice(0, entry.lastIndexOf('/dist/'));
  try {
    return (JSON.parse(await readFile(join(packageRoot, 'package.json'), 'utf8')) as { version: string })
      .version;
  } catch {
    return 'unknown';
  }
}

/** `~/.cache/stups`, or the temp directory for users without a home. */
export function defaultTemplateCacheDir(): string {
  const home = homedir();
  return join(home ? join(home, '.cache') : tmpdir(), 'stups');
}

let inProcess: Promise<Blob> | undefined;

/** The fresh-cluster dump, from the cache or made now (and cached for the next process). */
export function freshClusterTemplate(cacheDir: string = defaultTemplateCacheDir()): Promise<Blob> {
  inProcess ??= (async () => {
    const file = join(cacheDir, `pglite-${await pgliteVersion()}-initdb.tar`);
    try {
      return new Blob([await readFile(file)]);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    const pglite = new PGlite();
    await pglite.waitReady;
    const dump = await pglite.dumpDataDir('none');
    await pglite.close();
    try {
      // Written aside and renamed: processes racing to make it never see half a file.
      await mkdir(dirname(file), { recursive: true });
      const temp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
      await writeFile(temp, Buffer.from(await dump.arrayBuffer()));
      await rename(temp, file);
    } catch {
      // No writable cache: the next process runs initdb again, nothing worse.
    }
    return dump;
  })();
  return inProcess;
}

/*
 * The schema template: a cluster with every migration of this version applied, made from the
 * first new data directory and reused by every later one (tests start hundreds), so a new
 * `stups up` restores tables instead of running ~150 migrations (~1 s of ~5 s, issue 23). Keyed by
 * `migrationsFingerprint`, so any added or edited migration makes a new one. It holds what
 * migrations create and nothing else: migrations make tables and fixed reference rows only,
 * never per-installation secrets (keys, passwords and ids are made when modules start), so two
 * installations restored from it share nothing they should not.
 */
function schemaTemplateFile(cacheDir: string, version: string, key: string): string {
  return join(cacheDir, `pglite-${version}-schema-${key.slice(0, 24)}.tar`);
}

/** The schema template for `key`, when one was made before. */
export async function cachedSchemaTemplate(
  key: string,
  cacheDir: string = defaultTemplateCacheDir(),
): Promise<Blob | undefined> {
  try {
    return new Blob([await readFile(schemaTemplateFile(cacheDir, await pgliteVersion(), key))]);
  } catch {
    return undefined;
  }
}

/** Keeps a dump of `pglite`, just migrated, as the schema template for `key`; best effort. */
export async function saveSchemaTemplate(
  pglite: PGlite,
  key: string,
  cacheDir: string = defaultTemplateCacheDir(),
): Promise<void> {
  try {
    const file = schemaTemplateFile(cacheDir, await pgliteVersion(), key);
    const dump = await pglite.dumpDataDir('none');
    await mkdir(dirname(file), { recursive: true });
    // Written aside and renamed: processes racing to make it never see half a file.
    const temp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
    await writeFile(temp, Buffer.from(await dump.arrayBuffer()));
    await rename(temp, file);
  } catch {
    // No writable cache: the next new data directory runs the migrations, nothing worse.
  }
}

/**
 * Writes the fresh cluster into `dataDir` with Node's own file system calls. Handing the dump to
 * PGlite (`loadDataDir`) unpacks it inside the WASM memory, which grows by the dump's size and
 * never shrinks: a first `stups up` stayed ~170 MiB above a restart for its whole life (issue 23).
 * PG_VERSION is written last, so a start interrupted halfway unpacks again next time.
 */
export async function unpackFreshCluster(dataDir: string, template?: Blob): Promise<void> {
  if (!template) {
    template = await freshClusterTemplate();
    // A process opens one data directory: the 40 MB dump need not stay for its whole life.
    inProcess = undefined;
  }
  const root = resolve(dataDir);
  // Synchronous file calls: the cluster is ~1,000 small files, and one thread-pool round trip
  // per mkdir and write left `stups up` idle for ~1.7 s of its first start (issue 23, CPU
  // profile). Nothing else runs yet for this process to answer.
  mkdirSync(root, { recursive: true, mode: 0o700 });
  const made = new Set<string>([root]);
  const directory = (path: string) => {
    if (made.has(path)) return;
    mkdirSync(path, { recursive: true, mode: 0o700 });
    made.add(path);
  };
  let pgVersion: Uint8Array | undefined;
  const extract = tarStream.extract();
  const done = (async () => {
    for await (const entry of extract) {
      const name = entry.header.name.replace(/^\/+/, '');
      const target = resolve(root, name);
      if (target !== root && !target.startsWith(`${root}${sep}`))
        throw new Error(`the cluster template names a path outside the data directory: ${name}`);
      const content = await bufferOf(entry);
      if (entry.header.type === 'directory') directory(target);
      else if (entry.header.type === 'file') {
        if (name === 'PG_VERSION') pgVersion = content;
        else {
          directory(dirname(target));
          writeFileOf(target, content);
        }
      } else throw new Error(`the cluster template holds a ${entry.header.type} entry (${name})`);
    }
  })();
  extract.end(Buffer.from(await template.arrayBuffer()));
  await done;
  if (!pgVersion) throw new Error('the cluster template has no PG_VERSION');
  await writeFile(join(root, 'PG_VERSION'), pgVersion, { mode: 0o600 });
}

/** Blocks of a large file that are all zero are not written (`SPARSE_BLOCK` bytes each). */
const SPARSE_BLOCK = 64 * 1024;
const ZERO_BLOCK = new Uint8Array(SPARSE_BLOCK);

/**
 * Writes a file of the cluster. A large one is written sparse: its zero blocks are left as holes
 * that read back as zeros. That is the 16 MB WAL segment, more than half zeros (PostgreSQL makes
 * such files itself with `wal_init_zero = off`): ~9 MB less to write on every first start.
 */
function writeFileOf(path: string, content: Uint8Array): void {
  if (content.length < 4 * SPARSE_BLOCK) {
    writeFileSync(path, content, { mode: 0o600 });
    return;
  }
  const fd = openSync(path, 'w', 0o600);
  try {
    for (let at = 0; at < content.length; at += SPARSE_BLOCK) {
      const block = content.subarray(at, at + SPARSE_BLOCK);
      const zero = block.length === SPARSE_BLOCK && Buffer.compare(block, ZERO_BLOCK) === 0;
      if (!zero) writeSync(fd, block, 0, block.length, at);
    }
    ftruncateSync(fd, content.length);
  } finally {
    closeSync(fd);
  }
}

/** An entry's content; views of the dump's memory, not copies (one copy when it came in pieces). */
async function bufferOf(entry: AsyncIterable<unknown>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of entry) chunks.push(chunk as Uint8Array);
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
}
