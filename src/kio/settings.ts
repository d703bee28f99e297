import { z } from 'zod';
import { DEFAULT_SEARCH_SETTINGS } from './application-registry.js';

/** Kio's section of the settings tree. */
export const KioSettingsSchema = z.strictObject({
  search: z
    .strictObject({
      candidateLimit: z
        .number()
        .int()
        .min(1)
        .default(DEFAULT_SEARCH_SETTINGS.candidateLimit)
        .describe('Matches ranked at most per search'),
      defaultLimit: z
        .number()
        .int()
        .min(1)
        .default(DEFAULT_SEARCH_SETTINGS.defaultLimit)
        .describe('Hits answered when the client sends no `limit`'),
    })
    .prefault({}),
});
export type KioSettings = z.output<typeof KioSettingsSchema>;
