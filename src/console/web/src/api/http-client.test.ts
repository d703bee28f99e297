// @vitest-environment happy-dom
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from './api-error';
import { HttpClient, type TokenSource } from './http-client';

function json(status: number, body: unknown, type = 'application/json'): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': type } });
}

describe('calls to the services', () => {
  let fetchMock: ReturnType<typeof vi.fn>;
  let token: string;
  let tokens: TokenSource & {
    refresh: ReturnType<typeof vi.fn<() => Promise<boolean>>>;
    expired: ReturnType<typeof vi.fn<() => void>>;
  };
  let client: HttpClient;

  beforeEach(() => {
    fetchMock = vi.fn();
    vi.stubGlobal('fetch', fetchMock);
    token = 'old';
    tokens = {
      accessToken: async () => token,
      refresh: vi.fn<() => Promise<boolean>>(async () => {
        token = 'new';
        return true;
      }),
      expired: vi.fn<() => void>(),
    };
    client = new HttpClient((service) => `/api/${service}`, tokens);
  });
  afterEach(() => vi.unstubAllGlobals());

  it('goes through the same-origin proxy with the bearer token and the query', async () => {
    fetchMock.mockResolvedValue(json(200, [{ id: 'kio' }]));
    expect(
      await client.get('kio', '/apps', { query: { search: 'a b', team_id: undefined, limit: 5 } }),
    ).toEqual([{ id: 'kio' }]);
    const [url, init] = fetchMock.mock.calls[0]! as [URL, RequestInit];
    expect(url.pathname + url.search).toBe('/api/kio/apps?search=a+b&limit=5');
    expect(init.headers).toMatchObject({ authorization: 'Bearer old', accept: 'application/json' });
  });

  it('refreshes once on 401 and repeats the call with the new token', async () => {
    fetchMock
      .mockResolvedValueOnce(json(401, { detail: 'token expired' }))
      .mockResolvedValueOnce(json(200, {}));
    await client.put('kio', '/apps/x', { name: 'X' });
    expect(tokens.refresh).toHaveBeenCalledOnce();
    const second = fetchMock.mock.calls[1]![1] as RequestInit;
    expect(second.headers).toMatchObject({ authorization: 'Bearer new', 'content-type': 'application/json' });
    expect(second.body).toBe('{"name":"X"}');
    expect(tokens.expired).not.toHaveBeenCalled();
  });

  it('sends a plain-text body as it is, not as a JSON string', async () => {
    fetchMock.mockResolvedValue(json(200, { id: 7 }));
    await client.postText('fullstop', '/api/violations/7/resolution', 'Known, see "INC-7"');
    const [url, init] = fetchMock.mock.calls[0]! as [URL, RequestInit];
    expect(url.pathname).toBe('/api/fullstop/api/violations/7/resolution');
    expect(init.method).toBe('POST');
    expect(init.headers).toMatchObject({ 'content-type': 'text/plain; charset=utf-8' });
    expect(init.body).toBe('Known, see "INC-7"');
  });

  it('ends the session when a refresh does not help', async () => {
    tokens.refresh.mockResolvedValue(false);
    fetchMock.mockResolvedValue(json(401, { detail: 'token revoked' }));
    await expect(client.get('essentials', '/resource-types')).rejects.toMatchObject({
      status: 401,
      message: 'Your session has ended. Sign in again to continue.',
    });
    expect(tokens.expired).toHaveBeenCalledOnce();
  });

  it("turns the service's problem+json into a sentence", async () => {
    fetchMock.mockResolvedValue(
      json(
        403,
        {
          status: 403,
          detail: 'only members of team demo may change application hello',
          code: 'NOT_ALLOWED',
        },
        'application/problem+json',
      ),
    );
    const error = await client.put('kio', '/apps/hello', {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({
      status: 403,
      service: 'kio',
      detail: 'only members of team demo may change application hello',
      message: 'You are not allowed to do this: only members of team demo may change application hello',
    });
  });

  it('says so when a service cannot be reached', async () => {
    fetchMock.mockRejectedValue(new TypeError('Failed to fetch'));
    await expect(client.get('pierone', '/teams')).rejects.toMatchObject({
      status: 0,
      message: 'The console cannot reach Pier One. Check your connection and that the platform is running.',
    });
  });
});
