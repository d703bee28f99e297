import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { delimiter, join } from 'node:path';

/** The name docker and skopeo derive from `credHelpers[host] = "pierone"`. */
export const CREDENTIAL_HELPER = 'docker-credential-pierone';

/**
 * The first executable `name` on the `PATH` of `env`, as docker and skopeo look it up (they run
 * `docker-credential-<helper>` through exec.LookPath); undefined when none is found.
 */
export async function findOnPath(name: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    // An empty entry means the current directory to a shell, but LookPath refuses it since Go 1.19.
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      if (!(await stat(candidate)).isFile()) continue;
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Missing or not executable: keep looking, as the shell does.
    }
  }
  return undefined;
}

/**
 * What to do when the helper is not on PATH, in one line. `package.json` maps every CLI of the
 * checkout to `bin/*.js` (which run the compiled `dist/`), so `npm install -g .` puts them all on PATH
 * at once; adding the checkout's own bin directory works too but needs the `.js` names, which
 * docker does not look for, so it is not offered.
 */
export function helperMissingMessage(root: string): string {
  return (
    `${CREDENTIAL_HELPER} is not on PATH, so docker and skopeo cannot use this login: ` +
    `run "npm run build && npm install -g ." in ${root} (puts it and the other STUPS CLIs on PATH, as docs/walkthrough.md shows), then check with "command -v ${CREDENTIAL_HELPER}"`
  );
}
