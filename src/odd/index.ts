import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fromProjectRoot } from '../platform/project-root.js';

/** The odd programs that run on a bastion (POSIX sh). */
export const ODD_PROGRAMS = [
  'grant-ssh-access',
  'revoke-ssh-access',
  'revoke-expired-ssh-access',
  'odd-forced-command',
] as const;

/**
 * Where the odd shell programs and `install.sh` are: next to this module when run from
 * `src/`, or in `src/odd` of the checkout when run from the built `dist/`.
 */
export function oddSourceDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const candidate of [here, fromProjectRoot('src', 'odd')]) {
    if (existsSync(join(candidate, 'install.sh'))) return candidate;
  }
  throw new Error(`odd's programs are not found next to ${here}`);
}
