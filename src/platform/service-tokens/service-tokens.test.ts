import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parsePinnedTokens, ServiceTokens } from './service-tokens.js';

/*
 * The wire format, checked on a plain HTTP server that records what arrives: what STUPS' token
 * services expect from python `tokens`. The behaviour against our real token service (rotations,
 * retries) is in src/berry/service-tokens.test.ts.
 */

interface Seen {
  method: string | undefined;
  url: string | undefined;
  headers: IncomingMessage['headers'];
  form: URLSearchParams;
}

describe('service-token requests on the wire', () => {
  let server: Server;
  let tokenUrl: string;
  let dir: string;
  const seen: Seen[] = [];
  let answer: { status: number; body: unknown } = { status: 200, body: {} };

  beforeAll(async () => {
    server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        seen.push({
          method: request.method,
          url: request.url,
          headers: request.headers,
          form: new URLSearchParams(body),
        });
        response.writeHead(answer.status, { 'content-type': 'application/json' });
        response.end(JSON.stringify(answer.body));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    tokenUrl = `http://127.0.0.1:${port}/oauth2/access_token?realm=/services`;
    dir = await mkdtemp(join(tmpdir(), 'service-tokens-'));
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    seen.length = 0;
    answer = { status: 200, body: { access_token: 'token-1', expires_in: 3600, token_type: 'Bearer' } };
    await writeFile(
      join(dir, 'user.json'),
      JSON.stringify({ application_username: 'stups_myapp', application_password: 'p:ss word+1' }),
    );
    await writeFile(
      join(dir, 'client.json'),
      JSON.stringify({ client_id: 'myapp', client_secret: 's3cr:t' }),
    );
  });

  it('POSTs the password grant as a form with Basic client authentication', async () => {
    const tokens = new ServiceTokens({ credentialsDir: dir, tokenUrl }).manage('kio', [
      'uid',
      'application.read',
    ]);
    expect(await tokens.get('kio')).toBe('token-1');
    expect(seen).toHaveLength(1);
    const [request] = seen;
    expect(request?.method).toBe('POST');
    expect(request?.url).toBe('/oauth2/access_token?realm=/services');
    expect(request?.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(Object.fromEntries(request?.form ?? [])).toEqual({
      grant_type: 'password',
      username: 'stups_myapp',
      password: 'p:ss word+1',
      scope: 'uid application.read',
    });
    const basic = Buffer.from(
      String(request?.headers.authorization).replace(/^Basic /, ''),
      'base64',
    ).toString();
    // Form-encoded before Basic (RFC 6749 §2.3.1), so a ':' in the secret cannot split it.
    expect(basic).toBe('myapp:s3cr%3At');
  });

  it('sends a public client (null secret) as client_id in the form', async () => {
    await writeFile(join(dir, 'client.json'), JSON.stringify({ client_id: 'myapp', client_secret: null }));
    const tokens = new ServiceTokens({ credentialsDir: dir, tokenUrl }).manage('t', ['uid']);
    await tokens.get('t');
    expect(seen[0]?.headers.authorization).toBeUndefined();
    expect(seen[0]?.form.get('client_id')).toBe('myapp');
  });

  it('shares one grant between concurrent callers and takes an hour when expires_in is missing', async () => {
    answer = { status: 200, body: { access_token: 'no-expiry', token_type: 'Bearer' } };
    let now = 1_000_000;
    const tokens = new ServiceTokens({ credentialsDir: dir, tokenUrl, now: () => now }).manage('t', ['uid']);
    expect(await Promise.all([tokens.get('t'), tokens.get('t'), tokens.get('t')])).toEqual([
      'no-expiry',
      'no-expiry',
      'no-expiry',
    ]);
    expect(seen).toHaveLength(1);
    now += 39 * 60 * 1000;
    await tokens.get('t');
    expect(seen).toHaveLength(1);
    now += 2 * 60 * 1000;
    await tokens.get('t');
    expect(seen).toHaveLength(2);
  });

  it('names the refusal without the password, and answers that are not tokens', async () => {
    answer = { status: 400, body: { error: 'invalid_scope', error_description: 'unknown scope x' } };
    const tokens = new ServiceTokens({ credentialsDir: dir, tokenUrl }).manage('t', ['x']);
    const refused = await tokens.get('t').catch((error: unknown) => error);
    expect(refused).toMatchObject({
      failure: 'rejected',
      oauthError: 'invalid_scope',
      message: 'invalid_scope: unknown scope x (password grant for stups_myapp, client myapp)',
    });
    // Not a credentials problem: no retry.
    expect(seen).toHaveLength(1);

    answer = { status: 200, body: { token_type: 'Bearer' } };
    await expect(tokens.get('t')).rejects.toMatchObject({ failure: 'invalid_answer' });
    await writeFile(join(dir, 'user.json'), JSON.stringify({ application_username: 'stups_myapp' }));
    await expect(tokens.get('t')).rejects.toThrow(
      `${join(dir, 'user.json')}: application_password is missing`,
    );
  });

  it('parses OAUTH2_ACCESS_TOKENS', () => {
    expect([...parsePinnedTokens('kio=abc, pierone = d=ef,broken,')]).toEqual([
      ['kio', 'abc'],
      ['pierone', 'd=ef'],
    ]);
  });
});
