import { broken, ok, type TraceLink } from '../chain.js';
import type { ImageFacts, ScmSourceFacts, TraceSources } from '../sources.js';

/** The image's scm-source.json: broken when it has none or the build was dirty. */
export async function scmSourceLink(
  sources: TraceSources,
  image: ImageFacts,
): Promise<{ link: TraceLink; scm: ScmSourceFacts | undefined }> {
  const scm = await sources.scmSource(image.team, image.artifact, image.tag);
  if (!scm || !scm.revision) {
    return {
      link: broken(
        'scm-source',
        `${image.artifact}:${image.tag}`,
        'no scm-source: the image does not name its commit',
      ),
      scm: undefined,
    };
  }
  const facts = { repository: scm.url, revision: scm.revision, author: scm.author, clean: scm.status === '' };
  const label = `${scm.url}@${scm.revision.slice(0, 12)}`;
  if (scm.status !== '') {
    return {
      link: broken(
        'scm-source',
        label,
        `dirty build: uncommitted changes at build time (${scm.status})`,
        facts,
      ),
      scm,
    };
  }
  return { link: ok('scm-source', label, facts), scm };
}
