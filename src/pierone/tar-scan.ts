import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { Decompress } from 'fzstd';

/** What a layer's tar says about one file in the root of the image. */
export type RootFileLookup =
  | { kind: 'found'; content: Buffer }
  | { kind: 'too-large'; size: number }
  /** A whiteout (`.wh.<name>` or an opaque root) hides the file of lower layers. */
  | { kind: 'deleted' }
  | { kind: 'absent' };

const BLOCK = 512;

/**
 * Largest PAX or GNU long-name record kept to learn the next entry's name. Real ones hold a path
 * and a few attributes (a few KiB); anything larger is skipped unread, so that a hostile layer
 * costs at most this much memory, whatever it declares.
 */
export const MAX_METADATA_BYTES = 64 * 1024;

/**
 * Largest zstd window accepted (fzstd allocates the window a frame declares, up to 2 GiB, and
 * supports back-references of at most 2^25 bytes anyway). `zstd` uses at most 8 MiB below level 20.
 */
export const MAX_ZSTD_WINDOW_BYTES = 32 * 1024 * 1024;

const ZSTD_MAGIC = [0x28, 0xb5, 0x2f, 0xfd];

/** Thrown when a zstd frame asks for more memory than the scanner grants. */
export class ZstdWindowTooLargeError extends Error {}

/** The window a zstd frame header declares (RFC 8878 §3.1.1.1), or undefined when the header is incomplete. */
function zstdWindowSize(head: Uint8Array): number | undefined {
  if (head.length < 6) return undefined;
  const descriptor = head[4]!;
  const singleSegment = (descriptor & 0x20) !== 0;
  if (!singleSegment) {
    const wd = head[5]!;
    const base = 2 ** (10 + (wd >> 3));
    return base + (base / 8) * (wd & 7);
  }
  const dictBytes = [0, 1, 2, 4][descriptor & 3]!;
  const sizeBytes = [1, 2, 4, 8][descriptor >> 6]!;
  const start = 5 + dictBytes;
  if (head.length < start + sizeBytes) return undefined;
  let size = 0;
  for (let i = sizeBytes - 1; i >= 0; i--) size = size * 256 + head[start + i]!;
  return sizeBytes === 2 ? size + 256 : size;
}

/** A name no root file can have: marks an entry whose real name was in a record too large to read. */
const UNKNOWN_NAME = '\0unknown/';

/** What the scanner held in memory, for callers (and tests) that check its bound. */
export interface ScanStats {
  /** Most bytes of the tar held at once (header block, metadata record or the wanted file). */
  peakBufferedBytes: number;
}

function rootName(path: string): string | undefined {
  let name = path;
  while (name.startsWith('./')) name = name.slice(2);
  while (name.startsWith('/')) name = name.slice(1);
  if (name.endsWith('/')) name = name.slice(0, -1);
  return name.includes('/') || name === '' ? undefined : name;
}

function cString(block: Buffer, start: number, length: number): string {
  const end = block.indexOf(0, start);
  return block.toString('utf8', start, end < 0 || end > start + length ? start + length : end);
}

/** Octal size, or GNU base-256 for files of 8 GiB and more. */
function numeric(block: Buffer, start: number, length: number): number {
  if ((block[start]! & 0x80) !== 0) {
    let value = 0;
    for (let i = start + 1; i < start + length; i++) value = value * 256 + block[i]!;
    return value;
  }
  const text = cString(block, start, length).trim();
  return text === '' ? 0 : Number.parseInt(text, 8);
}

function paxPath(records: Buffer): string | undefined {
  let offset = 0;
  let path: string | undefined;
  while (offset < records.length) {
    const space = records.indexOf(0x20, offset);
    if (space < 0) break;
    const length = Number.parseInt(records.toString('utf8', offset, space), 10);
    if (!Number.isFinite(length) || length <= 0) break;
    const record = records.toString('utf8', space + 1, offset + length - 1);
    const eq = record.indexOf('=');
    if (eq > 0 && record.slice(0, eq) === 'path') path = record.slice(eq + 1);
    offset += length;
  }
  return path;
}

/**
 * Streams a (gzip- or zstd-compressed or plain) tar and looks for `fileName` in its root. Memory is
 * bounded: file data is skipped as it flows by; only the wanted file (up to `maxBytes`) and
 * PAX/GNU long-name records are kept (plus, for zstd, the frame's window of at most
 * {@link MAX_ZSTD_WINDOW_BYTES} and one block). Stops reading as soon as the answer is known.
 * `gzip: 'detect'` recognises gzip and zstd by their magic bytes.
 */
