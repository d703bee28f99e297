import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let found: string | undefined;

/**
 * The stups checkout (or installed package) this code runs from: the nearest folder above this
 * module whose package.json is stups'. Files that ship beside the code (the demo org file, the
 * built console, odd's shell programs, senza's moto fixes) are found from here, because the
 * module itself may sit at different depths: src/<component>/ under tsx, dist/<component>/
 * transpiled, or dist/bin/ bundled (scripts/build.mjs).
 */
export function projectRoot(): string {
  if (found) return found;
  const start = dirname(fileURLToPath(import.meta.url));
  for (let dir = start; ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (
      existsSync(manifest) &&
      (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }).name === 'stups'
    )
      return (found = dir);
    if (dirname(dir) === dir) throw new Error(`no stups package.json above ${start}`);
  }
}

/** A path inside the checkout, e.g. `fromProjectRoot('config', 'demo-org.yaml')`. */
export function fromProjectRoot(...parts: string[]): string {
  return join(projectRoot(), ...parts);
}
