import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findRootFile, MAX_METADATA_BYTES, ZstdWindowTooLargeError } from './tar-scan.js';

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
    options: { gzip?: boolean; zstd?: boolean; format?: string } = {},
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
    if (!options.zstd) return out;
    execFileSync('zstd', ['-q', '-f', '--rm', out, '-o', `${out}.zst`]);
    return `${out}.zst`;
  }

  const look = (path: string, gzip: boolean | 'detect' | 'zstd' = 'detect', maxBytes = 65536) =>
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

  it('finds the file in a zstd layer (told or detected) and stops there', async () => {
    const path = await archive(
      'zst',
      {
        'big.bin': 'x'.repeat(3_000_000),
        'scm-source.json': '{"url":"z"}',
        'after.bin': 'y'.repeat(1_000_000),
      },
      { zstd: true },
    );
    expect(await look(path)).toEqual({ kind: 'found', content: Buffer.from('{"url":"z"}') });
    expect(await look(path, 'zstd')).toMatchObject({ kind: 'found' });
    const absent = await archive('zst-absent', { 'a.txt': 'a' }, { zstd: true });
    expect(await look(absent, 'zstd')).toEqual({ kind: 'absent' });
    const wh = await archive('zst-wh', { '.wh.scm-source.json': '' }, { zstd: true });
    expect(await look(wh, 'zstd')).toEqual({ kind: 'deleted' });
  });

  it('rejects truncated zstd streams and frames that ask for a huge window', async () => {
    const path = await archive(
      'zst-cut',
      { 'big.bin': 'q'.repeat(500_000), 'scm-source.json': '{}' },
      { zstd: true },
    );
    const whole = await readFile(path);
    const cut = whole.subarray(0, whole.length - 20);
    await expect(
      findRootFile(Readable.from([cut]), 'scm-source.json', { maxBytes: 1000, gzip: 'zstd' }),
    ).rejects.toThrow();
    // A frame header declaring a 1 GiB window (window descriptor: exponent 20, mantissa 0).
    const huge = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 20 << 3, ...Buffer.alloc(32)]);
    await expect(
      findRootFile(Readable.from([huge]), 'scm-source.json', { maxBytes: 1000, gzip: 'detect' }),
    ).rejects.toBeInstanceOf(ZstdWindowTooLargeError);
  });

  it('follows every frame of a multi-frame zstd layer and refuses a later frame with a huge window', async () => {
    const tarPath = await archive('zst-multi', {
      'noise.bin': randomBytes(400_000).toString('base64'),
      'zeros.bin': '\0'.repeat(2_000_000),
      'scm-source.json': '{"url":"m"}',
    });
    const tar = await readFile(tarPath);
    const zstd = (input: Buffer, ...args: string[]) => execFileSync('zstd', ['-q', '-c', ...args], { input });
    // Two frames (several blocks each, raw, RLE and compressed, with checksums): the tar split in the middle.
    const half = 1_000_000;
    const multi = Buffer.concat([zstd(tar.subarray(0, half)), zstd(tar.subarray(half))]);
    expect(
      await findRootFile(Readable.from([multi]), 'scm-source.json', { maxBytes: 100, gzip: 'detect' }),
    ).toEqual({ kind: 'found', content: Buffer.from('{"url":"m"}') });
    // The same first frame, then one declaring a 1 GiB window (zstd --long=30 on a stream of unknown size).
    const hostile = Buffer.concat([zstd(tar.subarray(0, half)), zstd(tar.subarray(half), '--long=30')]);
    await expect(
      findRootFile(Readable.from([hostile]), 'scm-source.json', { maxBytes: 100, gzip: 'zstd' }),
    ).rejects.toBeInstanceOf(ZstdWindowTooLargeError);
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

/** One ustar header block. */
function header(name: string, size: number, type: string): Buffer {
  const block = Buffer.alloc(512);
  block.write(name, 0, 100, 'utf8');
  block.write('0000644\0', 100, 'latin1');
  block.write('0000000\0', 108, 'latin1');
  block.write('0000000\0', 116, 'latin1');
  block.write(`${size.toString(8).padStart(11, '0')}\0`, 124, 'latin1');
  block.write('00000000000\0', 136, 'latin1');
  block.write(type, 156, 'latin1');
  block.write('ustar\0', 257, 'latin1');
  block.write('00', 263, 'latin1');
  block.write('        ', 148, 'latin1');
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return block;
}

const pad = (size: number) => Buffer.alloc((512 - (size % 512)) % 512);

/**
 * A tar whose first entry carries a PAX header of `paxBytes` (one huge `comment` record),
 * followed by `scm-source.json`; produced piece by piece, so the test itself holds little.
 */
async function* hostileTar(paxBytes: number, content: string): AsyncGenerator<Buffer> {
  // "<len> comment=<value>\n" where <len> counts the whole record, its own digits included.
  const fixed = ' comment=\n'.length;
  let length = paxBytes;
  const valueBytes = length - String(length).length - fixed;
  yield header('PaxHeaders/big.bin', length, 'x');
  yield Buffer.from(`${length} comment=`);
  const piece = Buffer.alloc(64 * 1024, 0x61);
  for (let left = valueBytes; left > 0; left -= piece.length)
    yield piece.subarray(0, Math.min(left, piece.length));
  yield Buffer.from('\n');
  yield pad(length);
  yield header('big.bin', 3, '0');
  yield Buffer.concat([Buffer.from('abc'), pad(3)]);
  length = Buffer.byteLength(content);
  yield header('scm-source.json', length, '0');
  yield Buffer.concat([Buffer.from(content), pad(length)]);
  yield Buffer.alloc(1024);
}

describe('findRootFile against hostile layers', () => {
  it('keeps at most a bounded number of bytes of a huge PAX header', async () => {
    const stats = { peakBufferedBytes: 0 };
    const found = await findRootFile(
      Readable.from(hostileTar(32 * 1024 * 1024, '{"url":"u"}')),
      'scm-source.json',
      {
        maxBytes: 65536,
        gzip: false,
        stats,
      },
    );
    expect(found).toEqual({ kind: 'found', content: Buffer.from('{"url":"u"}') });
    // The old scanner collected the whole 32 MiB record before looking at it.
    expect(stats.peakBufferedBytes).toBeGreaterThan(0);
    expect(stats.peakBufferedBytes).toBeLessThanOrEqual(MAX_METADATA_BYTES);
  });

  it('still reads PAX headers of ordinary size and counts what it held', async () => {
    const stats = { peakBufferedBytes: 0 };
    const found = await findRootFile(Readable.from(hostileTar(4096, '{"url":"v"}')), 'scm-source.json', {
      maxBytes: 65536,
      gzip: 'detect',
      stats,
    });
    expect(found).toMatchObject({ kind: 'found' });
    expect(stats.peakBufferedBytes).toBe(4096);
  });

  it('never takes the entry behind an unreadably large name record for the wanted file', async () => {
    async function* tar(): AsyncGenerator<Buffer> {
      const size = MAX_METADATA_BYTES + 1;
      yield header('././@LongLink', size, 'L');
      yield Buffer.concat([Buffer.alloc(size, 0x62), pad(size)]);
      yield header('scm-source.json', 2, '0');
      yield Buffer.concat([Buffer.from('{}'), pad(2)]);
      yield Buffer.alloc(1024);
    }
    const found = await findRootFile(Readable.from(tar()), 'scm-source.json', {
      maxBytes: 65536,
      gzip: false,
    });
    expect(found).toEqual({ kind: 'absent' });
  });
});
