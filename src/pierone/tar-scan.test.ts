import { execFileSync } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findRootFile } from './tar-scan.js';

describe('findRootFile', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tar-scan-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** Builds a tar (gzip when `gzip`) with GNU tar from `files` in the given order. */
  async function archive(
    name: string,
    files: Record<string, string>,
    options: { gzip?: boolean; format?: string } = {},
  ) {
    const root = join(dir, `${name}-root`);
    for (const [path, content] of Object.entries(files)) {
      await mkdir(join(root, path, '..'), { recursive: true });
      await writeFile(join(root, path), content);
    }
    const out = join(dir, `${name}.tar${options.gzip ? '.gz' : ''}`);
    execFileSync('tar', [
      options.gzip ? '-czf' : '-cf',
      out,
      `--format=${options.format ?? 'gnu'}`,
      '-C',
      root,
      ...Object.keys(files).map((p) => `./${p}`),
    ]);
    return out;
  }

  const look = (path: string, gzip: boolean | 'detect' = 'detect', maxBytes = 65536) =>
    findRootFile(createReadStream(path), 'scm-source.json', { maxBytes, gzip });

  it('finds the file in the root of a gzip layer after large entries', async () => {
    const path = await archive(
      'gz',
      { 'big.bin': 'x'.repeat(3_000_000), 'scm-source.json': '{"url":"u"}' },
      { gzip: true },
    );
    expect(await look(path)).toEqual({ kind: 'found', content: Buffer.from('{"url":"u"}') });
    expect(await look(path, true)).toMatchObject({ kind: 'found' });
  });

  it('ignores files of that name below the root and reports absence', async () => {
    const path = await archive('nested', { 'app/scm-source.json': '{}', 'a.txt': 'a' });
    expect(await look(path)).toEqual({ kind: 'absent' });
  });

  it('reads PAX long names and honours whiteouts', async () => {
    const long = `${'d'.repeat(120)}/file.txt`;
    const pax = await archive('pax', { [long]: 'z', 'scm-source.json': '{"url":"p"}' }, { format: 'pax' });
    expect(await look(pax)).toMatchObject({ kind: 'found' });
    const wh = await archive('wh', { '.wh.scm-source.json': '' });
    expect(await look(wh)).toEqual({ kind: 'deleted' });
  });

  it('refuses oversized files without reading them', async () => {
    const path = await archive('large', { 'scm-source.json': 'y'.repeat(100_000) });
    expect(await look(path, false, 1000)).toEqual({ kind: 'too-large', size: 100_000 });
  });
});
