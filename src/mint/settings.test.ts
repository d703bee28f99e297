import { describe, expect, it } from 'vitest';
import { MintSettingsSchema } from './settings.js';

describe('mint settings', () => {
  it('takes a grace and a worker interval in fractions of a second, keeping the defaults', () => {
    const defaults = MintSettingsSchema.parse({});
    expect(defaults.retirementGraceSeconds).toBe(2 * 120 + 3600);
    expect(defaults.rotationIntervalSeconds).toBe(10);
    expect(
      MintSettingsSchema.parse({ retirementGraceSeconds: 1.5, rotationIntervalSeconds: 0.25 }),
    ).toMatchObject({ retirementGraceSeconds: 1.5, rotationIntervalSeconds: 0.25 });
  });

  it('refuses a grace or an interval of 0 or less, saying why', () => {
    for (const value of [0, -1]) {
      const grace = MintSettingsSchema.safeParse({ retirementGraceSeconds: value });
      expect(grace.success).toBe(false);
      expect(grace.error?.issues[0]).toMatchObject({
        path: ['retirementGraceSeconds'],
        message: 'must be more than 0 seconds',
      });
      expect(MintSettingsSchema.safeParse({ rotationIntervalSeconds: value }).success).toBe(false);
    }
  });
});
