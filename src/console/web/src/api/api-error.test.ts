import { describe, expect, it } from 'vitest';
import { safeReturnPath } from '../auth/session';
import { plainMessage } from './api-error';

describe('sign-in return paths', () => {
  it('keeps deep links after sign-in inside the app', () => {
    expect(safeReturnPath('/applications/x?y=1')).toBe('/applications/x?y=1');
    expect(safeReturnPath('//evil.example.org')).toBe('/');
    expect(safeReturnPath('https://evil.example.org')).toBe('/');
    expect(safeReturnPath('/auth/callback?code=x')).toBe('/');
    expect(safeReturnPath(undefined)).toBe('/');
  });
});

describe('errors in plain words', () => {
  it('explains each kind of failure', () => {
    expect(plainMessage('kio', 0, undefined)).toBe(
      'The console cannot reach Kio. Check your connection and that the platform is running.',
    );
    expect(plainMessage('kio', 401, 'token expired')).toBe(
      'Your session has ended. Sign in again to continue.',
    );
    expect(plainMessage('kio', 403, 'only members of team demo may change hello')).toBe(
      'You are not allowed to do this: only members of team demo may change hello',
    );
    expect(plainMessage('kio', 404, 'application x does not exist')).toBe(
      'Not found: application x does not exist.',
    );
    expect(plainMessage('essentials', 400, 'team nope does not exist')).toBe(
      'essentials did not accept this: team nope does not exist',
    );
    expect(plainMessage('pierone', 503, undefined)).toBe(
      'Pier One is not available right now. Try again in a moment.',
    );
    expect(plainMessage('fullstop', 502, 'trace: cannot read EC2: no credentials')).toBe(
      'fullstop. could not answer: trace: cannot read EC2: no credentials. Try again in a moment.',
    );
    expect(plainMessage('kio', 500, undefined)).toBe(
      'Kio failed to answer (error 500). Try again; if it keeps failing, tell the platform team.',
    );
  });
});
