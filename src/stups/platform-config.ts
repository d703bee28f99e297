import { resolve } from 'node:path';
import { z } from 'zod';
import { ConfigError } from '../platform/errors.js';
import { SERVICE_NAMES, type ServiceName } from '../platform/service-context.js';
import { ExternalIssuerConfigSchema } from '../platform/auth/external-issuer.js';

/**
 * Everything `stups up` and `stups serve` need, read once from flags and environment by
 * `main` and validated here, all problems reported together.
 */
export const PlatformConfigSchema = z.strictObject({
  /** Embedded database, blobs and generated certificates live here. Flag `--data-dir`, env `STUPS_DATA_DIR`. */
  dataDir: z.string().min(1).default('./.stups'),
  /** `postgres://…` switches from embedded PGlite to PostgreSQL (env `DATABASE_URL`). A `?schema=` parameter isolates installations. */
  databaseUrl: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
    .optional(),
  /** Interface to listen on (flag `--host`, env `STUPS_HOST`). */
  host: z.string().min(1).default('127.0.0.1'),
  /** Host name in the URLs the platform hands out (env `STUPS_PUBLIC_HOST`); defaults to `localhost` on loopback. */
  publicHost: z.string().min(1).optional(),
  /** Services listen on consecutive ports from here, in the order of SERVICE_NAMES (flag `--base-port`, env `STUPS_BASE_PORT`); 0 picks a free block. */
  basePort: z.coerce.number().int().min(0).max(65_000).default(8090),
  /** PEM certificate and key for HTTPS (flags `--tls-cert`/`--tls-key`). */
  tlsCert: z.string().optional(),
  tlsKey: z.string().optional(),
  /** Generate and keep a self-signed certificate in the data directory (flag `--self-signed`); the default off loopback. */
  selfSigned: z.boolean().optional(),
  /** Organisation to seed: teams, users, admins (flag `--org`, env `STUPS_ORG_FILE`). */
  orgFile: z.string().optional(),
  /**
   * Encrypts the token service's private signing keys at rest (env `STUPS_KEY_ENCRYPTION_SECRET`).
   * Required with PostgreSQL; with the embedded database one is generated into the data directory.
   */
  keyEncryptionSecret: z.string().min(16).optional(),
  /**
   * Public URL of a service when it is not at its `stups up` port, e.g. behind a load balancer
   * (env `STUPS_URL_TOKEN_SERVICE=https://auth.example.org`, `STUPS_URL_KIO=…`). The token
   * service's URL is the issuer every service trusts.
   */
  urls: z.partialRecord(z.enum(SERVICE_NAMES), z.url()).default({}),
  /**
   * Keep Pier One's blobs in this S3 bucket instead of the data directory (env `STUPS_BLOB_BUCKET`).
   * Endpoint and region come from `AWS_ENDPOINT_URL[_S3]` and `AWS_REGION`, credentials from the
   * standard AWS chain.
   */
  blobBucket: z.string().min(3).optional(),
  s3: z
    .strictObject({
      endpoint: z.url().optional(),
      region: z.string().optional(),
      forcePathStyle: z.boolean().optional(),
    })
    .default({}),
  /**
   * even's settings as JSON (env `STUPS_EVEN_CONFIG`): bastion hostname templates, allowed hosts,
   * lifetimes; see EvenConfigSchema in src/even/config.ts. Its SSH key comes from `evenSshKeyFile`.
   */
  even: z.record(z.string(), z.unknown()).default({}),
  /** Teams whose Pier One images anyone may pull without a token (env `STUPS_PIERONE_PUBLIC_TEAMS`, comma-separated). */
  pieronePublicTeams: z.array(z.string().min(1)).default([]),
  /** even's private SSH key (env `STUPS_EVEN_SSH_KEY_FILE`); generated into the data directory when absent. */
  evenSshKeyFile: z.string().optional(),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** External OIDC issuers whose tokens every service accepts, as JSON (env `STUPS_EXTERNAL_ISSUERS`). */
  externalIssuers: z.array(ExternalIssuerConfigSchema).default([]),
});
export type PlatformConfig = z.infer<typeof PlatformConfigSchema>;

export function parsePlatformConfig(input: Record<string, unknown>): PlatformConfig {
  const result = PlatformConfigSchema.safeParse(
    Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)),
  );
  const problems: string[] = result.success
    ? []
    : result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
  if (result.success && (result.data.tlsCert === undefined) !== (result.data.tlsKey === undefined)) {
    problems.push('tlsCert/tlsKey: give both a certificate and a key, or neither');
  }
  if (result.success && result.data.databaseUrl && !result.data.keyEncryptionSecret) {
    problems.push(
      'keyEncryptionSecret: set STUPS_KEY_ENCRYPTION_SECRET (16+ characters) when using PostgreSQL, the same for every replica',
    );
  }
  if (problems.length || !result.success) throw new ConfigError(problems);
  return { ...result.data, dataDir: resolve(result.data.dataDir) };
}

/** Reads the platform's environment variables; only `main` passes `process.env` here. */
export function configFromEnv(env: NodeJS.ProcessEnv): Record<string, unknown> {
  let even: unknown;
  if (env.STUPS_EVEN_CONFIG) {
    try {
      even = JSON.parse(env.STUPS_EVEN_CONFIG);
    } catch {
      throw new ConfigError(['STUPS_EVEN_CONFIG: must be a JSON object (see EvenConfigSchema)']);
    }
  }
  let externalIssuers: unknown;
  if (env.STUPS_EXTERNAL_ISSUERS) {
    try {
      externalIssuers = JSON.parse(env.STUPS_EXTERNAL_ISSUERS);
    } catch {
      throw new ConfigError([
        'STUPS_EXTERNAL_ISSUERS: must be a JSON array of {issuer, audience, jwksUri?, realm?, realmClaim?, uidClaim?, timeoutMs?}',
      ]);
    }
  }
  const urls: Record<string, string> = {};
  for (const name of SERVICE_NAMES) {
    const value = env[`STUPS_URL_${name.toUpperCase().replace(/-/g, '_')}`];
    if (value) urls[name] = value.replace(/\/+$/, '');
  }
  const s3Endpoint = env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL;
  return {
    even,
    evenSshKeyFile: env.STUPS_EVEN_SSH_KEY_FILE || undefined,
    pieronePublicTeams: env.STUPS_PIERONE_PUBLIC_TEAMS
      ? env.STUPS_PIERONE_PUBLIC_TEAMS.split(',')
          .map((t) => t.trim())
          .filter(Boolean)
      : undefined,
    urls,
    blobBucket: env.STUPS_BLOB_BUCKET || undefined,
    s3: {
      ...(s3Endpoint ? { endpoint: s3Endpoint, forcePathStyle: true } : {}),
      ...(env.AWS_REGION || env.AWS_DEFAULT_REGION
        ? { region: env.AWS_REGION || env.AWS_DEFAULT_REGION }
        : {}),
    },
    dataDir: env.STUPS_DATA_DIR,
    databaseUrl: env.DATABASE_URL || undefined,
    host: env.STUPS_HOST,
    publicHost: env.STUPS_PUBLIC_HOST,
    basePort: env.STUPS_BASE_PORT,
    orgFile: env.STUPS_ORG_FILE,
    logLevel: env.STUPS_LOG_LEVEL,
    keyEncryptionSecret: env.STUPS_KEY_ENCRYPTION_SECRET,
    externalIssuers,
  };
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

export function portOf(config: PlatformConfig, service: ServiceName): number {
  return config.basePort + SERVICE_NAMES.indexOf(service);
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
