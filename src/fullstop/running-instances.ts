import { type Generated, type Kysely, sql, type Transaction } from 'kysely';
import { z } from 'zod';
import type { Database } from '../platform/db/database.js';
import type { CloudTrailRecord } from './cloudtrail.js';
import { parseImageReference } from './rules/image-source.js';
import { runInstances } from './rules/run-instances.js';
import type { FullstopTables } from './store.js';

/** Instances fullstop saw launched or reporting their user data, and whether they were terminated. */
export interface InstanceTables {
  fullstop_instances: {
    account_id: string;
    region: string;
    instance_id: string;
    launched_at: Date | null;
    terminated_at: Date | null;
    awaits_user_data: Generated<boolean>;
    source: string | null;
    image_team: string | null;
    image_artifact: string | null;
    image_tag: string | null;
    image_digest: string | null;
    updated: Generated<Date>;
  };
}

/** A Pier One image an instance runs: `team/artifact` with the tag and/or digest it names. */
export interface RunningImage {
  team: string;
  artifact: string;
  tag: string | undefined;
  digest: string | undefined;
}

interface InstanceKey {
  account: string;
  region: string;
  instanceId: string;
}

/** What one event says about an instance. */
export type InstanceChange =
  /** `withUserData`: CloudTrail shows user data was given (never its content). */
  | (InstanceKey & { kind: 'launched'; at: Date; withUserData: boolean })
  | (InstanceKey & { kind: 'terminated'; at: Date })
  /** Its Taupage user data names `source`; `image` when that is an image of our Pier One. */
  | (InstanceKey & { kind: 'image'; source: string; image: RunningImage | undefined });

const TerminatedIds = z.looseObject({
  instancesSet: z.looseObject({ items: z.array(z.looseObject({ instanceId: z.string().min(1) })) }),
});

/**
 * The launches (`ec2:RunInstances`) and terminations (`ec2:TerminateInstances`) one CloudTrail
 * record shows; [] for any other record or a failed call.
 */
export function instanceChangesOf(record: CloudTrailRecord, account: string, at: Date): InstanceChange[] {
  const where = { account, region: record.awsRegion };
  const run = runInstances(record);
  if (run) {
    return run.instances.map((i) => ({
      ...where,
      instanceId: i.instanceId,
      kind: 'launched',
      at,
      withUserData: run.hasUserData,
    }));
  }
  if (
    record.eventSource !== 'ec2.amazonaws.com' ||
    record.eventName !== 'TerminateInstances' ||
    record.errorCode
  ) {
    return [];
  }
  const parsed =
    TerminatedIds.safeParse(record.responseElements).data ??
    TerminatedIds.safeParse(record.requestParameters).data;
  return (parsed?.instancesSet.items ?? []).map((i) => ({
    ...where,
    instanceId: i.instanceId,
    kind: 'terminated',
    at,
  }));
}

/**
 * The Pier One image a Taupage `source` names, or undefined when it names another registry
 * (or nothing `team/artifact`-shaped): retention only asks about our own repositories.
 */
export function pieroneImageOf(source: string, pieroneHosts: readonly string[]): RunningImage | undefined {
  const reference = parseImageReference(source);
  if (!reference || !pieroneHosts.some((h) => h.toLowerCase() === reference.registry)) return undefined;
  const parts = reference.repository.split('/');
  if (parts.length !== 2) return undefined;
  const [team, artifact] = parts as [string, string];
  return { team, artifact, tag: reference.tag, digest: reference.digest };
}

/**
 * Writes what events say about instances, in the caller's transaction (the ingested file's, the
 * instance log's). Upserts, so files may arrive in any order: a termination stays whatever
 * launch or user data is seen after it, and the first launch time wins.
 */
export async function recordInstanceChanges(
  trx: Transaction<FullstopTables>,
  changes: readonly InstanceChange[],
): Promise<void> {
  for (const change of changes) {
    const key = { account_id: change.account, region: change.region, instance_id: change.instanceId };
    const conflict = ['account_id', 'region', 'instance_id'] as const;
    if (change.kind === 'launched') {
      await trx
        .insertInto('fullstop_instances')
        .values({ ...key, launched_at: change.at, awaits_user_data: change.withUserData })
        .onConflict((oc) =>
          oc.columns(conflict).doUpdateSet({
            launched_at: sql`coalesce(fullstop_instances.launched_at, excluded.launched_at)`,
            awaits_user_data: sql`excluded.awaits_user_data`,
            updated: sql`now()`,
          }),
        )
        .execute();
    } else if (change.kind === 'terminated') {
      await trx
        .insertInto('fullstop_instances')
        .values({ ...key, terminated_at: change.at })
        .onConflict((oc) =>
          oc.columns(conflict).doUpdateSet({
            terminated_at: sql`coalesce(fullstop_instances.terminated_at, excluded.terminated_at)`,
            updated: sql`now()`,
          }),
        )
        .execute();
    } else {
      const image = {
        source: change.source,
        image_team: change.image?.team ?? null,
        image_artifact: change.image?.artifact ?? null,
        image_tag: change.image?.tag ?? null,
        image_digest: change.image?.digest ?? null,
      };
      await trx
        .insertInto('fullstop_instances')
        .values({ ...key, ...image })
        .onConflict((oc) => oc.columns(conflict).doUpdateSet({ ...image, updated: sql`now()` }))
        .execute();
    }
  }
}

/**
 * How long after a launch with user data fullstop waits for Taupage to report it (at boot,
 * within minutes) before treating the instance as running no Pier One image (not Taupage, or
 * its agent failed: then fullstop's own rules flag it).
 */
export const USER_DATA_WAIT_MS = 60 * 60_000;

/**
 * Which Pier One images run, as fullstop knows it: the tags and digests named by the Taupage user
 * data of instances it saw (launched or reporting) and saw no termination of. Pier One's contract
 * `runningImages` (retention rules with `keep_running`).
 */
export class FullstopRunningImages {
  readonly #db: Kysely<InstanceTables>;

  constructor(
    database: Database,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.#db = database.kysely<InstanceTables>();
  }

  /**
   * Throws while an instance launched with user data less than `USER_DATA_WAIT_MS` ago has not
   * reported it: it might run any image, so retention must wait rather than guess.
   */
  async runningImages(team: string, artifact: string): Promise<Set<string>> {
    const pending = await this.#db
      .selectFrom('fullstop_instances')
      .select(['account_id', 'region', 'instance_id'])
      .where('awaits_user_data', '=', true)
      .where('source', 'is', null)
      .where('terminated_at', 'is', null)
      .where('launched_at', '>', new Date(this.now().getTime() - USER_DATA_WAIT_MS))
      .orderBy('launched_at')
      .limit(3)
      .execute();
    if (pending.length > 0) {
      const which = pending.map((p) => `${p.account_id}/${p.region}/${p.instance_id}`).join(', ');
      throw new Error(
        `instances launched less than ${USER_DATA_WAIT_MS / 60_000} minutes ago have not reported their user data yet (${which}), so what they run is unknown`,
      );
    }
    const rows = await this.#db
      .selectFrom('fullstop_instances')
      .select(['image_tag', 'image_digest'])
      .where('image_team', '=', team)
      .where('image_artifact', '=', artifact)
      .where('terminated_at', 'is', null)
      .execute();
    const running = new Set<string>();
    for (const row of rows) {
      if (row.image_tag !== null) running.add(row.image_tag);
      if (row.image_digest !== null) running.add(row.image_digest);
    }
    return running;
  }
}
