import { z } from 'zod';

/** One tag as the STUPS API (and the `pierone` CLI) sees it. */
export const TagSchema = z.object({
  name: z.string(),
  /** `2015-04-25T16:25:00.000Z` */
  created: z.string(),
  created_by: z.string(),
  /**
   * The image id, as in STUPS and `docker images`: the digest of the image's config blob; for
   * an index (manifest list), which has no single config, the index's own digest.
   */
  image: z.string(),
  /** Whether the image carries `scm-source.json` (fullstop flags images without). */
  scm_source_present: z.boolean(),
  /** Set once the tag was marked production-ready for an incident/change id. */
  incident_id: z.string().optional(),
});
export type Tag = z.infer<typeof TagSchema>;

export const ScmSourceSchema = z.object({
  url: z.string(),
  revision: z.string(),
  author: z.string(),
  status: z.string(),
  created: z.string(),
});
export type ScmSource = z.infer<typeof ScmSourceSchema>;

export const TagSearchResultSchema = z.object({
  name: z.string(),
  team: z.string(),
  artifact: z.string(),
});

export const ProductionReadySchema = z.strictObject({
  incident_id: z.string().min(1).max(200),
});

export const NameSchema = z.string().regex(/^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/, 'invalid name');
