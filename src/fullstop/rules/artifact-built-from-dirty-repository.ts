import { lookUpImage } from './image-source.js';
import { type UserDataRule, violationType } from './rule.js';

/**
 * STUPS' test: scm-source `status` is not blank and not "false". `stups scm-source` writes the
 * `git status` of uncommitted changes there (or "locally modified"); a clean build leaves it empty.
 */
export function isDirtyStatus(status: unknown): boolean {
  if (typeof status !== 'string') return status === true;
  const text = status.trim();
  return text !== '' && text.toLowerCase() !== 'false';
}

/** The image was built from a working copy with uncommitted changes. */
export const artifactBuiltFromDirtyRepository: UserDataRule = {
  kind: 'user-data',
  type: violationType({
    id: 'ARTIFACT_BUILT_FROM_DIRTY_REPOSITORY',
    title: 'Dirty artifact build',
    help_text:
      'The Docker image was built from a repository with uncommitted changes (scm-source.json status is set), so its code is in no reviewed commit. Build from a clean checkout.',
    violation_severity: 3,
    priority: 1,
    meta_info_keys: ['source', 'scm_source_<key> (every attribute of scm-source.json)'],
  }),
  async check(userData, instance, ctx) {
    const image = await lookUpImage(userData, ctx);
    const scm = image.kind === 'found' ? image.tag.scm_source : null;
    if (image.kind !== 'found' || !scm || !isDirtyStatus(scm.status)) return [];
    const metaInfo: Record<string, unknown> = { source: image.source };
    for (const [key, value] of Object.entries(scm)) metaInfo[`scm_source_${key}`] = value;
    return [
      {
        type: 'ARTIFACT_BUILT_FROM_DIRTY_REPOSITORY',
        instanceId: instance.instanceId,
        metaInfo,
        applicationId: userData.application_id ?? null,
        applicationVersionId: userData.application_version ?? null,
      },
    ];
  },
};
