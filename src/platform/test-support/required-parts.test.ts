import { describe, expect, it, vi } from 'vitest';
import { requiredParts, skipWithout } from './required-parts.js';

describe('STUPS_REQUIRE', () => {
  it('turns a missing required part into a failure and only warns about others', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      expect(skipWithout('sshd', undefined, 'sshd')).toBe(false);
      expect(() => skipWithout('sshd', '/usr/sbin/sshd is missing', 'postgres, sshd')).toThrow(
        'sshd is required (STUPS_REQUIRE=postgres, sshd) but missing: /usr/sbin/sshd is missing',
      );
      expect(skipWithout('chromium', '/usr/bin/chromium is missing', 'sshd')).toBe(true);
      expect(warn).toHaveBeenCalledWith('SKIPPING tests that need chromium: /usr/bin/chromium is missing');
    } finally {
      warn.mockRestore();
    }
  });

  it('refuses unknown part names, so a typo cannot switch the check off', () => {
    expect([...requiredParts('postgres,chromium')]).toEqual(['postgres', 'chromium']);
    expect(requiredParts('').size).toBe(0);
    expect(() => requiredParts('postgress')).toThrow('STUPS_REQUIRE names unknown parts: postgress');
  });
});
