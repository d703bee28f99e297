/**
 * Pier One's audit vocabulary, `<component>.<object>.<verb>`; the target type is the `<object>`.
 * A refusal is recorded under the name of what was attempted, with outcome `refused`, so one
 * query finds both what happened and what was tried.
 */
export const PIERONE_EVENTS = [
  /** A write to a team's namespace was attempted (refusals only: successes have their own events). */
  'pierone.repository.push',
  /** A blob was linked into a repository by an upload (target `team/artifact@digest`). */
  'pierone.blob.upload',
  /** A blob was linked into a repository from another one without moving content. */
  'pierone.blob.mount',
  /** A manifest was pushed by digest (target `team/artifact@digest`). */
  'pierone.manifest.push',
  /** A tag was pushed (target `team/artifact:tag`); `details.outcome` says created, unchanged or replaced. */
  'pierone.tag.create',
  /**
   * A platform admin deleted a tag (target `team/artifact:tag`; details: digest, reason). The
   * name stays burnt. Refusals (no `pierone.admin.delete`, no reason) are recorded under it too.
   */
  'pierone.tag.delete',
  /** A platform admin deleted a manifest by digest and every tag on it (details: reason, tags). */
  'pierone.manifest.delete',
  /** A tag was marked production-ready for an incident/change id. */
  'pierone.tag.production-ready',
  /**
   * Pier One signed a provenance statement and attached it as a referrer of an image (target
   * `team/artifact@<image digest>`; details: the attestation's digest, key id, commit).
   */
  'pierone.attestation.create',
  /** A new attestation signing key was made (target: its key id); older keys stay published. */
  'pierone.attestation_key.create',
  /**
   * The purge job deleted records of abandoned uploads (one event per run: `count`, the first
   * upload `ids`, the `staging` directory it purged and how many unfinished `sessions`' data went).
   */
  'pierone.upload.purge',
  /** A platform admin set or removed a team's storage quota (target: the team; details: bytes, previous). */
  'pierone.quota.set',
  /**
   * A retention rule was set for a team (target `team`) or a repository (target `team/artifact`)
   * by a member of the team; details: the rule. The job's deletions are `pierone.tag.delete`
   * events with actor `pierone-retention` and the rule in the reason.
   */
  'pierone.retention_rule.set',
  /** A retention rule was removed (target as for `set`). */
  'pierone.retention_rule.delete',
  /**
   * The garbage collector deleted unreferenced blobs (one event per batch, in the batch's
   * transaction: counts of blobs, bytes and dangling links, never the digests).
   */
  'pierone.blob.collect',
  /**
   * The garbage collector removed a repository's dead manifests (every tag on them deleted before
   * the grace period, and the untagged children and referrers only they kept): one event per
   * repository (target `team/artifact`; details: the manifests' digests). Pulls by digest answer
   * 404 as after an audited deletion, by `pierone-gc`.
   */
  'pierone.manifest.collect',
  /**
   * A garbage collection run ended (job or admin; details: dry_run, grace, scanned, deleted,
   * bytes_freed, links_removed, failed, duration). Refused admin calls are recorded under it too.
   */
  'pierone.gc.run',
] as const;

export type PierOneEvent = (typeof PIERONE_EVENTS)[number];
