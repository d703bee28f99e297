import { describe, expect, it } from 'vitest';
import { RESOURCE_TYPE_ID_PATTERN, SCOPE_ID_PATTERN } from '../../essentials/contract.js';
import {
  AccessRequestBodySchema,
  HOSTNAME_PATTERN,
  MAX_CONTRACT_LIFETIME_MINUTES,
} from '../../even/contract.js';
import { APPLICATION_ID_PATTERN, HttpUrlSchema } from '../../kio/contract.js';
import * as rules from './rules.js';

// The browser checks with copies of the services' patterns (the contracts would bundle zod).
describe('the console validates as the services do', () => {
  it('uses the contracts’ id patterns', () => {
    expect(rules.APPLICATION_ID_PATTERN.source).toBe(APPLICATION_ID_PATTERN.source);
    expect(rules.RESOURCE_TYPE_ID_PATTERN.source).toBe(RESOURCE_TYPE_ID_PATTERN.source);
    expect(rules.SCOPE_ID_PATTERN.source).toBe(SCOPE_ID_PATTERN.source);
  });

  it('accepts the URLs Kio accepts', () => {
    for (const value of [
      'https://a.example.org/x',
      'http://localhost:8080',
      'ftp://x',
      'javascript:x',
      'x',
    ]) {
      expect(rules.urlProblem(value) === undefined, value).toBe(HttpUrlSchema.safeParse(value).success);
    }
  });

  it('checks access requests as even does', () => {
    expect(rules.ACCESS_HOSTNAME_PATTERN.source).toBe(HOSTNAME_PATTERN.source);
    expect(rules.ACCESS_LIFETIME_MAX_MINUTES).toBe(MAX_CONTRACT_LIFETIME_MINUTES);
    const cases = [
      { hostname: 'odd-eu.demo.example.org', reason: 'incident 42', lifetime: '' },
      { hostname: 'odd-eu.demo.example.org', reason: 'x', lifetime: '30' },
      { hostname: '-odd', reason: 'x', lifetime: '' },
      { hostname: '.odd', reason: 'x', lifetime: '' },
      { hostname: 'Odd', reason: 'x', lifetime: '' },
      { hostname: '', reason: 'x', lifetime: '' },
      { hostname: 'odd', reason: '   ', lifetime: '' },
      { hostname: 'odd', reason: 'r'.repeat(1001), lifetime: '' },
      { hostname: 'odd', reason: 'x', lifetime: '0' },
      { hostname: 'odd', reason: 'x', lifetime: '1.5' },
      { hostname: 'odd', reason: 'x', lifetime: '525601' },
    ];
    for (const c of cases) {
      const body = {
        hostname: c.hostname.trim(),
        reason: c.reason,
        ...(c.lifetime ? { lifetime_minutes: c.lifetime } : {}),
      };
      const problems = rules.accessRequestProblems(c);
      expect(Object.keys(problems).length === 0, JSON.stringify(c)).toBe(
        AccessRequestBodySchema.safeParse(body).success,
      );
    }
  });
});
