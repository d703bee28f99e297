import { z } from 'zod';
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
 * Why `line` is not an OpenSSH public key line, or undefined when it is one. The key blob must
 * decode and name the same type as the line, so a placeholder copied from the docs
 * (`ssh-ed25519 AAAA… bastion`) is refused here, in words, rather than by a pattern.
 */
export function hostKeyLineProblem(line: string): string | undefined {
  const [type = '', base64 = ''] = line.split(' ');
  let named = '';
  if (/^[a-z0-9@.-]+$/.test(type) && /^[A-Za-z0-9+/]+={0,2}$/.test(base64) && base64.length % 4 === 0) {
    const blob = Buffer.from(base64, 'base64');
    // The blob starts with the key type as an SSH string: a 4-byte length, then the name.
    if (blob.length >= 4) named = blob.subarray(4, 4 + blob.readUInt32BE(0)).toString('latin1');
  }
  if (named && named === type) return undefined;
  const shown = line.length > 48 ? `${line.slice(0, 48)}…` : line;
  return (
    `"${shown}" is not an OpenSSH public key: give the bastion's host key line "TYPE BASE64 [COMMENT]", ` +
    'e.g. the contents of /etc/ssh/ssh_host_ed25519_key.pub on the bastion ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA… root@odd")'
  );
}

function checkHostKeyLine(line: string, context: z.RefinementCtx): void {
  const problem = hostKeyLineProblem(line);
  if (problem) context.addIssue({ code: 'custom', message: problem });
}

/** How even reaches bastions over SSH; the private key is added by whoever creates the service. */
export const EvenSshSettingsSchema = z.strictObject({
  user: z
    .string()
    .regex(/^[a-z_][a-z0-9_-]{0,31}$/)
    .default('granting-service')
    .describe('User even logs in as on bastions'),
  port: z.number().int().min(1).max(65535).default(22).describe('SSH port of bastions'),
  knownHostKeys: z
    .array(z.string().superRefine(checkHostKeyLine))
    .default([])
    .describe('OpenSSH public keys bastions may present; empty refuses every host unless acceptAnyHostKey'),
  acceptAnyHostKey: z.boolean().default(false).describe('Trust any bastion host key (tests and demos only)'),
  connectTimeoutMs: z.number().int().positive().default(10_000).describe('SSH connect timeout, in ms'),
  commandTimeoutMs: z
    .number()
    .int()
    .positive()
    .default(30_000)
    .describe('Timeout of one bastion command, in ms'),
  idleTimeoutMs: z
    .number()
    .int()
    .nonnegative()
    .default(60_000)
    .describe('Pooled connections are closed after this long unused, in ms'),
  maxConnectionsPerHost: z.number().int().min(1).max(64).default(4).describe('SSH connections per bastion'),
});

/** even's settings without its SSH key, shared by EvenConfigSchema and the settings tree. */
export const EvenBaseSettingsSchema = z.strictObject({
  hostnameTemplates: z
    .array(z.string().min(1))
    .default(['odd-{region}.{team}.example.org'])
    .describe(
      'Bastion names per team: `{team}` must equal a team id of the user, `{region}` and `{any}` match `[a-z0-9-]+`',
    ),
  allowedHosts: z
    .array(AllowedHostSchema)
    .default([])
    .describe(
      'Bastions named explicitly ({hostname, teams?, address?, port?}), optionally restricted to teams',
    ),
  defaultLifetimeMinutes: z
    .number()
    .int()
    .min(1)
    .max(MAX_CONTRACT_LIFETIME_MINUTES)
    .default(DEFAULT_LIFETIME_MINUTES)
    .describe('Lifetime of a grant when the request names none, in minutes'),
  maxLifetimeMinutes: z
    .number()
    .int()
    .min(1)
    .max(MAX_CONTRACT_LIFETIME_MINUTES)
    .default(1440)
    .describe('A request for a longer lifetime is refused, in minutes'),
  expiryCheckIntervalMs: z
    .number()
    .int()
    .positive()
    .default(30_000)
    .describe('How often expired grants are marked and revoked, in ms'),
});

/**
 * even's section of the settings tree (`STUPS_EVEN_CONFIG` JSON is merged into it). The checks
 * across fields run here too, so `stups up` reports them with every other problem before it
 * starts anything.
 */
export const EvenSettingsSchema = EvenBaseSettingsSchema.extend({
  ssh: EvenSshSettingsSchema.prefault({}),
  sshKeyFile: z
    .string()
    .min(1)
    .optional()
    .describe(
      "even's private SSH key file (env STUPS_EVEN_SSH_KEY_FILE); generated into the data directory when unset",
    ),
}).superRefine((settings, context) => {
  settings.hostnameTemplates.forEach((template, i) => {
    try {
      compileHostnameTemplate(template);
    } catch (error) {
      context.addIssue({ code: 'custom', path: ['hostnameTemplates', i], message: (error as Error).message });
    }
  });
  if (settings.defaultLifetimeMinutes > settings.maxLifetimeMinutes) {
    context.addIssue({
      code: 'custom',
      path: ['defaultLifetimeMinutes'],
      message: 'must not exceed maxLifetimeMinutes',
    });
  }
});
export type EvenSettings = z.output<typeof EvenSettingsSchema>;
