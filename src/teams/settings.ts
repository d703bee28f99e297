import { z } from 'zod';

/** teams has no settings yet; the empty section keeps the settings tree uniform (`teams: {}`). */
export const TeamSettingsSchema = z.strictObject({});
export type TeamSettings = z.output<typeof TeamSettingsSchema>;
