import { z } from 'zod';

/** The answer of `POST /gc`, as the `pierone gc` command reads it. */
export const GcResultSchema = z.object({
  dry_run: z.boolean(),
  scanned: z.number().int(),
  deleted: z.number().int().describe('Blobs deleted (dry run: that would be)'),
  bytes_freed: z.number().int(),
  links_removed: z.number().int().describe('Repository links no manifest of the repository needed'),
  manifests_deleted: z
    .number()
    .int()
    .default(0)
    .describe('Dead manifests removed: every tag on them deleted (dry run: that would be)'),
  failed: z.number().int().describe('Blobs the blob store failed to delete (retried next run)'),
  duration_ms: z.number().int(),
  candidates: z
    .array(z.object({ digest: z.string(), size: z.number().int() }))
    .optional()
    .describe('Dry run only: what would go (at most 1000)'),
  manifest_candidates: z
    .array(z.object({ repository: z.string(), digest: z.string() }))
    .optional()
    .describe('Dry run only: the dead manifests that would go (at most 1000)'),
});
