import { z } from 'zod';

/** `_type` of an in-toto Statement v1. */
export const IN_TOTO_STATEMENT_V1 = 'https://in-toto.io/Statement/v1';
/** `predicateType` of a SLSA provenance v1 predicate. */
export const SLSA_PROVENANCE_V1 = 'https://slsa.dev/provenance/v1';
/** DSSE `payloadType` of an in-toto statement (also the media type of an unsigned statement). */
export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
/** The build type `pierone attest` records: a CI build whose source is the image's scm-source. */
export const STUPS_CI_BUILD_TYPE = 'https://stups.io/provenance/ci-build/v1';

const Rfc3339 = z.iso.datetime({ offset: true });

/** An in-toto ResourceDescriptor: something identified by URI and/or digest. */
export const ResourceDescriptorSchema = z.looseObject({
  uri: z.string().min(1).optional(),
  digest: z.record(z.string(), z.string().min(1)).optional(),
  name: z.string().optional(),
  annotations: z.record(z.string(), z.unknown()).optional(),
});
export type ResourceDescriptor = z.infer<typeof ResourceDescriptorSchema>;

/** Who asked Pier One to sign: set by Pier One from the caller's token, never by the client. */
export const InvokerSchema = z.strictObject({ uid: z.string().min(1), realm: z.string().min(1) });
export type Invoker = z.infer<typeof InvokerSchema>;

/** The SLSA provenance v1 predicate (https://slsa.dev/spec/v1.0/provenance). */
export const SlsaProvenanceV1Schema = z.looseObject({
  buildDefinition: z.looseObject({
    buildType: z.string().min(1),
    externalParameters: z.record(z.string(), z.unknown()),
    internalParameters: z.record(z.string(), z.unknown()).optional(),
    resolvedDependencies: z.array(ResourceDescriptorSchema).optional(),
  }),
  runDetails: z.looseObject({
    builder: z.looseObject({
      id: z.string().min(1),
      version: z.record(z.string(), z.string()).optional(),
    }),
    metadata: z
      .looseObject({
        invocationId: z.string().optional(),
        startedOn: Rfc3339.optional(),
        finishedOn: Rfc3339.optional(),
      })
      .optional(),
  }),
});
export type SlsaProvenanceV1 = z.infer<typeof SlsaProvenanceV1Schema>;

/** An in-toto Statement v1 whose subjects are identified by digest sets (sha256 or sha512 here). */
export const InTotoStatementSchema = z.looseObject({
  _type: z.literal(IN_TOTO_STATEMENT_V1),
  subject: z
    .array(
      z.looseObject({
        name: z.string().optional(),
        digest: z.record(z.string(), z.string().min(1)),
      }),
    )
    .min(1),
  predicateType: z.string().min(1),
  predicate: z.record(z.string(), z.unknown()),
});
export type InTotoStatement = z.infer<typeof InTotoStatementSchema>;

/** The statement Pier One signs: in-toto v1 with a SLSA provenance v1 predicate. */
export const ProvenanceStatementSchema = InTotoStatementSchema.extend({
  predicateType: z.literal(SLSA_PROVENANCE_V1),
  predicate: SlsaProvenanceV1Schema,
});
export type ProvenanceStatement = z.infer<typeof ProvenanceStatementSchema>;

/**
 * `sha256:<hex>` or `sha512:<hex>` → its algorithm and hex, the key and value an in-toto digest
 * set uses (`{ sha256: hex }`); undefined for anything else.
 */
export function digestParts(digest: string): { algorithm: 'sha256' | 'sha512'; hex: string } | undefined {
  const match = /^(?:sha256:([a-f0-9]{64})|sha512:([a-f0-9]{128}))$/.exec(digest);
  if (!match) return undefined;
  return match[1] ? { algorithm: 'sha256', hex: match[1] } : { algorithm: 'sha512', hex: match[2]! };
}

/**
 * The git commit a provenance statement was built from: the `gitCommit` of the resolved
 * dependency that is the source (the first one carrying a gitCommit).
 */
export function sourceOf(
  predicate: SlsaProvenanceV1,
): { uri: string | undefined; commit: string } | undefined {
  for (const dependency of predicate.buildDefinition.resolvedDependencies ?? []) {
    const commit = dependency.digest?.gitCommit;
    if (commit) return { uri: dependency.uri, commit };
  }
  return undefined;
}
