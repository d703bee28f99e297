import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import tarStream from 'tar-stream';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from './database.js';
import { unpackFreshCluster } from './pglite-template.js';

async function tarOf(
  entries: Array<{ name: string; type?: 'file' | 'directory' | 'symlink'; body?: string }>,
) {
  const pack = tarStream.pack();
  for (const e of entries) {
    if (e.type === 'symlink') pack.entry({ name: e.name, type: 'symlink', linkname: '/etc/passwd' });
    else if (e.type === 'directory') pack.entry({ name: e.name, type: 'directory' });
    else pack.entry({ name: e.name }, e.body ?? '');
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack) chunks.push(Buffer.from(chunk as Uint8Array));
  return new Blob([Buffer.concat(chunks)]);
}

describe('a new PGlite data directory from the fresh-cluster template', () => {
  const dirs: string[] = [];
  const tempDir = async () => {
    const dir = await mkdtemp(join(tmpdir(), 'stups-pglite-template-'));
    dirs.push(dir);
    return dir;
  };
  afterEach(async () => {
    for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
  });

  it('is unpacked by Node, opens, keeps what was written and opens again', async () => {
    const dataDir = join(await tempDir(), 'data');
    const first = await openDatabase({ kind: 'pglite', dataDir });
    expect(existsSync(join(dataDir, 'PG_VERSION'))).toBe(true);
    await sql`create table kept (v text)`.execute(first.kysely());
    await sql`insert into kept values ('still here')`.execute(first.kysely());
    await first.destroy();

    const again = await openDatabase({ kind: 'pglite', dataDir });
    const { rows } = await sql<{ v: string }>`select v from kept`.execute(again.kysely());
    expect(rows).toEqual([{ v: 'still here' }]);
    await again.destroy();
  });

  it('writes PG_VERSION last, so a directory without it counts as new', async () => {
    const dataDir = await tempDir();
    const template = await tarOf([
      { name: '/PG_VERSION', body: '17\n' },
      { name: '/base', type: 'directory' },
      { name: '/base/file', body: 'x' },
    ]);
    await unpackFreshCluster(dataDir, template);
    expect(existsSync(join(dataDir, 'base', 'file'))).toBe(true);
    expect(existsSync(join(dataDir, 'PG_VERSION'))).toBe(true);

    const broken = await tempDir();
    await expect(
      unpackFreshCluster(
        broken,
        await tarOf([
          { name: '/PG_VERSION', body: '17\n' },
          { name: '/link', type: 'symlink' },
        ]),
      ),
    ).rejects.toThrow('the cluster template holds a symlink entry (link)');
    expect(existsSync(join(broken, 'PG_VERSION'))).toBe(false);
  });

  it('writes a large file sparse, reading back byte for byte', async () => {
    const dataDir = await tempDir();
    // 1 MiB: zeros with a few written spots, one at the very end and one that is not block-aligned.
    const content = Buffer.alloc(1024 * 1024);
    content.write('head', 0);
    content.write('middle', 300_001);
    content.write('tail', content.length - 4);
    const pack = tarStream.pack();
    pack.entry({ name: '/PG_VERSION' }, '17\n');
    pack.entry({ name: '/pg_wal/segment' }, content);
    pack.finalize();
    const chunks: Buffer[] = [];
    for await (const chunk of pack) chunks.push(Buffer.from(chunk as Uint8Array));
    await unpackFreshCluster(dataDir, new Blob([Buffer.concat(chunks)]));
    const path = join(dataDir, 'pg_wal', 'segment');
    expect((await readFile(path)).equals(content)).toBe(true);
    // Three 64 KiB blocks hold data; the rest are holes (the file system allocates less).
    const { size, blocks } = await stat(path);
    expect(size).toBe(content.length);
    expect(blocks * 512).toBeLessThan(content.length / 2);
  });

  it('refuses a template naming a path outside the data directory', async () => {
    const dataDir = await tempDir();
    await expect(
      unpackFreshCluster(dataDir, await tarOf([{ name: '../escaped', body: 'x' }])),
    ).rejects.toThrow('the cluster template names a path outside the data directory: ../escaped');
    expect(existsSync(join(dataDir, '..', 'escaped'))).toBe(false);
  });
});
