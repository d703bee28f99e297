import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { z } from 'zod';
import { ConfigError } from '../platform/errors.js';
import { ApplicationPutSchema } from '../kio/contract.js';
import { ScopeSchema, ServiceUserInputSchema } from '../token-service/contract.js';
import { AwsAccountIdSchema, TeamIdSchema } from '../teams/contract.js';
import { UidSchema } from '../users/contract.js';

/** The organisation file: who works here, in which teams, owning which AWS accounts. */
export const OrgFileSchema = z.strictObject({
  admins: z.array(UidSchema).default([]),
  teams: z
    .array(
      z.strictObject({
        id: TeamIdSchema,
        name: z.string().min(1),
        type: z.string().optional(),
        description: z.string().default(''),
        members: z.array(UidSchema).default([]),
        aws_accounts: z.array(AwsAccountIdSchema).default([]),
      }),
    )
    .default([]),
  users: z
    .array(
      z.strictObject({
        uid: UidSchema,
        name: z.string().min(1),
        email: z.email(),
        /** Plain text in the file; stored only as a scrypt hash. */
        password: z.string().min(1).optional(),
        ssh_keys: z.array(z.string()).default([]),
      }),
    )
    .default([]),
  /** Applications registered in Kio on first seeding (Kio's PUT body plus `id`); later edits win. */
  applications: z.array(ApplicationPutSchema.extend({ id: z.string() })).default([]),
  /**
   * Service users of the token service, each with an OAuth client of the same name: created when
   * missing with generated secrets written to `<data dir>/credentials/<name>/` (mint's
   * CREDENTIALS_DIR files); application, team and scopes follow the file when it changes.
   */
  service_users: z
    .array(
      z.strictObject({
        name: ServiceUserInputSchema.shape.username,
        application: z.string().min(1),
        team: TeamIdSchema.optional(),
        scopes: z.array(ScopeSchema).default([]),
      }),
    )
    .default([]),
});
export type OrgFile = z.infer<typeof OrgFileSchema>;

export interface LoadedOrg {
  org: OrgFile;
  /** Content hash: seeding runs again only when the file changed. */
  hash: string;
  path: string;
}

/** Reads and validates an org file, reporting every problem as `file: path: message`. */
export async function loadOrgFile(path: string): Promise<LoadedOrg> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError([
      `${path}: cannot read (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
    ]);
  }
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (error) {
    throw new ConfigError([`${path}: not valid YAML: ${(error as Error).message.split('\n')[0]}`]);
  }
  const result = OrgFileSchema.safeParse(raw ?? {});
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((i) => `${path}: ${i.path.join('.') || '(root)'}: ${i.message}`),
    );
  }
  const org = result.data;
  const problems: string[] = [];
  const seenTeams = new Set<string>();
  const accountOwner = new Map<string, string>();
  for (const [i, team] of org.teams.entries()) {
    if (seenTeams.has(team.id)) problems.push(`${path}: teams.${i}.id: team ${team.id} appears twice`);
    seenTeams.add(team.id);
    for (const account of team.aws_accounts) {
      const owner = accountOwner.get(account);
      if (owner)
        problems.push(`${path}: teams.${i}.aws_accounts: ${account} already belongs to team ${owner}`);
      accountOwner.set(account, team.id);
    }
  }
  const seenServiceUsers = new Set<string>();
  for (const [i, user] of org.service_users.entries()) {
    if (seenServiceUsers.has(user.name))
      problems.push(`${path}: service_users.${i}.name: service user ${user.name} appears twice`);
    seenServiceUsers.add(user.name);
  }
  if (problems.length) throw new ConfigError(problems);
  return { org, hash: createHash('sha256').update(text).digest('hex'), path };
}
