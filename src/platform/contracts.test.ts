import { describe, expect, it } from 'vitest';
import { ContractRegistry } from './contracts.js';
import { ConfigError } from './errors.js';

// The registry is typed through declaration merging; this test adds a contract of its own.
declare module './contracts.js' {
  interface Contracts {
    testClock: { now(): number };
  }
}

describe('ContractRegistry', () => {
  it('lets later modules read what earlier ones published', () => {
    const registry = new ContractRegistry();
    const clock = { now: () => 42 };
    expect(registry.readerFor('reader').find('testClock')).toBeUndefined();
    registry.publish('provider', { testClock: clock });
    expect(registry.readerFor('reader').get('testClock').now()).toBe(42);
  });

  it('names the module that needs a contract nobody provided', () => {
    const error = (() => {
      try {
        new ContractRegistry().readerFor('mint').get('testClock');
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      'mint: needs contract "testClock", which no module before it in MODULES provides',
    ]);
  });

  it('refuses a second provider of the same contract', () => {
    const registry = new ContractRegistry();
    registry.publish('one', { testClock: { now: () => 1 } });
    expect(() => registry.publish('two', { testClock: { now: () => 2 } })).toThrow(
      'two: contract "testClock" is already provided by another module',
    );
  });
});
