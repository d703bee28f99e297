import { isDockerRuntime, parseImageReference } from './image-source.js';
import { type UserDataRule, violationType } from './rule.js';

/**
 * The user data's `application_version` (Senza's ImageVersion) is not the tag of the image it
 * runs. An image pinned by digest matches when Pier One has a tag of that name on that digest.
 */
export const applicationVersionDoesNotMatchImageTag: UserDataRule = {
  kind: 'user-data',
  type: violationType({
    id: 'APPLICATION_VERSION_DOES_NOT_MATCH_IMAGE_TAG',
    title: 'Version does not match image',
    help_text:
      'The application_version in the Taupage user data is not the tag of the Docker image the instance runs, so the version reported for the stack is not what runs. Deploy with the image tag as the version (senza create … ImageVersion).',
    violation_severity: 1,
    priority: 3,
    meta_info_keys: ['application_version', 'source', 'image_tag'],
  }),
  async check(userData, instance, ctx) {
    const version = userData.application_version?.trim();
    const source = userData.source?.trim();
    if (!version || !source || !isDockerRuntime(userData)) return [];
    const reference = parseImageReference(source);
    if (!reference) return [];
    let tags: string[];
    if (reference.tag !== undefined) {
      tags = [reference.tag];
    } else if (reference.digest !== undefined) {
      const parts = reference.repository.split('/');
      const onPierOne = ctx.settings.pieroneHosts.some((h) => h.toLowerCase() === reference.registry);
      if (!onPierOne || parts.length !== 2) return [];
      const [team, artifact] = parts as [string, string];
      tags = (await ctx.imageTags.tagsOfDigest(team, artifact, reference.digest)).map((t) => t.tag);
      // Not in Pier One: IMAGE_IN_PIERONE_NOT_FOUND says so; there is no tag to compare.
      if (tags.length === 0) return [];
    } else {
      tags = ['latest'];
    }
    if (tags.includes(version)) return [];
    return [
      {
        type: 'APPLICATION_VERSION_DOES_NOT_MATCH_IMAGE_TAG',
        instanceId: instance.instanceId,
        metaInfo: { application_version: version, source, image_tag: tags.join(', ') },
        applicationId: userData.application_id ?? null,
        applicationVersionId: version,
      },
    ];
  },
};
