import type { z } from 'zod';
import { ConfigError } from '../platform/errors.js';
import { PierOneConfigSchema } from './settings.js';

export { PierOneConfigSchema } from './settings.js';

/** Whether a pull from `team`'s namespace needs no token under this configuration. */
export function allowsAnonymousPull(config: PierOneConfig, team: string | undefined): boolean {
  return config.anonymousPull || (team !== undefined && config.publicTeams.includes(team));
}

export type PierOneConfig = z.infer<typeof PierOneConfigSchema>;

/** Validates settings and fills in defaults; reports every problem at once as `path: message`. */
export function parsePierOneConfig(input: unknown = {}): PierOneConfig {
  const result = PierOneConfigSchema.safeParse(input);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((issue) => `pierone.${issue.path.join('.') || '(root)'}: ${issue.message}`),
    );
  }
  return result.data;
}

export const DEFAULT_PIERONE_CONFIG: PierOneConfig = parsePierOneConfig({});
