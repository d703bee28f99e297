import { type Generated, type Kysely, type RawBuilder, sql } from 'kysely';
import type { AuditTransaction } from '../platform/audit/create-audit.js';
import type { TeamPolicy } from '../platform/authz/team-policy.js';
import type { Database } from '../platform/db/database.js';
import { InputError, NotAllowedError } from '../platform/errors.js';
import type { Actor, PierOneAudit } from './access.js';
import { recordRefusal } from './access.js';
import { OciError } from './oci-errors.js';
import { MAX_QUOTA_BYTES } from './quota-contract.js';

interface QuotaTables {
  pierone_quotas: {
    team: string;
    bytes: string | number | bigint;
    updated_at: Generated<Date>;
    updated_by: string;
  };
  pierone_blob_links: {
    repository: string;
    digest: string;
    size: string | number | bigint;
  };
  pierone_deleted_tags: { team: string };
}

/** Storage a team uses and may use. */
export interface TeamUsage {
  team: string;
  /** Distinct blobs linked into any of the team's repositories, each counted once. */
  usedBytes: number;
  /** Undefined: no quota. */
  quotaBytes: number | undefined;
  quotaSetBy: string | undefined;
  quotaSetAt: Date | undefined;
  /** Blobs linked into each repository; a blob shared by two of them counts in both. */
  repositories: Array<{ artifact: string; bytes: number }>;
}

/**
 * The blob links that count (of `team`, or of every team): a link counts while no manifest of its
 * repository refers to it yet (a push under way; the GC removes it after the grace period if no
 * manifest ever comes) or while a live manifest there refers to it. Live is the GC's rule (see
 * `deadManifestsOf` in store.ts) without its grace period: a manifest with a tag, or one nothing
 * points to (never tagged, listed by no index, no stored subject), and all it reaches through an
 * index's children and a subject's referrers. So the manifests whose every tag was deleted (by
 * an admin or a retention rule) are dead, and with them what only they kept: an index's untagged
 * children, a subject's referrers. The team cannot reach them by name any more, so their bytes
 * stop counting at the deletion.
 */
function countedLinks(team: string | undefined): RawBuilder<unknown> {
  const ofTeam = (column: string) => (team === undefined ? sql`true` : sql`${sql.ref(column)} = ${team}`);
  const inTeam = (column: string) =>
    team === undefined ? sql`true` : sql`${sql.ref(column)} like ${repositoriesOf(team)}`;
  // Set operations, hashed subplans and one recursive walk over the edges, not correlated
  // look-ups per link or per manifest: this runs in every quota-checked blob link (see linkGuard).
  return sql`
    with recursive
    tagged as (
      select t.team || '/' || t.artifact as repository, t.digest, true as live
      from pierone_tags t where ${ofTeam('t.team')}
      union all
      select d.team || '/' || d.artifact, d.digest, false
      from pierone_deleted_tags d where ${ofTeam('d.team')}),
    manifests as (
      select m.repository, m.digest, m.subject from pierone_manifests m where ${inTeam('m.repository')}),
    edges as (
      select c.repository, c.manifest as source, c.child as target
      from pierone_manifest_children c where ${inTeam('c.repository')}
      union all
      select m.repository, m.subject, m.digest from manifests m
      where (m.repository, m.subject) in (select repository, digest from manifests)),
    live(repository, digest) as (
      select repository, digest from tagged where live
      union
      select m.repository, m.digest from manifests m
      where (m.repository, m.digest) not in (select repository, digest from tagged)
        and (m.repository, m.digest) not in (select repository, target from edges)
      union
      select e.repository, e.target from live l
      join edges e on e.repository = l.repository and e.source = l.digest),
    live_blobs as (
      select r.repository, r.digest from pierone_manifest_blobs r
      where ${inTeam('r.repository')}
        and (r.repository, r.manifest) in (select repository, digest from live))
    select l.repository, l.digest, l.size from pierone_blob_links l
    where ${inTeam('l.repository')} and (
      (l.repository, l.digest) in (select repository, digest from live_blobs)
      or not exists (select 1 from pierone_manifest_blobs r
        where ${inTeam('r.repository')} and r.repository = l.repository and r.digest = l.digest))`;
}

