import { join } from 'node:path';
import { writePrivateFile } from '../platform/cli/cli-config.js';

/*
 * mint's credentials directory, as the STUPS libraries read it with `CREDENTIALS_DIR` and
 * `OAUTH2_ACCESS_TOKEN_URL`: `user.json` {application_username, application_password} and
 * `client.json` {client_id, client_secret}. Files are owner-only (0600, directory 0700).
 */

export async function writeUserCredentials(dir: string, username: string, password: string): Promise<string> {
  const file = join(dir, 'user.json');
  await writePrivateFile(
    file,
    `${JSON.stringify({ application_username: username, application_password: password }, null, 2)}\n`,
  );
  return file;
}

export async function writeClientCredentials(dir: string, clientId: string, secret: string): Promise<string> {
  const file = join(dir, 'client.json');
  await writePrivateFile(
    file,
    `${JSON.stringify({ client_id: clientId, client_secret: secret }, null, 2)}\n`,
  );
  return file;
}
