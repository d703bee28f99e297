import {
  AttestationVerificationError,
  matchScmSource,
  verifyAttestation,
} from '../../pierone/provenance/verify.js';
import { broken, ok, unknown, type TraceLink } from '../chain.js';
import type { ImageFacts, ScmSourceFacts, TraceSources } from '../sources.js';

export interface ProvenanceResult {
  link: TraceLink;
  /** A ticket the provenance records (`externalParameters.ticket`), when verified and present. */
  ticket: string | undefined;
}

/**
 * The image's signed build provenance. Missing is a break; present but not checked (without
 * `verify`) is unknown; with `verify`, a signature that does not verify with Pier One's key set,
 * or a commit other than scm-source.json's revision, is a break.
 */
export async function provenanceLink(
  sources: TraceSources,
  image: ImageFacts,
  scm: ScmSourceFacts | undefined,
  verify: boolean,
): Promise<ProvenanceResult> {
  const label = `${image.artifact}:${image.tag}`;
  if (!image.manifestDigest) {
    return {
      link: unknown('provenance', label, 'the registry did not tell the manifest digest'),
      ticket: undefined,
    };
  }
  const attestations = await sources.attestations(image.team, image.artifact, image.manifestDigest);
  if (attestations.length === 0) {
    return {
      link: broken('provenance', label, 'provenance missing: no attestation attached to the image'),
      ticket: undefined,
    };
  }
  if (!verify) {
    return {
      link: unknown('provenance', label, 'not verified (run with --verify)', {
        attestations: attestations.length,
      }),
      ticket: undefined,
    };
  }
  const jwks = await sources.jwks();
  const failures: string[] = [];
  for (const attestation of attestations) {
    try {
      const verified = verifyAttestation(attestation.envelope, jwks, { subjectDigest: image.manifestDigest });
      const facts = {
        builder: verified.builderId,
        commit: verified.commit,
        source: verified.sourceUri ?? null,
        invoker: verified.invoker?.uid ?? null,
        key: verified.keyId,
        finished: verified.finishedOn ?? null,
      };
      const match = matchScmSource(verified, scm);
      if (!match.matches) {
        return {
          link: broken(
            'provenance',
            label,
            match.reason === 'no-scm-source'
              ? 'provenance invalid: the image has no scm-source revision to compare the commit with'
              : `provenance invalid: built from ${match.commit}, scm-source.json says ${match.revision ?? '?'}`,
            facts,
          ),
          ticket: undefined,
        };
      }
      const ticket = verified.statement.predicate.buildDefinition.externalParameters.ticket;
      return {
        link: ok('provenance', label, facts),
        ticket: typeof ticket === 'string' ? ticket : undefined,
      };
    } catch (error) {
      if (!(error instanceof AttestationVerificationError)) throw error;
      failures.push(`${error.code}: ${error.message}`);
    }
  }
  return {
    link: broken('provenance', label, `provenance invalid: ${failures.join('; ')}`, {
      attestations: attestations.length,
    }),
    ticket: undefined,
  };
}
