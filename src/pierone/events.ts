/**
 * Pier One's audit vocabulary, `<component>.<object>.<verb>`. Refusals use the verb of what was
 * attempted with outcome `failure` and a `reason`, so one query finds both what happened and
 * what was tried.
 */
export const PIERONE_EVENTS = {
  /** A write to a team's namespace was attempted (refusals only: successes have their own events). */
  repositoryPush: 'pierone.repository.push',
  blobUpload: 'pierone.blob.upload',
  blobMount: 'pierone.blob.mount',
  manifestPush: 'pierone.manifest.push',
  tagCreate: 'pierone.tag.create',
  tagProductionReady: 'pierone.tag.production-ready',
} as const;

export type PierOneEventName = (typeof PIERONE_EVENTS)[keyof typeof PIERONE_EVENTS];
