import { z } from 'zod';
import { ConfigError } from '../platform/errors.js';
import { compileHostnameTemplate } from './host-policy.js';
import { EvenBaseSettingsSchema, EvenSshSettingsSchema } from './settings.js';

export { type AllowedHost, AllowedHostSchema } from './settings.js';

/**
 * even's configuration: the settings (src/even/settings.ts, every field described and
 * defaulted there) plus `ssh.privateKey`, the one value without a default.
 */
export const EvenConfigSchema = EvenBaseSettingsSchema.extend({
  ssh: EvenSshSettingsSchema.extend({
    privateKey: z.string().min(1, 'even needs its own SSH private key'),
  }),
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
