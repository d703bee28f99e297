import { z } from 'zod';
import type { BlobStore } from '../platform/blob-store/blob-store.js';
import type { Logger } from '../platform/logger.js';
import type { LayerScmOutcome, PierOneStore } from './store.js';
import { findRootFile } from './tar-scan.js';

/** `scm-source.json` as `stups scm-source` writes it; other attributes are kept as they are. */
export const ScmSourceFileSchema = z.looseObject({
  url: z.string().max(2000),
  revision: z.string().max(200),
  author: z.string().max(200).optional(),
  status: z.string().max(2000).optional(),
});
export type ScmSourceFile = z.infer<typeof ScmSourceFileSchema>;

export const SCM_SOURCE_FILE = 'scm-source.json';

/** Parses the file's bytes, or undefined when they are not a valid scm-source document. */
export function parseScmSource(content: Buffer | string): ScmSourceFile | undefined {
  try {
    const parsed = ScmSourceFileSchema.safeParse(JSON.parse(content.toString()));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

export interface LayerDescriptor {
  mediaType: string;
  digest: string;
}

/** `+zstd` (OCI) and `.zstd` layers are zstd; `+gzip`/`.gzip` gzip; `tar` plain; anything else by magic bytes. */
function compression(mediaType: string): boolean | 'detect' | 'zstd' {
  if (/zstd/.test(mediaType)) return 'zstd';
  if (/gzip/.test(mediaType)) return true;
  if (/tar$/.test(mediaType) || /\.tar$/.test(mediaType)) return false;
  return 'detect';
}

/**
 * Finds `scm-source.json` in the root of an image's filesystem: the topmost layer that has the
 * file (or deletes it with a whiteout) decides. What each layer says is remembered by digest,
 * so base layers shared by many images are read once.
 */
export class ScmSourceScanner {
  constructor(
    private readonly blobs: BlobStore,
    private readonly store: PierOneStore,
    private readonly logger: Logger,
    private readonly maxBytes: number,
  ) {}

  async find(layers: readonly LayerDescriptor[]): Promise<ScmSourceFile | undefined> {
    for (const layer of [...layers].reverse()) {
      const outcome = await this.#scan(layer);
      if (outcome.kind === 'found') return outcome.scmSource as ScmSourceFile;
      if (outcome.kind === 'deleted') return undefined;
    }
    return undefined;
  }

  async #scan(layer: LayerDescriptor): Promise<LayerScmOutcome> {
    const remembered = await this.store.layerScm(layer.digest);
    if (remembered) return remembered;
    const gzip = compression(layer.mediaType);
    let outcome: LayerScmOutcome;
    try {
      const lookup = await findRootFile(await this.blobs.get(layer.digest), SCM_SOURCE_FILE, {
        maxBytes: this.maxBytes,
        gzip,
      });
      if (lookup.kind === 'found') {
        const parsed = parseScmSource(lookup.content);
        if (!parsed) {
          this.logger.warn({ layer: layer.digest }, 'scm-source.json in layer is not valid; ignored');
        }
        outcome = parsed ? { kind: 'found', scmSource: parsed } : { kind: 'absent' };
      } else if (lookup.kind === 'too-large') {
        this.logger.warn({ layer: layer.digest, size: lookup.size }, 'scm-source.json in layer too large');
        outcome = { kind: 'absent' };
      } else {
        outcome = lookup;
      }
    } catch (error) {
      // A layer that is not a readable tar has no scm-source; the push itself stays valid.
      this.logger.warn({ err: error, layer: layer.digest }, 'layer could not be read as a tar archive');
      return { kind: 'absent' };
    }
    await this.store.rememberLayerScm(layer.digest, outcome);
    return outcome;
  }
}
