import type { PierOneAudit } from '../access.js';
import { blobsReferenced } from '../manifests.js';
import type { PierOneStore } from '../store.js';
import type { DeadManifestCollector } from './collector.js';

/** Repositories with dead manifests handled per collection run; the rest wait for the next. */
const REPOSITORIES_PER_RUN = 1000;

/**
 * The collector's dead-manifest pass over `store` (see `PierOneStore.collectDeadManifests`):
 * removed as `pierone-gc` with the reason every such removal gives, one audited
 * `pierone.manifest.collect` event per repository, in its transaction.
 */
export function deadManifestCollector(store: PierOneStore, audit: PierOneAudit): DeadManifestCollector {
  return ({ graceSeconds, dryRun, actor, requestId }) =>
    store.collectDeadManifests({
      graceSeconds,
      dryRun,
      repositories: REPOSITORIES_PER_RUN,
      deletion: { by: 'pierone-gc', reason: 'every tag on it was deleted' },
      blobsOf: blobsReferenced,
      inTransaction: (trx, gone) =>
        audit(trx, {
          event: 'pierone.manifest.collect',
          actor,
          targetId: gone[0]!.repository,
          details: { manifests: gone.map((m) => m.digest) },
          requestId,
        }),
    });
}
