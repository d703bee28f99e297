import { lookUpImage } from './image-source.js';
import { type UserDataRule, violationType } from './rule.js';

/**
 * The running tag has no provenance attached in Pier One: no attestation or signature referrer
 * (in-toto/SLSA, sigstore, cosign, notation) and no buildx attestation in its index. Pier One
 * stores what was pushed but does not verify signatures, so this says "none attached", not
 * "none valid". scm-source.json alone is not provenance: anyone can write it into an image.
 */
export const imageWithoutProvenance: UserDataRule = {
  kind: 'user-data',
  type: violationType({
    id: 'IMAGE_WITHOUT_PROVENANCE',
    title: 'Image without provenance',
    help_text:
      'The Docker image tag the instance runs has no provenance attestation or signature in Pier One, so nothing but the pusher vouches for how it was built. Attach one in the build (docker buildx --provenance, cosign attest, notation sign) when pushing.',
    violation_severity: 1,
    priority: 3,
    meta_info_keys: ['source', 'digest', 'pushed_by', 'pushed_at', 'scm_source_present'],
  }),
  async check(userData, instance, ctx) {
    const image = await lookUpImage(userData, ctx);
    if (image.kind !== 'found' || image.tag.provenance.length > 0) return [];
    return [
      {
        type: 'IMAGE_WITHOUT_PROVENANCE',
        instanceId: instance.instanceId,
        metaInfo: {
          source: image.source,
          digest: image.tag.digest,
          pushed_by: image.tag.created_by,
          pushed_at: image.tag.created,
          scm_source_present: image.tag.scm_source !== null,
        },
        applicationId: userData.application_id ?? null,
        applicationVersionId: userData.application_version ?? null,
      },
    ];
  },
};
