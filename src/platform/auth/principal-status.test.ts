import { describe, expect, it } from 'vitest';
import type { Principal } from './principal.js';
import { cachedPrincipalCheck } from './principal-status.js';

const principal = (uid: string): Principal => ({
  uid,
  realm: 'employees',
  scopes: new Set(['uid']),
  clientId: undefined,
  grantType: undefined,
  issuer: 'https://issuer.test',
  tokenId: undefined,
  expiresAt: new Date(0),
});

describe('cachedPrincipalCheck', () => {
  it('asks once per principal and TTL, and again after it', async () => {
    let now = 0;
    const disabled = new Set<string>();
    const asked: string[] = [];
    const check = cachedPrincipalCheck(
      async (p) => {
        asked.push(p.uid);
        return disabled.has(p.uid);
      },
      { ttlMs: 5000, now: () => now },
    );
    expect(await Promise.all([check(principal('jdoe')), check(principal('jdoe'))])).toEqual([false, false]);
    expect(asked).toEqual(['jdoe']);
    disabled.add('jdoe');
    // Fresh while its age is at most the TTL (the cache module's rule, lru-cache's), stale after.
    now = 5000;
    expect(await check(principal('jdoe'))).toBe(false);
    now = 5001;
    expect(await check(principal('jdoe'))).toBe(true);
    expect(await check(principal('other'))).toBe(false);
    expect(asked).toEqual(['jdoe', 'jdoe', 'other']);
  });

  it('does not remember a failed answer', async () => {
    let fail = true;
    const check = cachedPrincipalCheck(
      async () => {
        if (fail) throw new Error('directory down');
        return false;
      },
      { ttlMs: 5000, now: () => 0 },
    );
    await expect(check(principal('jdoe'))).rejects.toThrow('directory down');
    fail = false;
    expect(await check(principal('jdoe'))).toBe(false);
  });
});
