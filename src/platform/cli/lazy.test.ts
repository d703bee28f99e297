import { describe, expect, it } from 'vitest';
import { lazy } from './lazy.js';

describe('lazy', () => {
  it('loads nothing until called, then once, and tries a failed load again', async () => {
    let loads = 0;
    let fail = true;
    const module = lazy(async () => {
      loads++;
      if (fail) throw new Error('cannot load');
      return { answer: 42 };
    });
    expect(loads).toBe(0);
    await expect(module()).rejects.toThrow('cannot load');
    fail = false;
    const [a, b] = await Promise.all([module(), module()]);
    expect(a).toBe(b);
    expect(a.answer).toBe(42);
    expect(loads).toBe(2);
  });
});
