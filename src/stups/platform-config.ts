import { z } from 'zod';
import { ExternalIssuerConfigSchema } from '../platform/auth/external-issuer.js';
import { AwsSettingsSchema } from '../platform/aws/client-config.js';
import { DEFAULT_IDLE_TIMEOUT_MS } from '../platform/http/create-http-app.js';
import { DEFAULT_SHUTDOWN_GRACE_MS } from '../platform/http/connection-drain.js';
import { SERVICE_NAMES, SERVICE_PORT_OFFSETS, type ServiceName } from '../platform/service-context.js';
import { secret } from '../platform/settings/schema-walk.js';

/**
 * The `platform:` section of the settings tree: what every service shares. `stups up` reads it
 * with the module sections from stups.yaml, the environment and flags (src/stups/settings.ts).
 */
export const PlatformConfigSchema = z.strictObject({
  dataDir: z
    .string()
    .min(1)
    .default('./.stups')
    .describe(
      'Embedded database, blobs, generated keys and certificates (flag --data-dir, env STUPS_DATA_DIR)',
    ),
  databaseUrl: secret(z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL'))
    .optional()
    .describe(
      'postgres:// URL switching from embedded PGlite to PostgreSQL (env DATABASE_URL); `?schema=` isolates installations',
    ),
  databasePoolSize: z.coerce
    .number()
    .int()
    .min(1)
    .max(1000)
    .default(10)
    .describe(
      'Most PostgreSQL connections one process opens for requests and jobs (env STUPS_PLATFORM__DATABASE_POOL_SIZE); each process also holds one LISTEN connection. Size max_connections for replicas × (this + 1)',
    ),
  host: z
    .string()
    .min(1)
    .default('127.0.0.1')
    .describe('Interface to listen on (flag --host, env STUPS_HOST)'),
  publicHost: z
    .string()
    .min(1)
    .optional()
    .describe(
      'Host name in the URLs the platform hands out (env STUPS_PUBLIC_HOST); `localhost` on loopback',
    ),
  basePort: z.coerce
    .number()
    .int()
    .min(0)
    .max(65_000)
    .default(8090)
    .describe(
      'First port of the block; each service listens at its offset in SERVICE_PORT_OFFSETS (flag --base-port, env STUPS_BASE_PORT); 0 picks a free block',
    ),
  tlsCert: z.string().optional().describe('PEM certificate for HTTPS (flag --tls-cert)'),
  tlsKey: z.string().optional().describe('Private key of tlsCert (flag --tls-key)'),
  selfSigned: z
    .boolean()
    .optional()
    .describe(
      'Serve HTTPS with a self-signed certificate kept in the data directory; the default off loopback',
    ),
  orgFile: z
    .string()
    .optional()
    .describe(
      'Organisation to seed: teams, users, admins (flag --org, env STUPS_ORG_FILE); default the demo org',
    ),
  keyEncryptionSecret: secret(z.string().min(16))
    .optional()
    .describe(
      'Installation secret, the same on every replica (env STUPS_KEY_ENCRYPTION_SECRET); required with PostgreSQL, generated into the data directory otherwise',
    ),
  urls: z
    .partialRecord(z.enum(SERVICE_NAMES), z.url())
    .default({})
    .describe(
      "Public URL of a service not at its stups up port, e.g. behind a load balancer (env STUPS_URL_<SERVICE>); the token service's is the issuer",
    ),
  logLevel: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
    .default('info')
    .describe('Log level (flag --log-level, env STUPS_LOG_LEVEL)'),
  externalIssuers: z
    .array(ExternalIssuerConfigSchema)
    .default([])
    .describe(
      "External OIDC issuers whose tokens every service accepts: {issuer, audience, jwksUri?, realm?, realmClaim?, uidClaim?, timeoutMs?} (env STUPS_EXTERNAL_ISSUERS, JSON); audience is required, and a token's own realm claim is believed only through realmClaim",
    ),
  idleTimeoutSeconds: z.coerce
    .number()
    .int()
    .min(1)
    .max(3600)
    .default(DEFAULT_IDLE_TIMEOUT_MS / 1000)
    .describe(
      'Seconds a connection of any service may go without a byte in either direction before it is closed; bounds a request whose body never completes without cutting a slow but progressing upload. Keep it above the idle timeout of a load balancer in front (AWS: 60)',
    ),
  shutdownGraceSeconds: z.coerce
    .number()
    .min(0)
    .max(600)
    .default(DEFAULT_SHUTDOWN_GRACE_MS / 1000)
    .describe(
      "Seconds requests in flight get to finish when a service stops, before their connections are cut; idle connections (and ones that never sent a request) are closed at once. Keep it below the orchestrator's own kill deadline (Kubernetes: 30)",
    ),
  aws: AwsSettingsSchema.prefault({}),
});
export type PlatformConfig = z.infer<typeof PlatformConfigSchema>;

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

/** A service's port: the base port plus the service's offset in the port map. */
export function portOf(config: Pick<PlatformConfig, 'basePort'>, service: ServiceName): number {
  return config.basePort + SERVICE_PORT_OFFSETS[service];
}

/** Whether the platform serves HTTPS: given certificates, asked for, or bound beyond loopback. */
export function usesTls(config: PlatformConfig): boolean {
  return config.tlsCert !== undefined || (config.selfSigned ?? !isLoopback(config.host));
}

export function serviceUrls(config: PlatformConfig): Record<ServiceName, string> {
  const scheme = usesTls(config) ? 'https' : 'http';
  const host = config.publicHost ?? (isLoopback(config.host) ? 'localhost' : config.host);
  return Object.fromEntries(
    SERVICE_NAMES.map((name) => [name, config.urls[name] ?? `${scheme}://${host}:${portOf(config, name)}`]),
  ) as Record<ServiceName, string>;
}
