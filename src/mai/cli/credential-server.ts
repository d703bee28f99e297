import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TemporaryAwsCredentials } from '../aws/assume-role.js';

/**
 * Fresh credentials are fetched when the cached ones have less than this left. The SDKs refresh
 * container credentials 5 minutes before `Expiration` (some 15): handing out credentials with at
 * least 15 minutes left means a client never receives ones it would throw away at once.
 */
export const REFRESH_MARGIN_MS = 15 * 60 * 1000;

export interface CredentialServerOptions {
  /** Obtains new temporary credentials (Zign's token → STS). */
  obtain: () => Promise<TemporaryAwsCredentials>;
  now: () => number;
  host?: string;
  port?: number;
  /** The authorization token; random when not given. */
  token?: string;
  /** Told (one line, no secret) when obtaining credentials fails, for the server's terminal. */
  onError?: (message: string) => void;
}

export interface CredentialServer {
  url: string;
  token: string;
  server: Server;
  close(): Promise<void>;
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function send(response: ServerResponse, status: number, body: Record<string, unknown>): void {
  response.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  response.end(JSON.stringify(body));
}

/**
 * A loopback endpoint in the format of the ECS/EKS container credential provider
 * (`AWS_CONTAINER_CREDENTIALS_FULL_URI` + `AWS_CONTAINER_AUTHORIZATION_TOKEN`), which every AWS SDK
 * and the AWS CLI read without configuration: long-running processes get credentials that renew
 * themselves, and none are ever written to disk. Without the token: 401; a wrong one: 403 (as
 * aws-vault's `--ecs-server`), so another local user cannot take the credentials.
 */
export async function startCredentialServer(options: CredentialServerOptions): Promise<CredentialServer> {
  const token = options.token ?? randomBytes(32).toString('base64url');
  let cached: TemporaryAwsCredentials | undefined;
  let pending: Promise<TemporaryAwsCredentials> | undefined;

  const current = async (): Promise<TemporaryAwsCredentials> => {
    if (cached && cached.expiration.getTime() - options.now() > REFRESH_MARGIN_MS) return cached;
    // One STS call for any number of clients asking at the same moment.
    pending ??= options.obtain().finally(() => {
      pending = undefined;
    });
    cached = await pending;
    return cached;
  };

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    if (request.method !== 'GET' || (request.url ?? '/').split('?')[0] !== '/') {
      send(response, 404, { Code: 'NotFound', Message: 'GET / only' });
      return;
    }
    const given = request.headers.authorization;
    if (given === undefined || given === '') {
      send(response, 401, { Code: 'Unauthorized', Message: 'the Authorization header is missing' });
      return;
    }
    if (!sameSecret(given, token)) {
      send(response, 403, { Code: 'Forbidden', Message: 'wrong authorization token' });
      return;
    }
    try {
      const credentials = await current();
      send(response, 200, {
        AccessKeyId: credentials.accessKeyId,
        SecretAccessKey: credentials.secretAccessKey,
        Token: credentials.sessionToken,
        Expiration: credentials.expiration.toISOString(),
      });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      options.onError?.(message);
      send(response, 502, { Code: 'CredentialsUnavailable', Message: message });
    }
  };

  const server = createServer((request, response) => {
    void handle(request, response);
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const hostInUrl = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${hostInUrl}:${port}/`,
    token,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
