import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { writeToFile } from './file-writer.js';
import { DigestCounter } from './hashing.js';

/** 40 MiB in 1 MiB chunks: more than one early-flush interval (32 MiB). */
async function* chunks(): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < 40; i++) yield Buffer.alloc(1024 * 1024, i);
}

describe('writeToFile', () => {
  let dir: string;
  let datasync: ReturnType<typeof vi.spyOn>;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'file-writer-'));
    // FileHandle is not exported by node:fs/promises; its prototype is reachable from one.
    const probe = await open(join(dir, 'probe'), 'w');
    const proto = Object.getPrototypeOf(probe) as { datasync: () => Promise<void> };
    await probe.close();
    datasync = vi.spyOn(proto, 'datasync');
  });
  afterEach(async () => {
    datasync.mockRestore();
    await rm(dir, { recursive: true, force: true });
  });

  it('with sync, flushes as the data arrives and once at the end', async () => {
    const counter = new DigestCounter();
    await writeToFile(chunks(), join(dir, 'a'), { flags: 'w', counter, sync: true });
    expect(datasync).toHaveBeenCalledTimes(2);
    expect(counter.size).toBe(40 * 1024 * 1024);
  });

  it('flushEarly without sync: flushed while arriving, not at the end (the publisher flushes)', async () => {
    const counter = new DigestCounter();
    const path = join(dir, 'b');
    await writeToFile(chunks(), path, { flags: 'w', counter, sync: false, flushEarly: true });
    expect(datasync).toHaveBeenCalledTimes(1);
    const written = await readFile(path);
    expect(written.length).toBe(40 * 1024 * 1024);
    expect(written[39 * 1024 * 1024]).toBe(39);
  });

  it('without sync or flushEarly, never flushes', async () => {
    const counter = new DigestCounter();
    await writeToFile(chunks(), join(dir, 'c'), { flags: 'w', counter, sync: false });
    expect(datasync).not.toHaveBeenCalled();
  });
});
