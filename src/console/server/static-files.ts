import { readdir, readFile } from 'node:fs/promises';
import { extname, join, relative, sep } from 'node:path';

export interface StaticFile {
  body: Buffer;
  contentType: string;
  /** Hashed file names never change content: cache them for a year. */
  immutable: boolean;
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
 * The built app, read into memory once: a few hundred kilobytes, and serving from memory
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
  const files = new Map<string, StaticFile>();
  for (const file of names) {
    const path = `/${relative(dir, file).split(sep).join('/')}`;
    files.set(path, {
      body: await readFile(file),
      contentType: TYPES[extname(file)] ?? 'application/octet-stream',
      immutable: path.startsWith('/assets/'),
    });
  }
  return files.has('/index.html') ? files : undefined;
}