export async function findRootFile(
  layer: Readable,
  fileName: string,
  options: { maxBytes: number; gzip: boolean | 'detect' | 'zstd'; stats?: ScanStats },
): Promise<RootFileLookup> {
  const stats = options.stats;
  const buffered = (bytes: number) => {
    if (stats && bytes > stats.peakBufferedBytes) stats.peakBufferedBytes = bytes;
  };
  const whiteout = `.wh.${fileName}`;
  let source: AsyncIterable<Buffer> = layer;
  let gunzip: ReturnType<typeof createGunzip> | undefined;
  let pending: Buffer[] = [];
  let pendingBytes = 0;

  const iterator = source[Symbol.asyncIterator]();
  let first: IteratorResult<Buffer> | undefined;
  let gzip = options.gzip;
  if (gzip === 'detect') {
    first = await iterator.next();
    const head = first.done ? undefined : first.value;
    if (head && ZSTD_MAGIC.every((b, i) => head[i] === b)) gzip = 'zstd';
    else gzip = head !== undefined && head[0] === 0x1f && head[1] === 0x8b;
  }
  const replay = (async function* () {
    if (first && !first.done) yield first.value;
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      yield next.value;
    }
  })();
  source = replay;
  const zstd = gzip === 'zstd';
  if (gzip === true) {
    const inflater = createGunzip();
    gunzip = inflater;
    const input = replay;
    // The pump ends in the inflater either way: a read failure destroys it with that error, which the
    // loop below then sees as the inflater's error; so nothing is left to reject here.
    void (async () => {
      try {
        for await (const chunk of input) if (!inflater.write(chunk)) await onceDrain(inflater);
        inflater.end();
      } catch (error) {
        inflater.destroy(error instanceof Error ? error : new Error(String(error)));
      }
    })();
    source = inflater;
  }

  // Parser state.
  let skip = 0;
  type Collecting = { size: number; into: 'file' | 'pax' | 'longname'; parts: Buffer[]; got: number };
  let collect: Collecting | undefined;
  let padding = 0;
  let nextPath: string | undefined;
  let result: RootFileLookup | undefined;

  function take(n: number): Buffer | undefined {
    if (pendingBytes < n) return undefined;
    const all = pending.length === 1 ? pending[0]! : Buffer.concat(pending);
    const head = all.subarray(0, n);
    const rest = all.subarray(n);
    pending = rest.length ? [rest] : [];
    pendingBytes = rest.length;
    return head;
  }

  function onHeader(block: Buffer): boolean {
    if (block.every((b) => b === 0)) return false;
    const type = String.fromCharCode(block[156]!);
    const size = numeric(block, 124, 12);
    let path = cString(block, 0, 100);
    if (block.toString('latin1', 257, 262) === 'ustar') {
      const prefix = cString(block, 345, 155);
      if (prefix) path = `${prefix}/${path}`;
    }
    if (nextPath !== undefined) {
      path = nextPath;
      nextPath = undefined;
    }
    padding = (BLOCK - (size % BLOCK)) % BLOCK;
    if (type === 'x' || type === 'L') {
      if (size > MAX_METADATA_BYTES) {
        // Skipped, not read: the entry it names is then of unknown name and never the wanted file.
        nextPath = UNKNOWN_NAME;
        skip = size + padding;
        padding = 0;
        return true;
      }
      collect = { size, into: type === 'x' ? 'pax' : 'longname', parts: [], got: 0 };
      return true;
    }

    const name = rootName(path);
    if (name === '.wh..wh..opq') {
      result = { kind: 'deleted' };
      return false;
    }
    if (name === whiteout) {
      result = { kind: 'deleted' };
      return false;
    }
    if (name === fileName && (type === '0' || type === '\0' || type === '7')) {
      if (size > options.maxBytes) {
        result = { kind: 'too-large', size };
        return false;
      }
      collect = { size, into: 'file', parts: [], got: 0 };
      return true;
    }
    skip = size + padding;
    padding = 0;
    return true;
  }

  function onCollected(done: Collecting): boolean {
    const data = Buffer.concat(done.parts);
    if (done.into === 'file') {
      result = { kind: 'found', content: data };
      return false;
    }
    if (done.into === 'pax') nextPath = paxPath(data) ?? nextPath;
    else nextPath = cString(data, 0, data.length);
    return true;
  }

  /** Feeds tar bytes to the parser; false once the answer is known. */
  function consume(chunk: Buffer): boolean {
    let offset = 0;
    while (offset < chunk.length) {
      if (skip > 0) {
        const n = Math.min(skip, chunk.length - offset);
        skip -= n;
        offset += n;
        continue;
      }
      if (collect) {
        const n = Math.min(collect.size - collect.got, chunk.length - offset);
        // A copy: a view would keep the whole decompressed chunk alive, not just these bytes.
        collect.parts.push(Buffer.from(chunk.subarray(offset, offset + n)));
        collect.got += n;
        buffered(collect.got);
        offset += n;
        if (collect.got === collect.size) {
          const done = collect;
          collect = undefined;
          skip = padding;
          padding = 0;
          if (!onCollected(done)) return false;
        }
        continue;
      }
      const need = BLOCK - pendingBytes;
      const n = Math.min(need, chunk.length - offset);
      pending.push(Buffer.from(chunk.subarray(offset, offset + n)));
      pendingBytes += n;
      buffered(pendingBytes);
      offset += n;
      const header = take(BLOCK);
      if (header) {
        if (!onHeader(header)) return false;
        // onHeader may have started collecting; an empty entry is complete at once.
        const started = collect as Collecting | undefined;
        if (started && started.size === 0) {
          const done = started;
          collect = undefined;
          if (!onCollected(done)) return false;
        }
      }
    }
    return true;
  }

  try {
    if (zstd) await inflateZstd(source, consume);
    else for await (const chunk of source) if (!consume(chunk)) break;
  } finally {
    layer.destroy();
    gunzip?.destroy();
  }
  return result ?? { kind: 'absent' };
}

