import { describe, expect, it } from 'vitest';
import { RESOURCE_TYPE_ID_PATTERN, SCOPE_ID_PATTERN } from '../../essentials/contract.js';
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
});
