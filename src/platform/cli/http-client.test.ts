import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { CliError } from './cli-error.js';
import { DEFAULT_CLI_TIMEOUT_MS, HttpClient, timeoutMsFrom } from './http-client.js';

const servers: Array<Server | HttpServer> = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

async function listen(server: Server | HttpServer): Promise<string> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('the CLIs’ HTTP client', () => {
  it('gives up on a service that accepts the connection and never answers, naming it', async () => {
    const silent = createServer((socket) => void sockets.push(socket));
    const baseUrl = await listen(silent);
    const kio = new HttpClient({ baseUrl, service: 'Kio', timeoutMs: 300, timeoutSetting: 'KIO_TIMEOUT' });
    const failure = await kio.json('GET', '/apps').catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(CliError);
    expect((failure as CliError).message).toBe(
      `Kio at ${baseUrl} did not answer within 0.3 s (set KIO_TIMEOUT to wait longer)`,
    );
  });

  it('names the socket error of an unreachable service, also when every address of a name failed', async () => {
    const closed = createServer();
    const baseUrl = await listen(closed);
    await new Promise((resolve) => closed.close(resolve));
    servers.splice(servers.indexOf(closed), 1);
    const one = new HttpClient({ baseUrl, service: 'Kio', timeoutSetting: 'KIO_TIMEOUT' });
    await expect(one.json('GET', '/apps')).rejects.toThrow(`cannot reach Kio at ${baseUrl}: ECONNREFUSED`);

    // What Node's fetch throws when a name has several addresses and each refused (happy
    // eyeballs): the codes are inside an AggregateError, which has neither code nor message.
    const refused = (address: string) =>
      Object.assign(new Error(`connect ECONNREFUSED ${address}`), { code: 'ECONNREFUSED' });
    const several = new HttpClient({
      baseUrl: 'http://localhost:1',
      service: 'Kio',
      timeoutSetting: 'KIO_TIMEOUT',
      fetch: () =>
        Promise.reject(
          new TypeError('fetch failed', {
            cause: new AggregateError([refused('::1:1'), refused('127.0.0.1:1')]),
          }),
        ),
    });
    await expect(several.json('GET', '/apps')).rejects.toThrow(
      'cannot reach Kio at http://localhost:1: ECONNREFUSED',
    );
  });

  it('gives up on an answer whose body stalls after the headers', async () => {
    const stalling = createHttpServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.write('[{"id":');
      sockets.push(response.socket!);
    });
    const baseUrl = await listen(stalling);
    const kio = new HttpClient({ baseUrl, service: 'Kio', timeoutMs: 300 });
    await expect(kio.json('GET', '/apps')).rejects.toThrow(`Kio at ${baseUrl} did not answer within 0.3 s`);
  });

  it('still answers quickly served calls, and reads the bound from a tool setting', async () => {
    const quick = createHttpServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' }).end('[1,2]');
    });
    const kio = new HttpClient({ baseUrl: await listen(quick), service: 'Kio', timeoutMs: 300 });
    expect(await kio.json('GET', '/apps')).toEqual([1, 2]);

    expect(timeoutMsFrom(undefined, 'KIO_TIMEOUT')).toBe(DEFAULT_CLI_TIMEOUT_MS);
    expect(timeoutMsFrom('2.5', 'KIO_TIMEOUT')).toBe(2_500);
    for (const bad of ['0', '-1', 'soon', '1e9']) {
      expect(() => timeoutMsFrom(bad, 'KIO_TIMEOUT')).toThrow(
        `KIO_TIMEOUT must be a number of seconds between 0 and 86400, not "${bad}"`,
      );
    }
  });
});
