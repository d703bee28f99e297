import { parse } from 'yaml';
import { z } from 'zod';

/**
 * The parts of a Taupage user data document (`taupage.yaml`) the rules read. Everything else
 * (environment, mounts, …) is kept out: it may hold secrets and no rule needs it.
 */
const TaupageUserDataSchema = z.looseObject({
  application_id: z.union([z.string(), z.number()]).transform(String).optional(),
  application_version: z.union([z.string(), z.number()]).transform(String).optional(),
  source: z.string().optional(),
  runtime: z.string().optional(),
});
export type TaupageUserData = z.infer<typeof TaupageUserDataSchema>;

/** The user data of a base64 YAML log, or undefined when it is not a YAML mapping. */
export function parseUserData(base64: string): TaupageUserData | undefined {
  let doc: unknown;
  try {
    doc = parse(Buffer.from(base64, 'base64').toString('utf8'));
  } catch {
    return undefined;
  }
  const parsed = TaupageUserDataSchema.safeParse(doc);
  return parsed.success ? parsed.data : undefined;
}
