import type { z } from 'zod';
import { ConfigError } from '../platform/errors.js';
import { TokenServiceConfigSchema } from './settings.js';

export { SIGNING_ALGORITHMS, type SigningAlgorithm, TokenServiceConfigSchema } from './settings.js';

/** What callers pass: every field optional. */
export type TokenServiceConfig = z.input<typeof TokenServiceConfigSchema>;
/** The configuration with every default filled in. */
export type ResolvedTokenServiceConfig = z.output<typeof TokenServiceConfigSchema>;

/** Fills in defaults; throws a ConfigError listing every problem as `path: message`. */
export function resolveTokenServiceConfig(config: TokenServiceConfig = {}): ResolvedTokenServiceConfig {
  const result = TokenServiceConfigSchema.safeParse(config);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((i) => `token-service.${i.path.join('.') || '(root)'}: ${i.message}`),
    );
  }
  return result.data;
}
