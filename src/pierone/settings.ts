import { z } from 'zod';

/**
 * Pier One's registry settings. Every field has a default; `parsePierOneConfig({})` is a
 * working configuration.
 */
export const PierOneConfigSchema = z.strictObject({
  anonymousPull: z
    .boolean()
    .default(false)
    .describe('Pulls (and the read-only STUPS API) without any token; otherwise any valid token'),
  publicTeams: z
    .array(z.string().min(1))
    .default([])
    .describe(
      'Teams whose repositories anyone may pull without a token (env STUPS_PIERONE_PUBLIC_TEAMS, comma-separated)',
    ),
  snapshotTagsMutable: z
    .boolean()
    .default(true)
    .describe('Tags ending in `-SNAPSHOT` may be pushed again with other content'),
  maxManifestBytes: z
    .number()
    .int()
    .positive()
    .default(4 * 1024 * 1024)
    .describe('Largest manifest accepted, in bytes (the OCI spec asks for at least 4 MiB)'),
  service: z.string().min(1).default('pierone').describe('The `service` of the Docker token flow'),
  tokenRealm: z
    .url()
    .optional()
    .describe('Token endpoint advertised in `WWW-Authenticate`; default `<pierone URL>/v2/token`'),
  maxScmSourceBytes: z
    .number()
    .int()
    .positive()
    .default(64 * 1024)
    .describe('Largest `scm-source.json` read from an image, in bytes'),
  tagListCacheMs: z
    .number()
    .int()
    .nonnegative()
    .default(1000)
    .describe("How long a tag list is served from memory, in ms (other replicas' pushes); 0 disables"),
  manifestCacheEntries: z
    .number()
    .int()
    .nonnegative()
    .default(2000)
    .describe('Manifests (and immutable tags) kept in memory for reads'),
  attestationKeyRotationDays: z
    .number()
    .int()
    .positive()
    .default(90)
    .describe(
      'Age at which the provenance attestation signing key is replaced; old keys stay published in the attestation JWKS',
    ),
});

/** Pier One's section of the settings tree: the registry settings plus storage and upload purging. */
export const PierOneSettingsSchema = PierOneConfigSchema.extend({
  blobBucket: z
    .string()
    .min(3)
    .optional()
    .describe(
      'Keep blobs in this S3 bucket instead of the data directory (env STUPS_BLOB_BUCKET); AWS settings under platform.aws',
    ),
  uploadPurge: z
    .strictObject({
      intervalSeconds: z
        .number()
        .int()
        .positive()
        .default(3600)
        .describe('How often abandoned uploads are looked for'),
      maxAgeSeconds: z
        .number()
        .int()
        .positive()
        .default(24 * 3600)
        .describe('Unfinished uploads untouched this long are deleted'),
      othersMaxAgeSeconds: z
        .number()
        .int()
        .positive()
        .default(7 * 24 * 3600)
        .describe(
          'Ignored since uploads are shared by all replicas (pierone migration 006); kept so that existing configuration still validates',
        ),
    })
    .prefault({}),
  retention: z
    .strictObject({
      intervalSeconds: z
        .number()
        .int()
        .positive()
        .default(3600)
        .describe(
          'How often the retention job applies the teams’ retention rules (deleting through the audited path as pierone-retention)',
        ),
    })
    .prefault({}),
  gc: z
    .strictObject({
      intervalSeconds: z
        .number()
        .int()
        .positive()
        .default(24 * 3600)
        .describe('How often blobs no manifest refers to are garbage-collected (one replica at a time)'),
      graceSeconds: z
        .number()
        .int()
        .nonnegative()
        .default(24 * 3600)
        .describe(
          'Blobs uploaded, linked or mounted within this time are kept even if no manifest refers to them yet: longer than any push takes from its first layer to its manifest',
        ),
    })
    .prefault({}),
});
export type PierOneSettings = z.output<typeof PierOneSettingsSchema>;
