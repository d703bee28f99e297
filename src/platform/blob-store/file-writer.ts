import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type { DigestCounter } from './hashing.js';

export interface WriteToFileOptions {
  /** `w` to create/truncate, `a` to append. */
  flags: 'w' | 'a';
  /** Every chunk is fed to it before being written. */
  counter: DigestCounter;
  /** Flush data to disk before the file is closed. */
  sync: boolean;
  /**
   * Start flushing every `SYNC_EVERY_BYTES` while the data still arrives (default: `sync`).
   * Without the final flush, for a file that is flushed later as a whole (an upload chunk that
   * is published on its own): the last flush then finds little left to write.
   */
  flushEarly?: boolean;
}

/** Bytes gathered before one `writev`: few large writes instead of one per socket chunk. */
const BATCH_BYTES = 1024 * 1024;
/**
 * With `sync`, written data is flushed in the background every this many bytes, so the disk
 * works while the network still delivers, and the final flush has little left to do.
 */
const SYNC_EVERY_BYTES = 32 * 1024 * 1024;

/**
 * Streams `source` into a file, hashing as it goes. Used by every blob write: never holds more
 * than about one batch of the content in memory. On failure, what was written stays written.
 */
export async function writeToFile(
  source: Readable | AsyncIterable<Uint8Array>,
  path: string,
  options: WriteToFileOptions,
): Promise<void> {
  const handle = await open(path, options.flags);
  const flushEarly = options.flushEarly ?? options.sync;
  let failed = false;
  let batch: Uint8Array[] = [];
  let batched = 0;
  let unsynced = 0;
  let syncing: Promise<void> | undefined;
  const flush = async () => {
    if (batched === 0) return;
    const chunks = batch;
    const length = batched;
    batch = [];
    batched = 0;
    await handle.writev(chunks);
    unsynced += length;
    if (flushEarly && unsynced >= SYNC_EVERY_BYTES && !syncing) {
      unsynced = 0;
      syncing = handle.datasync().finally(() => {
        syncing = undefined;
      });
    }
  };
  try {
    for await (const chunk of source) {
      const bytes = chunk as Uint8Array;
      options.counter.update(bytes);
      batch.push(bytes);
      batched += bytes.byteLength;
      if (batched >= BATCH_BYTES) await flush();
    }
    await flush();
    await syncing;
    if (options.sync) await handle.datasync();
  } catch (error) {
    failed = true;
    // Keep the bytes that arrived: a resumable upload continues from the file's size.
    await flush().catch(() => {});
    await syncing?.catch(() => {});
    throw error;
  } finally {
    await handle.close().catch((error: unknown) => {
      if (!failed) throw error;
    });
  }
}
