import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fromProjectRoot } from '../platform/project-root.js';

/** The odd programs that run on a bastion (POSIX sh). */
export const ODD_PROGRAMS = [
  'grant-ssh-access',
  'revoke-ssh-access',
  'revoke-expired-ssh-access',
  'odd-forced-command',
] as const;

/**
 * Where the odd shell programs and `install.sh` are: `src/odd` of the checkout (or installed
 * package), whether this module runs from `src/`, `dist/` or a bundle.
 */
export function oddSourceDir(): string {
  const dir = fromProjectRoot('src', 'odd');
  if (!existsSync(join(dir, 'install.sh'))) throw new Error(`odd's programs are not found in ${dir}`);
  return dir;
}
