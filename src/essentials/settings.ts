import { z } from 'zod';

/** essentials' section of the settings tree. */
export const EssentialsSettingsSchema = z.strictObject({
  validResourceOwners: z
    .array(z.string().min(1))
    .optional()
    .describe('Resource owners a scope may name (e.g. employees, services); any when unset'),
});
export type EssentialsSettings = z.output<typeof EssentialsSettingsSchema>;
