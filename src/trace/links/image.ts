import { broken, ok, type TraceLink } from '../chain.js';
import type { ImageFacts, TraceSources } from '../sources.js';

export interface ImageRef {
  registry: string | undefined;
  team: string;
  artifact: string;
  tag: string;
}

/** `[registry/]team/artifact:tag`, as Taupage's `source` and Senza name images; else undefined. */
export function parseImageRef(text: string): ImageRef | undefined {
  const m =
    /^(?:docker:\/\/)?(?:([^/]+[.:][^/]*)\/)?([a-z0-9][a-z0-9._-]*)\/([a-z0-9][a-z0-9._-]*):([\w][\w.-]{0,127})$/.exec(
      text.trim(),
    );
  if (!m) return undefined;
  return { registry: m[1], team: m[2]!, artifact: m[3]!, tag: m[4]! };
}

/** The image in Pier One: broken when the registry does not hold the tag. */
export async function imageLink(
  sources: TraceSources,
  ref: ImageRef,
): Promise<{ link: TraceLink; image: ImageFacts | undefined }> {
  const label = `${ref.team}/${ref.artifact}:${ref.tag}`;
  const image = await sources.tag(ref.team, ref.artifact, ref.tag);
  if (!image) {
    return {
      link: broken('image', label, `image not in Pier One: no tag ${label}`, {
        registry: ref.registry ?? null,
      }),
      image,
    };
  }
  return {
    link: ok('image', label, {
      registry: ref.registry ?? null,
      image_id: image.image,
      manifest_digest: image.manifestDigest ?? null,
      pushed_by: image.createdBy,
      pushed: image.created,
    }),
    image,
  };
}