/** Thrown from fzstd's data handler to stop it once the tar parser has its answer. */
const STOP = Symbol('stop');

/**
 * Decompresses zstd as it arrives and hands each block (at most 128 KiB) straight to `consume`,
 * so nothing but fzstd's window and one block is held. A corrupt or truncated stream throws.
 */
async function inflateZstd(input: AsyncIterable<Buffer>, consume: (chunk: Buffer) => boolean): Promise<void> {
  const state = { done: false };
  const decompressor = new Decompress((block) => {
    if (state.done || block.length === 0) return;
    if (!consume(Buffer.from(block.buffer, block.byteOffset, block.length))) {
      state.done = true;
      // eslint-disable-next-line @typescript-eslint/only-throw-error -- a private signal, caught below
      throw STOP;
    }
  });
  const guard = new ZstdFrameGuard();
  try {
    for await (const chunk of input) {
      guard.feed(chunk);
      decompressor.push(chunk);
      if (state.done) return;
    }
    decompressor.push(new Uint8Array(0), true);
  } catch (error) {
    if (error !== STOP) throw error;
  }
}

/**
 * Follows the frame and block headers of a zstd stream (RFC 8878) ahead of fzstd and refuses any
 * frame, not only the first, whose window exceeds {@link MAX_ZSTD_WINDOW_BYTES}: fzstd would
 * allocate it before decoding a byte. Holds at most one header (≤ 18 bytes).
 */
class ZstdFrameGuard {
  #need = 4;
  #header: number[] = [];
  #skip = 0;
  #phase: 'magic' | 'skippable' | 'frame' | 'block' = 'magic';
  #checksum = 0;

  feed(chunk: Uint8Array): void {
    let offset = 0;
    while (offset < chunk.length) {
      if (this.#skip > 0) {
        const n = Math.min(this.#skip, chunk.length - offset);
        this.#skip -= n;
        offset += n;
        continue;
      }
      this.#header.push(chunk[offset++]!);
      if (this.#header.length === this.#need) this.#onHeader(this.#header);
    }
  }

  #onHeader(h: number[]): void {
    if (this.#phase === 'magic') {
      this.#header = [];
      if (ZSTD_MAGIC.every((b, i) => h[i] === b)) {
        this.#phase = 'frame';
        this.#need = 2;
      } else if ((h[0]! & 0xf0) === 0x50 && h[1] === 0x2a && h[2] === 0x4d && h[3] === 0x18) {
        this.#phase = 'skippable';
        this.#need = 4;
      } else {
        // Not zstd: fzstd reports it as it sees it.
        this.#need = Number.POSITIVE_INFINITY;
      }
      return;
    }
    if (this.#phase === 'skippable') {
      this.#skip = h[0]! + h[1]! * 0x100 + h[2]! * 0x10000 + h[3]! * 0x1000000;
      this.#reset();
      return;
    }
    if (this.#phase === 'frame') {
      const descriptor = h[0]!;
      const singleSegment = (descriptor & 0x20) !== 0;
      const fcsBytes = [singleSegment ? 1 : 0, 2, 4, 8][descriptor >> 6]!;
      const full = 1 + (singleSegment ? 0 : 1) + [0, 1, 2, 4][descriptor & 3]! + fcsBytes;
      if (h.length < full) {
        this.#need = full;
        return;
      }
      const window = zstdWindowSize(Buffer.from([...ZSTD_MAGIC, ...h]));
      if (window === undefined || window > MAX_ZSTD_WINDOW_BYTES) {
        throw new ZstdWindowTooLargeError(`zstd frame window of ${window ?? 'unknown'} bytes is too large`);
      }
      this.#checksum = (descriptor & 4) !== 0 ? 4 : 0;
      this.#phase = 'block';
      this.#header = [];
      this.#need = 3;
      return;
    }
    const raw = h[0]! + h[1]! * 0x100 + h[2]! * 0x10000;
    const last = (raw & 1) !== 0;
    const type = (raw >> 1) & 3;
    const size = raw >> 3;
    this.#header = [];
    this.#skip = type === 1 ? 1 : size;
    if (last) {
      this.#skip += this.#checksum;
      this.#reset();
    }
  }

  #reset(): void {
    this.#phase = 'magic';
    this.#header = [];
    this.#need = 4;
  }
}

function onceDrain(stream: NodeJS.WritableStream): Promise<void> {
  return new Promise((resolve) => stream.once('drain', () => resolve()));
}
