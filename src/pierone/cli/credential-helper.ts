import { loadToolConfig, normaliseUrl } from '../../platform/cli/cli-config.js';
import { type CliIo, processIo } from '../../platform/cli/run-cli.js';
import { getToken } from '../../zign/get-token.js';

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  let data = '';
  for await (const chunk of stream) data += chunk.toString();
  return data.trim();
}

/**
 * `docker-credential-pierone get|store|erase|list`: the Docker credential helper protocol.
 * `get` answers with the Zign token as password for user `oauth2`, which Pier One accepts as
 * Basic authentication. Store and erase do nothing: the token is Zign's, not Docker's.
 */
export async function credentialHelper(action: string | undefined, io: CliIo): Promise<number> {
  switch (action) {
    case 'get': {
      const server = await readAll(io.stdin);
      const config = await loadToolConfig('pierone', io.env);
      const host = config.url ? new URL(normaliseUrl(config.url)).host : undefined;
      const asked = server.includes('://') ? new URL(server).host : server.split('/')[0];
      if (!host || asked !== host) {
        // The protocol's way to say "no credentials for this server".
        io.stdout.write('credentials not found in native keychain\n');
        return 1;
      }
      try {
        const token = await getToken('default', ['uid'], {}, { io });
        io.stdout.write(`${JSON.stringify({ ServerURL: server, Username: 'oauth2', Secret: token })}\n`);
        return 0;
      } catch (error) {
        io.stderr.write(`docker-credential-pierone: ${(error as Error).message}\n`);
        return 1;
      }
    }
    case 'store':
    case 'erase':
      await readAll(io.stdin);
      return 0;
    case 'list':
      io.stdout.write('{}\n');
      return 0;
    default:
      io.stderr.write('usage: docker-credential-pierone get|store|erase|list\n');
      return 2;
  }
}

export async function main(argv: string[] = process.argv.slice(2)): Promise<void> {
  process.exitCode = await credentialHelper(argv[0], processIo());
}
