import { z } from 'zod';

/** users has no settings yet; the empty section keeps the settings tree uniform (`users: {}`). */
export const UserSettingsSchema = z.strictObject({});
export type UserSettings = z.output<typeof UserSettingsSchema>;
