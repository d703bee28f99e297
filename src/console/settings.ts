import { z } from 'zod';
import { DEFAULT_SCOPES } from './server/console-config.js';

/** The console's section of the settings tree. */
export const ConsoleSettingsSchema = z.strictObject({
  staticDir: z
    .string()
    .min(1)
    .optional()
    .describe('Folder with the built single-page app; default dist/console/web of this checkout'),
  scopes: z.array(z.string().min(1)).default(DEFAULT_SCOPES).describe('Scopes the console asks for at login'),
});
export type ConsoleSettings = z.output<typeof ConsoleSettingsSchema>;
