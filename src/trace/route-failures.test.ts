import { describe, expect, it } from 'vitest';
import { CliError } from '../platform/cli/cli-error.js';
import { HttpError } from '../platform/cli/http-client.js';
import { NotAllowedError, UpstreamUnavailableError } from '../platform/errors.js';
import { rememberLookups } from './http-sources.js';
import { asRouteError } from './routes.js';
import type { TraceSources } from './sources.js';

describe('GET /api/trace failures', () => {
  it('answers 502 for a service down, overloaded or unreachable and for unreadable AWS; 403 for a refusal; anything else stays a server error', () => {
    const upstream = (error: unknown) => asRouteError(error) instanceof UpstreamUnavailableError;
    expect(upstream(new HttpError('Pier One answered 503: down', 503, undefined))).toBe(true);
    expect(upstream(new HttpError('Kio answered 500: boom', 500, undefined))).toBe(true);
    expect(upstream(new HttpError('Kio answered 429: slow down', 429, undefined))).toBe(true);
    expect(upstream(new CliError('cannot reach Pier One at http://127.0.0.1:1: ECONNREFUSED'))).toBe(true);
    expect(upstream(new CliError('cannot read EC2: no credentials', 2))).toBe(true);
    const mapped = asRouteError(new CliError('cannot read EC2: no credentials', 2));
    expect(mapped).toMatchObject({
      code: 'TRACE_SOURCE_UNAVAILABLE',
      message: 'trace: cannot read EC2: no credentials',
    });

    expect(asRouteError(new HttpError('fullstop answered 403: no', 403, undefined))).toBeInstanceOf(
      NotAllowedError,
    );
    expect(asRouteError(new HttpError('fullstop answered 401: who', 401, undefined))).toBeInstanceOf(
      NotAllowedError,
    );

    // A 400 or 404 to a request the walk built is the walk's fault, not an unavailable source.
    const bad = new HttpError('Kio answered 400: bad query', 400, undefined);
    expect(asRouteError(bad)).toBe(bad);
    const bug = new TypeError('x is undefined');
    expect(asRouteError(bug)).toBe(bug);
  });

  it('reads an instance or a stack once per sources, a failure included', async () => {
    const calls = { instance: 0, stack: 0 };
    const sources = rememberLookups({
      instance: async (id: string) => {
        calls.instance++;
        if (id === 'i-gone') throw new CliError('cannot read EC2: throttled', 2);
        return { id };
      },
      stackInstances: async (name: string, version: string) => {
        calls.stack++;
        return [`${name}-${version}`];
      },
    } as unknown as TraceSources);
    expect(await sources.instance('i-1')).toEqual({ id: 'i-1' });
    expect(await sources.instance('i-1')).toEqual({ id: 'i-1' });
    await expect(sources.instance('i-gone')).rejects.toThrow('throttled');
    await expect(sources.instance('i-gone')).rejects.toThrow('throttled');
    expect(calls.instance).toBe(2);
    expect(await sources.stackInstances('app', '1')).toEqual(['app-1']);
    expect(await sources.stackInstances('app', '1')).toEqual(['app-1']);
    expect(await sources.stackInstances('app', '2')).toEqual(['app-2']);
    expect(calls.stack).toBe(2);
  });
});
