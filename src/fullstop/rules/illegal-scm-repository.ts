import { lookUpImage, scmUrlOf } from './image-source.js';
import { type UserDataRule, violationType } from './rule.js';
import { normalizeScmUrl } from './scm-url.js';

/** The image was built from a repository on a host or of an owner the platform does not allow. */
export const illegalScmRepository: UserDataRule = {
  kind: 'user-data',
  type: violationType({
    id: 'ILLEGAL_SCM_REPOSITORY',
    title: 'Illegal SCM repository in use',
    help_text:
      'The Docker image was built from a repository outside the allowed SCM hosts and owners (fullstop.rules.scmHosts). Move the code to an allowed organisation and build from there.',
    violation_severity: 2,
    priority: 2,
    meta_info_keys: [
      'application_id',
      'deployment_artifact',
      'normalized_scm_source_url',
      'allowed_owners',
      'actual_owner',
      'error_message',
    ],
  }),
  async check(userData, instance, ctx) {
    const allowed = ctx.settings.scmHosts;
    // No hosts configured: the platform has not said which repositories are legal.
    if (Object.keys(allowed).length === 0) return [];
    const image = await lookUpImage(userData, ctx);
    const url = image.kind === 'found' ? scmUrlOf(image.tag) : undefined;
    if (image.kind !== 'found' || url === undefined) return [];
    const base = {
      application_id: userData.application_id ?? null,
      deployment_artifact: image.source,
    };
    const finding = (metaInfo: Record<string, unknown>) => [
      {
        type: 'ILLEGAL_SCM_REPOSITORY',
        instanceId: instance.instanceId,
        metaInfo: { ...base, ...metaInfo },
        applicationId: userData.application_id ?? null,
        applicationVersionId: userData.application_version ?? null,
      },
    ];
    const repo = normalizeScmUrl(url);
    if (!repo)
      return finding({ error_message: `scm-source url ${JSON.stringify(url)} is not a repository URL` });
    const hostKey = Object.keys(allowed).find((h) => h.toLowerCase() === repo.host);
    const normalized = `${repo.host}/${repo.owner}/${repo.name}`;
    if (hostKey === undefined) {
      return finding({
        normalized_scm_source_url: normalized,
        error_message: `SCM host ${repo.host} is not allowed (allowed: ${Object.keys(allowed).join(', ')})`,
      });
    }
    const owners = allowed[hostKey] as string;
    if (new RegExp(owners).test(repo.owner)) return [];
    return finding({
      normalized_scm_source_url: normalized,
      allowed_owners: owners,
      actual_owner: repo.owner,
    });
  },
};
