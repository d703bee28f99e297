import { readdir, readFile } from 'node:fs/promises';
import { extname, join, relative, sep } from 'node:path';
import { promisify } from 'node:util';
import { brotliCompress, constants as zlib, gzip } from 'node:zlib';

export interface StaticFile {
  body: Buffer;
  contentType: string;
  /** Hashed file names never change content: cache them for a year. */
  immutable: boolean;
  /** The body compressed once at start, for clients that accept it (text types only). */
  compressed?: { br: Buffer; gzip: Buffer };
}

/** Text below this size gains less from compression than the headers it costs. */
const COMPRESS_FROM_BYTES = 1024;
const COMPRESSIBLE = new Set(['.html', '.js', '.css', '.svg', '.json', '.txt', '.map']);

const brotli = promisify(brotliCompress);
const gzipped = promisify(gzip);

async function compress(body: Buffer): Promise<{ br: Buffer; gzip: Buffer }> {
  // Once per file at start when the build did not (a console built elsewhere), so the strongest
  // settings cost nothing per request (~0.5 s in all); scripts/build.mjs writes the same.
  const [br, gz] = await Promise.all([
    brotli(body, {
      params: {
        [zlib.BROTLI_PARAM_QUALITY]: zlib.BROTLI_MAX_QUALITY,
        [zlib.BROTLI_PARAM_MODE]: zlib.BROTLI_MODE_TEXT,
        [zlib.BROTLI_PARAM_SIZE_HINT]: body.length,
      },
    }),
    gzipped(body, { level: zlib.Z_BEST_COMPRESSION }),
  ]);
  return { br, gzip: gz };
}

/** Extensions of the compressed copies the build writes beside each compressible file. */
const PRECOMPRESSED = new Set(['.br', '.gz']);

/** The build's compressed copies of `file`, when it wrote both. */
async function precompressed(
  file: string,
  present: ReadonlySet<string>,
): Promise<{ br: Buffer; gzip: Buffer } | undefined> {
  if (!present.has(`${file}.br`) || !present.has(`${file}.gz`)) return undefined;
  const [br, gz] = await Promise.all([readFile(`${file}.br`), readFile(`${file}.gz`)]);
  return { br, gzip: gz };
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
  '.map': 'application/json; charset=utf-8',
};

/**
 * The built app, read into memory once, text files also brotli- and gzip-compressed: a few hundred kilobytes, and serving from memory
 * means no path from a URL ever reaches the file system.
 */
export async function loadStaticFiles(dir: string): Promise<Map<string, StaticFile> | undefined> {
  let names: string[];
  try {
    names = (await readdir(dir, { recursive: true, withFileTypes: true }))
      .filter((entry) => entry.isFile())
      .map((entry) => join(entry.parentPath, entry.name));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const present = new Set(names);
  // Read side by side (some 130 files with the compressed copies): one after another they were
  // a few tens of milliseconds of every `stups up` start (issue 23).
  const entries = await Promise.all(
    names
      // The build's compressed copies (scripts/build.mjs) belong to their original.
      .filter(
        (file) => !(PRECOMPRESSED.has(extname(file)) && present.has(file.slice(0, -extname(file).length))),
      )
      .map(async (file): Promise<[string, StaticFile]> => {
        const path = `/${relative(dir, file).split(sep).join('/')}`;
        const body = await readFile(file);
        const compressible = COMPRESSIBLE.has(extname(file)) && body.length >= COMPRESS_FROM_BYTES;
        return [
          path,
          {
            body,
            contentType: TYPES[extname(file)] ?? 'application/octet-stream',
            immutable: path.startsWith('/assets/'),
            ...(compressible
              ? { compressed: (await precompressed(file, present)) ?? (await compress(body)) }
              : {}),
          },
        ];
      }),
  );
  const files = new Map(entries);
  return files.has('/index.html') ? files : undefined;
}
