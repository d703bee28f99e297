import { z } from 'zod';
import { ConfigError } from '../platform/errors.js';

/**
 * Pier One's settings. Every field has a default; `parsePierOneConfig({})` is a working
 * configuration. `main` reads environment or file values and passes them here once.
 */
export const PierOneConfigSchema = z.strictObject({
  /** Pulls (and the read-only STUPS API) without any token. Default `false`: any valid token. */
  anonymousPull: z.boolean().default(false),
  /** Teams whose repositories anyone may pull (and read through the STUPS API) without a token. */
  publicTeams: z.array(z.string().min(1)).default([]),
  /** Tags ending in `-SNAPSHOT` may be pushed again with other content. Default `true`. */
  snapshotTagsMutable: z.boolean().default(true),
  /** Largest manifest accepted, in bytes (the OCI spec asks for at least 4 MiB). Default 4 MiB. */
  maxManifestBytes: z
    .number()
    .int()
    .positive()
    .default(4 * 1024 * 1024),
  /** The `service` of the Docker token flow. Default `pierone`. */
  service: z.string().min(1).default('pierone'),
  /**
   * Token endpoint advertised in `WWW-Authenticate`. Default `<urls.pierone>/v2/token`, taken from
   * the service context at request time.
   */
  tokenRealm: z.url().optional(),
  /** Largest `scm-source.json` read from an image, in bytes. Default 64 KiB. */
  maxScmSourceBytes: z
    .number()
    .int()
    .positive()
    .default(64 * 1024),
  /**
   * How long a repository's tag list is served from memory, in milliseconds. Pushes through this
   * process show at once; other replicas' pushes within this time. Default 1000; 0 disables.
   */
  tagListCacheMs: z.number().int().nonnegative().default(1000),
  /** Manifests (and immutable tags) kept in memory for reads. Default 2,000. */
  manifestCacheEntries: z.number().int().nonnegative().default(2000),
});

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