/** `team/%` with LIKE's wildcards in the team name escaped (names may hold `_`). */
function repositoriesOf(team: string): string {
  return `${team.replace(/[\\%_]/g, (c) => `\\${c}`)}/%`;
}

/**
 * Team storage quotas and usage.
 *
 * Usage is what blob links hold: the bytes of every distinct blob linked into one of the team's
 * repositories, each blob once per team however many of its repositories link it (a base layer
 * shared by ten images of a team costs the team once). A blob shared with another team counts
 * for both: each team would need it if the other deleted its images, and counting it for only one
 * would let a team store for free by mounting another's blobs. Manifests (kilobytes) are not
 * counted. Usage is what the team can still reach: the bytes of an image whose tags were all
 * deleted (by an admin or a retention rule) stop counting at once, unless a live image of the
 * team shares them (see `countedLinks`). The disk is another matter: the blob GC reclaims bytes
 * no stored manifest refers to, so a tag deletion alone frees quota but not disk; deleting the
 * manifest by digest (admins) unlinks its blobs and lets the GC take them.
 *
 * The check runs where storage is claimed: when a blob is linked into a repository (upload
 * commit, monolithic upload, mount), inside the link's transaction under a per-team advisory
 * lock, so two concurrent pushes cannot both squeeze under the quota. A manifest PUT claims
 * nothing worth counting and is never refused for quota.
 */
export class PierOneQuotas {
  readonly #db: Kysely<QuotaTables>;

  constructor(
    database: Database,
    private readonly deps: { policy: TeamPolicy; audit: PierOneAudit },
  ) {
    this.#db = database.kysely<QuotaTables>();
  }

