import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';

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
