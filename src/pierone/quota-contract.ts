import { z } from 'zod';

/** Largest quota accepted: 1 PiB, far beyond any team and well inside a double's exact integers. */
export const MAX_QUOTA_BYTES = 2 ** 50;

/** A team's storage usage and quota, as the API and the console show it. */
export const TeamUsageSchema = z.object({
  team: z.string(),
  /** Distinct blobs the team can still reach (live or pending links, not deleted images'), each once. */
  used_bytes: z.number(),
  quota_bytes: z.number().optional(),
  quota_set_by: z.string().optional(),
  quota_set_at: z.string().optional(),
  /** Per repository; a blob shared by two repositories counts in both. */
  repositories: z.array(z.object({ artifact: z.string(), bytes: z.number() })),
});

export const QuotaInputSchema = z.strictObject({
  bytes: z.number().int().min(0).max(MAX_QUOTA_BYTES),
});

export type TeamUsageView = z.infer<typeof TeamUsageSchema>;
