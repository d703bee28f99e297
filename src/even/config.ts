import { z } from 'zod';
import { ConfigError } from '../platform/errors.js';
import { DEFAULT_LIFETIME_MINUTES, MAX_CONTRACT_LIFETIME_MINUTES } from './contract.js';
import { compileHostnameTemplate } from './host-policy.js';

/** A bastion named explicitly (e.g. the embedded demo's `localhost`), beside the templates. */
export const AllowedHostSchema = z.strictObject({
  /** The name callers send as `hostname`. */
  hostname: z.string().regex(/^[a-z0-9.-]{1,255}$/),
  /** Teams whose members may use it; omitted = members of any team. */
  teams: z.array(z.string().min(1)).optional(),
  /** Where to connect instead of `hostname` (e.g. `127.0.0.1`). */
  address: z.string().min(1).optional(),
  /** SSH port of this bastion (default: `ssh.port`). */
  port: z.number().int().min(1).max(65535).optional(),
});
export type AllowedHost = z.infer<typeof AllowedHostSchema>;

/**
 * even's configuration. Every field but `ssh.privateKey` has a default:
 * - `hostnameTemplates` (`['odd-{region}.{team}.example.org']`): bastion names per team;
 *   `{team}` must equal a team id of the user, `{region}` and `{any}` match `[a-z0-9-]+`.
 * - `allowedHosts` (`[]`): bastions named explicitly, optionally restricted to teams.
 * - `defaultLifetimeMinutes` (60) and `maxLifetimeMinutes` (1440): a longer request is refused.
 * - `ssh.user` (`granting-service`), `ssh.port` (22), `ssh.privateKey` (OpenSSH/PEM text,
 *   required), `ssh.knownHostKeys` (OpenSSH public keys the bastions may present; empty =
 *   refuse every host unless `ssh.acceptAnyHostKey`), `ssh.connectTimeoutMs` (10000),
 *   `ssh.commandTimeoutMs` (30000), `ssh.idleTimeoutMs` (60000: pooled connections are closed
 *   after this long unused), `ssh.maxConnectionsPerHost` (4).
 * - `expiryCheckIntervalMs` (30000): how often expired grants are marked and revoked.
 */
export const EvenConfigSchema = z.strictObject({
  hostnameTemplates: z.array(z.string().min(1)).default(['odd-{region}.{team}.example.org']),
  allowedHosts: z.array(AllowedHostSchema).default([]),
  defaultLifetimeMinutes: z
    .number()
    .int()
    .min(1)
    .max(MAX_CONTRACT_LIFETIME_MINUTES)
    .default(DEFAULT_LIFETIME_MINUTES),
  maxLifetimeMinutes: z.number().int().min(1).max(MAX_CONTRACT_LIFETIME_MINUTES).default(1440),
  ssh: z.strictObject({
    user: z
      .string()
      .regex(/^[a-z_][a-z0-9_-]{0,31}$/)
      .default('granting-service'),
    port: z.number().int().min(1).max(65535).default(22),
    privateKey: z.string().min(1, 'even needs its own SSH private key'),
    knownHostKeys: z.array(z.string().regex(/^[a-z0-9@.-]+ [A-Za-z0-9+/]+=*( .*)?$/)).default([]),
    acceptAnyHostKey: z.boolean().default(false),
    connectTimeoutMs: z.number().int().positive().default(10_000),
    commandTimeoutMs: z.number().int().positive().default(30_000),
    idleTimeoutMs: z.number().int().nonnegative().default(60_000),
    maxConnectionsPerHost: z.number().int().min(1).max(64).default(4),
  }),
  expiryCheckIntervalMs: z.number().int().positive().default(30_000),
});
export type EvenConfigInput = z.input<typeof EvenConfigSchema>;
export type EvenConfig = z.output<typeof EvenConfigSchema>;

/** Validates the configuration and reports every problem at once as `path: message`. */
export function parseEvenConfig(input: EvenConfigInput): EvenConfig {
  const parsed = EvenConfigSchema.safeParse(input);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `even.${i.path.join('.')}: ${i.message}`));
  }
  const problems: string[] = [];
  parsed.data.hostnameTemplates.forEach((template, i) => {
    try {
      compileHostnameTemplate(template);
    } catch (error) {
      problems.push(`even.hostnameTemplates.${i}: ${(error as Error).message}`);
    }
  });
  if (parsed.data.defaultLifetimeMinutes > parsed.data.maxLifetimeMinutes) {
    problems.push('even.defaultLifetimeMinutes: must not exceed maxLifetimeMinutes');
  }
  // No known host keys is allowed: even starts, and every grant fails naming the missing key,
  // so a platform without bastions yet still runs and never trusts an unknown bastion.
  if (problems.length) throw new ConfigError(problems);
  return parsed.data;
}
