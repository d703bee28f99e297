/** Roles every prepared account has; purge never deletes them. */
export const BASELINE_ROLES = ['sandbox-holder'] as const;

/** The access role the organisation creates in each account: never purged either. */
export const PROTECTED_ROLES = [...BASELINE_ROLES, 'OrganizationAccountAccessRole'];

export interface PurgeItem {
  kind: string;
  id: string;
  region: string;
}
export interface PurgeResult {
  dryRun: boolean;
  /** What was deleted (force) or would be deleted (dry run), in the order it was (would be) done. */
  deleted: PurgeItem[];
  kept: PurgeItem[];
  errors: { item: PurgeItem; message: string }[];
}

/**
 * A purge that could not finish: the caller records a FailedMaintenanceException. Kept apart from
 * purge.ts so that catching it does not load the EC2/ELB/S3 SDKs.
 */
export class PurgeIncompleteError extends Error {
  constructor(readonly result: PurgeResult) {
    super(
      `purge left ${result.errors.length} resource(s): ` +
        result.errors.map((e) => `${e.item.kind} ${e.item.id}: ${e.message}`).join('; '),
    );
    this.name = 'PurgeIncompleteError';
  }
}