  /**
   * Sets (`bytes`) or removes (`undefined`) a team's quota; platform administrators only.
   * The change and its audit event commit together; a refusal is audited.
   */
  async setQuota(actor: Actor, team: string, bytes: number | undefined): Promise<void> {
    const attempted = { event: 'pierone.quota.set' as const, targetId: team };
    if (!this.deps.policy.isAdmin(actor.principal)) {
      throw await recordRefusal(
        this.deps.audit,
        actor.principal,
        actor.requestId,
        attempted,
        new NotAllowedError('only platform administrators may set quotas', { code: 'NOT_ADMIN' }),
      );
    }
    if (bytes !== undefined && (!Number.isSafeInteger(bytes) || bytes < 0 || bytes > MAX_QUOTA_BYTES)) {
      throw await recordRefusal(
        this.deps.audit,
        actor.principal,
        actor.requestId,
        attempted,
        new InputError(`a quota is a whole number of bytes from 0 to ${MAX_QUOTA_BYTES}`),
      );
    }
    await this.#db.transaction().execute(async (trx) => {
      const previous = await trx
        .selectFrom('pierone_quotas')
        .select('bytes')
        .where('team', '=', team)
        .executeTakeFirst();
      if (bytes === undefined) {
        await trx.deleteFrom('pierone_quotas').where('team', '=', team).execute();
      } else {
        await trx
          .insertInto('pierone_quotas')
          .values({ team, bytes, updated_by: actor.principal.uid })
          .onConflict((oc) =>
            oc.column('team').doUpdateSet({ bytes, updated_by: actor.principal.uid, updated_at: sql`now()` }),
          )
          .execute();
      }
      await this.deps.audit(trx, {
        event: attempted.event,
        actor: actor.principal,
        targetId: team,
        details: { bytes: bytes ?? null, previous: previous ? Number(previous.bytes) : null },
        requestId: actor.requestId,
      });
    });
  }

  /** A team's usage and quota (zero usage and no quota for a team Pier One never saw). */
  async usage(team: string): Promise<TeamUsage> {
    const counted = countedLinks(team);
    const total = await sql<{ used: string | number | null }>`
      select sum(size) as used from (
        select digest, max(size) as size from (${counted}) links group by digest) blobs`.execute(this.#db);
    const repositories = (
      await sql<{ repository: string; bytes: string | number }>`
        select repository, sum(size) as bytes from (${counted}) links
        group by repository order by repository`.execute(this.#db)
    ).rows;
    const quota = await this.#db
      .selectFrom('pierone_quotas')
      .selectAll()
      .where('team', '=', team)
      .executeTakeFirst();
    return {
      team,
      usedBytes: Number(total.rows[0]?.used ?? 0),
      quotaBytes: quota ? Number(quota.bytes) : undefined,
      quotaSetBy: quota?.updated_by,
      quotaSetAt: quota ? new Date(quota.updated_at) : undefined,
      repositories: repositories.map((r) => ({
        artifact: r.repository.slice(team.length + 1),
        bytes: Number(r.bytes),
      })),
    };
  }

  /** Usage of every team that links any blob or has a quota, by team name. */
  async allUsage(): Promise<TeamUsage[]> {
    const counted = countedLinks(undefined);
    const perRepository = (
      await sql<{ repository: string; bytes: string | number }>`
        select repository, sum(size) as bytes from (${counted}) links group by repository`.execute(this.#db)
    ).rows;
    const perTeam = await sql<{ team: string; used: string | number }>`
      select team, sum(size) as used from (
        select split_part(repository, '/', 1) as team, digest, max(size) as size
        from (${counted}) links group by 1, 2) blobs
      group by team`.execute(this.#db);
    const quotas = await this.#db.selectFrom('pierone_quotas').selectAll().execute();
    const teams = new Map<string, TeamUsage>();
    const of = (team: string) => {
      let usage = teams.get(team);
      if (!usage) {
        usage = {
          team,
          usedBytes: 0,
          quotaBytes: undefined,
          quotaSetBy: undefined,
          quotaSetAt: undefined,
          repositories: [],
        };
        teams.set(team, usage);
      }
      return usage;
    };
    for (const row of perTeam.rows) of(row.team).usedBytes = Number(row.used);
    for (const row of perRepository) {
      const slash = row.repository.indexOf('/');
      of(row.repository.slice(0, slash)).repositories.push({
        artifact: row.repository.slice(slash + 1),
        bytes: Number(row.bytes),
      });
    }
    for (const quota of quotas) {
      const usage = of(quota.team);
      usage.quotaBytes = Number(quota.bytes);
      usage.quotaSetBy = quota.updated_by;
      usage.quotaSetAt = new Date(quota.updated_at);
    }
    for (const usage of teams.values()) usage.repositories.sort((a, b) => (a.artifact < b.artifact ? -1 : 1));
    return [...teams.values()].sort((a, b) => (a.team < b.team ? -1 : 1));
  }

  /**
   * The check of one blob link, to run first in the link's transaction: throws OCI `DENIED`
   * (403) with the numbers when linking `size` more bytes would take `team` over its quota. A
   * blob the team already links elsewhere adds nothing and always passes.
   */
  linkGuard(team: string, digest: string, size: number): (trx: AuditTransaction) => Promise<void> {
    return async (transaction) => {
      const trx = transaction as unknown as Kysely<QuotaTables>;
      const limit = await lockedQuota(trx, team);
      if (limit === undefined) return;
      // Counted already (live elsewhere in the team): adds nothing. A blob only deleted images
      // hold counts again, as new, when it is linked again.
      const { used, counted } = await usage(trx, team, [digest]);
      if (counted.size > 0) return;
      if (used + size > limit) throw quotaExceeded(team, used, limit, size);
    };
  }

  /**
   * The check of one manifest write, in its transaction after its blobs were found linked in
   * `repository`: a blob that only deleted images of the team held stopped counting at their
   * deletion, and a client pushing a new manifest over it skips the upload (the blob is there),
   * so no link check sees it. Throws `DENIED` with the numbers when the bytes it makes count
   * again would take the team over its quota; a normal push adds nothing here (its blobs count
   * from their upload on). `claimedBlobs` (the manifest's blobs and those it revives) is read
   * only for a team that has deleted tags.
   */
  manifestGuard(
    team: string,
    repository: string,
    claimedBlobs: () => Promise<readonly string[]>,
  ): (trx: AuditTransaction) => Promise<void> {
    return async (transaction) => {
      const trx = transaction as unknown as Kysely<QuotaTables>;
      // Only deletions make counted blobs stop counting: a team without any costs one look-up.
      const deletions = await trx
        .selectFrom('pierone_deleted_tags')
        .select('team')
        .where('team', '=', team)
        .limit(1)
        .execute();
      if (deletions.length === 0) return;
      const blobs = await claimedBlobs();
      if (blobs.length === 0) return;
      const limit = await lockedQuota(trx, team);
      if (limit === undefined) return;
      const { used, counted } = await usage(trx, team, blobs);
      const again = blobs.filter((d) => !counted.has(d));
      if (again.length === 0) return;
      const sizes = await trx
        .selectFrom('pierone_blob_links')
        .select(['digest', sql<string | number>`max(size)`.as('size')])
        .where('repository', '=', repository)
        .where('digest', 'in', again)
        .groupBy('digest')
        .execute();
      const adds = sizes.reduce((sum, row) => sum + Number(row.size), 0);
      if (used + adds > limit) throw quotaExceeded(team, used, limit, adds);
    };
  }
}

/**
 * The team's quota in bytes, with the team's quota lock held until the transaction ends
 * (undefined: no quota). Concurrent links and manifest writes of one team queue on the lock,
 * so each sees the others' committed bytes.
 */
async function lockedQuota(trx: Kysely<QuotaTables>, team: string): Promise<number | undefined> {
  const quota = await trx
    .selectFrom('pierone_quotas')
    .select('bytes')
    .where('team', '=', team)
    .executeTakeFirst();
  if (!quota) return undefined;
  await sql`select pg_advisory_xact_lock(hashtext(${`pierone.quota:${team}`}))`.execute(trx);
  return Number(quota.bytes);
}

/**
 * The bytes `team` uses now (each counted blob once) and which of `digests` count already: one
 * pass over the counted links, which every quota-checked link and manifest write pays for.
 */
async function usage(
  trx: Kysely<QuotaTables>,
  team: string,
  digests: readonly string[],
): Promise<{ used: number; counted: Set<string> }> {
  const { rows } = await sql<{ digest: string | null; used: string | number | null }>`
    with per_blob as (
      select digest, max(size) as size from (${countedLinks(team)}) links group by digest)
    select null as digest, sum(size) as used from per_blob
    union all
    select digest, null from per_blob
    where ${digests.length > 0 ? sql`digest in (${sql.join(digests.map((d) => sql`${d}`))})` : sql`false`}`.execute(
    trx,
  );
  const counted = new Set<string>();
  let used = 0;
  for (const row of rows) {
    if (row.digest === null) used = Number(row.used ?? 0);
    else counted.add(row.digest);
  }
  return { used, counted };
}

/** The refusal a client sees: OCI `DENIED` with used, quota and this push's bytes. */
export function quotaExceeded(team: string, used: number, quota: number, push: number): OciError {
  return new OciError(
    403,
    'DENIED',
    `quota of team ${team} exceeded: ${used} bytes used of ${quota}, this push needs ${push} more`,
    { team, used_bytes: used, quota_bytes: quota, push_bytes: push },
  );
}

/** Whether an error is a quota refusal (to audit it as one). */
export function isQuotaRefusal(error: unknown): error is OciError {
  return (
    error instanceof OciError &&
    error.code === 'DENIED' &&
    typeof error.detail === 'object' &&
    error.detail !== null &&
    'quota_bytes' in error.detail
  );
}
