import { z } from 'zod';
import { lenientBoolean } from '../platform/http/lenient-schemas.js';

/** Team ids as STUPS uses them: short lowercase slugs (`stups`, `team-a`). */
export const TeamIdSchema = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,62}[a-z0-9]$|^[a-z]$/, 'must be a lowercase slug: letters, digits and dashes');

export const AwsAccountIdSchema = z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id');

export const TeamSchema = z.object({
  id: TeamIdSchema,
  name: z.string(),
  type: z.string(),
  description: z.string(),
  members: z.array(z.string()),
  aws_accounts: z.array(z.string()),
});
export type Team = z.infer<typeof TeamSchema>;

/** `/api/accounts/aws` object; `name` is the owning team's id, as in the original. */
export const AwsAccountSchema = z.object({
  id: z.string(),
  name: z.string(),
  type: z.literal('aws'),
  description: z.string(),
  owner: z.string(),
  disabled: z.boolean(),
});
export type AwsAccount = z.infer<typeof AwsAccountSchema>;

/**
 * How other components ask about teams. In one process it is backed by the team store;
 * a component never reads the teams tables itself.
 */
export interface TeamDirectory {
  getTeam(id: string): Promise<Team | undefined>;
  /** Teams the user is a member of (empty for unknown users). */
  teamsOfMember(uid: string): Promise<Team[]>;
  isMember(teamId: string, uid: string): Promise<boolean>;
  /** The team owning an AWS account, if any. */
  teamOfAccount(accountId: string): Promise<Team | undefined>;
}

/** Team list entries leave out members and accounts, as the original did. */
export const TeamSummarySchema = TeamSchema.pick({ id: true, name: true, type: true, description: true });

export const PutTeamSchema = z.strictObject({
  name: z.string().min(1).max(200),
  type: z.string().min(1).max(50).optional(),
  description: z.string().max(2000).optional(),
  members: z
    .array(z.string().regex(/^[a-z][a-z0-9._-]{0,62}$/, 'must be a user id'))
    .max(1000)
    .optional(),
  aws_accounts: z.array(AwsAccountIdSchema).max(1000).optional(),
});

export const PutAwsAccountSchema = z.strictObject({
  owner: TeamIdSchema.nullable(),
  description: z.string().max(2000).optional(),
  disabled: lenientBoolean.optional(),
});
