import { z } from 'zod';

/** What the token service's admin API answers, as the `stups` admin commands read it. */
export const ServiceUserSchema = z.object({
  username: z.string(),
  application_id: z.string().nullable(),
  team_id: z.string().nullable(),
  scopes: z.array(z.string()),
  disabled: z.boolean(),
  password: z.string().optional(),
});
export type ServiceUserView = z.output<typeof ServiceUserSchema>;

export const ClientSchema = z.object({
  client_id: z.string(),
  name: z.string(),
  type: z.enum(['public', 'confidential']),
  realms: z.array(z.string()),
  grant_types: z.array(z.string()),
  redirect_uris: z.array(z.string()),
  scopes: z.array(z.string()).nullable(),
  disabled: z.boolean(),
  client_secret: z.string().optional(),
});
export type ClientView = z.output<typeof ClientSchema>;
