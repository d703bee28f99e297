import { ConfigError } from './errors.js';

/**
 * The contracts components offer each other, keyed by name. Empty here: each component adds
 * its own in its `module.ts` by declaration merging, so the kernel names no component:
 *
 *   declare module '../platform/contracts.js' {
 *     interface Contracts { teams: TeamDirectory }
 *   }
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled by declaration merging.
export interface Contracts {}

/** How a module reads contracts that modules before it in MODULES published. */
export interface ContractReader {
  /** The contract; a ConfigError naming the reader when no earlier module provided it. */
  get<K extends keyof Contracts>(key: K): Contracts[K];
  find<K extends keyof Contracts>(key: K): Contracts[K] | undefined;
}

/** The runtime's registry: modules publish in MODULES order, later modules read. */
export class ContractRegistry {
  private readonly contracts = new Map<string, unknown>();

  publish(provider: string, contracts: Partial<Contracts>): void {
    for (const [key, value] of Object.entries(contracts)) {
      if (this.contracts.has(key)) {
        throw new ConfigError([`${provider}: contract "${key}" is already provided by another module`]);
      }
      this.contracts.set(key, value);
    }
  }

  /** A reader for one module, so that a missing contract names who needed it. */
  readerFor(reader: string): ContractReader {
    const find = <K extends keyof Contracts>(key: K) => this.contracts.get(key) as Contracts[K] | undefined;
    return {
      find,
      get: (key) => {
        const value = find(key);
        if (value === undefined) {
          throw new ConfigError([
            `${reader}: needs contract "${String(key)}", which no module before it in MODULES provides`,
          ]);
        }
        return value;
      },
    };
  }
}
