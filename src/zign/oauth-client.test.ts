import { describe, expect, it } from 'vitest';
import { CliError } from '../platform/cli/cli-error.js';
import { requestToken } from './oauth-client.js';

const answering =
  (body: unknown): typeof fetch =>
  async () =>
    new Response(JSON.stringify(body), {
      status: 200,
      headers: { 'content-type': 'application/json' },
    });

const request = (body: unknown) =>
  requestToken(
    'http://tokens.example/oauth2/access_token',
    { grant_type: 'password' },
    { client_id: 'zign' },
    {
      fetch: answering(body),
    },
  );

describe('requestToken', () => {
  it('reads a token answer as RFC 6749 §5.1 allows it, with an hour when expires_in is left out', async () => {
    expect(
      await request({ access_token: 'abc', token_type: 'bearer', scope: 'uid', id_token: 'x' }),
    ).toMatchObject({
      access_token: 'abc',
      token_type: 'bearer',
      expires_in: 3600,
      scope: 'uid',
    });
  });

  it('refuses an answer that is not a token response in one line, instead of caching it', async () => {
    const refused = request({ access_token: 'abc', token_type: 'Bearer', expires_in: 'soon' });
    await expect(refused).rejects.toBeInstanceOf(CliError);
    await expect(refused).rejects.toThrow(
      'the token service at http://tokens.example answered something that is not a token response: expires_in:',
    );
  });
});
