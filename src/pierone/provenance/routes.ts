import { z } from 'zod';
import { authenticate, principalOf } from '../../platform/auth/http-auth.js';
import { NotAuthenticatedError } from '../../platform/errors.js';
import type { HttpApp } from '../../platform/http/create-http-app.js';
import type { ServiceContext } from '../../platform/service-context.js';
import { ANONYMOUS, type PierOneAudit, recordRefusal } from '../access.js';
import {
  ATTESTATION_JWKS_PATH,
  AttestationJwksSchema,
  AttestationSchema,
  AttestRequestSchema,
  NameSchema,
} from '../contract.js';
import type { AttestationKeys } from './attestation-keys.js';
import type { Attestations } from './attestations.js';
import { DSSE_ENVELOPE_MEDIA_TYPE } from './dsse.js';

export interface ProvenanceRouteDeps {
  ctx: ServiceContext;
  attestations: Attestations;
  keys: AttestationKeys;
  audit: PierOneAudit;
}

const ArtifactParams = z.object({ team: NameSchema, artifact: NameSchema });

/** Provenance: the published attestation keys and signing for CI. */
export function registerProvenanceRoutes(app: HttpApp, deps: ProvenanceRouteDeps): void {
  const { ctx, attestations, keys, audit } = deps;

  app.get(
    ATTESTATION_JWKS_PATH,
    {
      schema: {
        tags: ['provenance'],
        summary: 'Public keys of every key that signed attestations (JWKS), for offline verification',
        response: { 200: AttestationJwksSchema },
      },
    },
    async (_request, reply) => {
      // Anyone may verify, so anyone may read; a short cache, since a new key appears at rotation.
      reply.header('cache-control', 'public, max-age=300');
      return keys.publicJwks();
    },
  );

  app.post(
    '/teams/:team/artifacts/:artifact/attestations',
    {
      preHandler: async (request) => {
        try {
          request.principal = await authenticate(ctx.verifier, request);
        } catch (error) {
          if (!(error instanceof NotAuthenticatedError)) throw error;
          const { team, artifact } = request.params;
          throw await recordRefusal(
            audit,
            ANONYMOUS,
            request.id,
            { event: 'pierone.attestation.create', targetId: `${team}/${artifact}` },
            error,
          );
        }
      },
      config: audit.route('pierone.attestation.create'),
      schema: {
        tags: ['provenance'],
        summary: 'Signs a SLSA provenance statement about an image and attaches it as a referrer',
        description:
          'The statement (in-toto v1, SLSA provenance v1 predicate, one subject: the image manifest ' +
          'by sha256) is signed by Pier One as a DSSE envelope and stored as an OCI artifact whose ' +
          'subject is the image. Pier One records the caller as `internalParameters.invoker`. ' +
          'Needs push rights on the team.',
        security: [{ bearer: [] }],
        params: ArtifactParams,
        body: AttestRequestSchema,
        response: { 201: AttestationSchema },
      },
    },
    async (request, reply) => {
      const actor = { principal: principalOf(request), requestId: request.id };
      const { team, artifact } = request.params;
      const made = await attestations.attest(actor, { team, artifact }, request.body.statement);
      reply.status(201);
      return {
        digest: made.digest,
        subject: made.subject,
        repository: made.repository,
        artifact_type: DSSE_ENVELOPE_MEDIA_TYPE,
        key_id: made.keyId,
        ...(made.commit ? { commit: made.commit } : {}),
        envelope: made.envelope,
      };
    },
  );
}
