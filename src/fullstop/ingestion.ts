import { readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { promisify } from 'node:util';
import { gunzip as gunzipCallback } from 'node:zlib';
import { type Audit, internalRequestId } from '../platform/audit/create-audit.js';
import type { Logger } from '../platform/logger.js';
import type { TeamDirectory } from '../teams/contract.js';
import type { InstanceCatalog, InstanceInfo } from './aws/account-clients.js';
import type { ImageCatalog, ImageInfo } from './aws/images.js';
import {
  CloudTrailFileSchema,
  type CloudTrailRecord,
  CloudTrailRecordSchema,
  parseCloudTrailKey,
  usernameOf,
} from './cloudtrail.js';
import type { FullstopEvent } from './events.js';
import { EVENT_RULES, type EventRule, type RuleContext } from './rules/index.js';
import { type InstanceChange, instanceChangesOf } from './running-instances.js';
import type { FullstopStore, NewViolationRow } from './store.js';
import { FULLSTOP_ACTOR, findingRow, timeOf } from './violations.js';

const gunzip = promisify(gunzipCallback);

/** Where CloudTrail log files come from: a folder, an S3 bucket. Keys are relative, `/`-separated. */
export interface CloudTrailSource {
  /** Names the source in the cursor: files are "done" per source. */
  readonly name: string;
  listKeys(): Promise<string[]>;
  read(key: string): Promise<Buffer>;
}

/** A folder laid out as CloudTrail writes to S3 (`AWSLogs/<account>/CloudTrail/<region>/…`). */
export class FolderSource implements CloudTrailSource {
  readonly name: string;
  constructor(private readonly root: string) {
    this.name = `folder:${root}`;
  }

  async listKeys(): Promise<string[]> {
    let entries;
    try {
      entries = await readdir(this.root, { recursive: true, withFileTypes: true });
    } catch (error) {
      if (isNotFound(error)) return []; // nothing delivered yet
      throw error;
    }
    return entries
      .filter((e) => e.isFile() && e.name.endsWith('.json.gz'))
      .map((e) => relative(this.root, join(e.parentPath, e.name)).split(sep).join('/'));
  }

  async read(key: string): Promise<Buffer> {
    return readFile(join(this.root, ...key.split('/')));
  }
}

function isNotFound(error: unknown): boolean {
  return error instanceof Error && 'code' in error && error.code === 'ENOENT';
}

export interface FileOutcome {
  key: string;
  /** False when the file had been ingested already (a replay, another replica). */
  ingested: boolean;
  events: number;
  violations: number;
  /** Records that do not follow the CloudTrail record format, skipped. */
  malformed: number;
  /** Why the content is no CloudTrail log file (not gzip JSON with `Records`); it is not retried. */
  unreadable?: string;
}

export interface RunOutcome {
  files: FileOutcome[];
  /** Files that failed (unreadable, a look-up failed); they are retried after a back-off. */
  failed: Array<{ key: string; error: string }>;
  /** Files left for later because they failed recently (see `RetryBackoff`). */
  deferred: number;
}

/** First and longest wait before a failed file is tried again. */
export const RETRY_BACKOFF_MS = { first: 60_000, max: 3_600_000 } as const;

/**
 * Which failed files wait before their next try. Without it a file that keeps failing (an
 * account whose role is gone, a look-up that always errs) would stay first among the pending
 * keys and, with `filesPerRun` of them, block every newer file. A failed file is never marked
 * done: it is tried again after 1, 2, 4 … minutes, at most hourly, for as long as it fails.
 * Kept in memory: a restarted or another replica tries it once more, which costs one attempt.
 */
export class RetryBackoff {
  readonly #failures = new Map<string, { count: number; retryAt: number }>();
  constructor(private readonly now: () => number = Date.now) {}

  waiting(key: string): boolean {
    const entry = this.#failures.get(key);
    return entry !== undefined && entry.retryAt > this.now();
  }

  failed(key: string): void {
    const count = (this.#failures.get(key)?.count ?? 0) + 1;
    const wait = Math.min(RETRY_BACKOFF_MS.first * 2 ** (count - 1), RETRY_BACKOFF_MS.max);
    this.#failures.set(key, { count, retryAt: this.now() + wait });
  }

  succeeded(key: string): void {
    this.#failures.delete(key);
  }
}

/**
 * Runs the rules over CloudTrail log files. A file is ingested in one transaction: its
 * violations (idempotent on account, region, event, instance and type), the cursor row that
 * marks it done, and its audit event. Rules run before the transaction (they may call AWS),
 * and a file whose rules fail is not marked, so it is retried rather than silently skipped.
 */
export class CloudTrailIngestion {
  constructor(
    private readonly store: FullstopStore,
    private readonly deps: {
      teams: Pick<TeamDirectory, 'teamOfAccount'>;
      rules: RuleContext;
      audit: Audit<FullstopEvent>;
      logger: Logger;
      eventRules?: readonly EventRule[];
      /** The clock of the retry back-off (tests move it). */
      now?: () => number;
    },
  ) {
    this.#backoff = new RetryBackoff(deps.now);
  }

  readonly #backoff: RetryBackoff;

  /** Ingests up to `limit` files of `source` not done yet, oldest key first. */
  async ingestPending(source: CloudTrailSource, limit: number): Promise<RunOutcome> {
    const keys = (await source.listKeys()).filter((k) => parseCloudTrailKey(k)).sort();
    const done = await this.store.ingestedAmong(source.name, keys);
    const notDone = keys.filter((k) => !done.has(k));
    const ready = notDone.filter((k) => !this.#backoff.waiting(k));
    const pending = ready.slice(0, limit);
    const outcome: RunOutcome = { files: [], failed: [], deferred: notDone.length - ready.length };
    const ctx = cachedContext(this.deps.rules);
    const teams = new Map<string, Promise<string | null>>();
    for (const key of pending) {
      try {
        outcome.files.push(await this.#ingest(source, key, ctx, teams));
        this.#backoff.succeeded(key);
      } catch (error) {
        this.#backoff.failed(key);
        const message = error instanceof Error ? error.message : String(error);
        this.deps.logger.error(
          { source: source.name, key, err: message },
          'fullstop: CloudTrail file not ingested',
        );
        outcome.failed.push({ key, error: message });
      }
    }
    return outcome;
  }

  /** Ingests one file (again: a file already done adds nothing). */
  async ingestFile(source: CloudTrailSource, key: string): Promise<FileOutcome> {
    return this.#ingest(source, key, cachedContext(this.deps.rules), new Map());
  }

  async #ingest(
    source: CloudTrailSource,
    key: string,
    ctx: RuleContext,
    teams: Map<string, Promise<string | null>>,
  ): Promise<FileOutcome> {
    const where = parseCloudTrailKey(key);
    if (!where)
      throw new Error(`${key} is not a CloudTrail log file key (AWSLogs/<account>/CloudTrail/<region>/…)`);
    // Reading may fail for a while (network, permissions): then the file is retried. Content
    // that is no CloudTrail file never becomes one: it is marked done, with a failure audited.
    const content = await source.read(key);
    let records: { valid: CloudTrailRecord[]; malformed: number };
    try {
      records = await readRecords(content);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      this.deps.logger.error(
        { source: source.name, key, err: reason },
        'fullstop: not a CloudTrail log file',
      );
      return this.store.write(async (tx) => {
        const claimed = await tx.claimFile(source.name, key, 0, 0);
        if (claimed) {
          await this.deps.audit(tx.executor, {
            event: 'fullstop.cloudtrail_file.ingest',
            actor: { uid: FULLSTOP_ACTOR, realm: 'services' },
            targetId: `${source.name}/${key}`,
            outcome: 'failure',
            details: { account_id: where.account, region: where.region, error: reason },
            requestId: internalRequestId('fullstop-ingest'),
          });
        }
        return { key, ingested: claimed, events: 0, violations: 0, malformed: 0, unreadable: reason };
      });
    }
    const teamOf = (account: string) => {
      let team = teams.get(account);
      if (!team) {
        team = this.deps.teams.teamOfAccount(account).then((t) => t?.id ?? null);
        teams.set(account, team);
      }
      return team;
    };
    const rows: NewViolationRow[] = [];
    const instances: InstanceChange[] = [];
    for (const record of records.valid) {
      const account = record.recipientAccountId ?? where.account;
      instances.push(...instanceChangesOf(record, account, timeOf(record.eventTime) ?? new Date()));
      for (const rule of this.deps.eventRules ?? EVENT_RULES) {
        const findings = await rule.check(record, account, ctx);
        if (!findings.length) continue;
        const base = {
          account,
          region: record.awsRegion,
          eventId: record.eventID,
          eventTime: timeOf(record.eventTime),
          team: await teamOf(account),
          username: usernameOf(record),
        };
        for (const finding of findings) rows.push(findingRow(finding, base));
      }
    }
    return this.store.write(async (tx) => {
      const claimed = await tx.claimFile(source.name, key, records.valid.length, rows.length);
      if (!claimed)
        return { key, ingested: false, events: records.valid.length, violations: 0, malformed: 0 };
      const inserted = await tx.insertViolations(rows);
      // Launches and terminations commit with the file: a replayed file changes nothing twice.
      await tx.recordInstances(instances);
      await this.deps.audit(tx.executor, {
        event: 'fullstop.cloudtrail_file.ingest',
        actor: { uid: FULLSTOP_ACTOR, realm: 'services' },
        targetId: `${source.name}/${key}`,
        details: {
          account_id: where.account,
          region: where.region,
          events: records.valid.length,
          malformed: records.malformed,
          violations: inserted.length,
        },
        requestId: internalRequestId('fullstop-ingest'),
      });
      return {
        key,
        ingested: true,
        events: records.valid.length,
        violations: inserted.length,
        malformed: records.malformed,
      };
    });
  }
}

/** The records of a gzip CloudTrail file; throws when it is not gzip JSON `{"Records": […]}`. */
export async function readRecords(
  content: Buffer,
): Promise<{ valid: CloudTrailRecord[]; malformed: number }> {
  let json: unknown;
  try {
    json = JSON.parse((await gunzip(content)).toString('utf8'));
  } catch (error) {
    throw new Error(`not gzip JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  const file = CloudTrailFileSchema.safeParse(json);
  if (!file.success) throw new Error('not a CloudTrail log file: no "Records" array');
  const valid: CloudTrailRecord[] = [];
  let malformed = 0;
  for (const raw of file.data.Records) {
    const parsed = CloudTrailRecordSchema.safeParse(raw);
    if (parsed.success) valid.push(parsed.data);
    else malformed++;
  }
  return { valid, malformed };
}

/**
 * The rule context with look-ups cached for one run: a file launches many instances of one AMI,
 * and the instance rules each ask EC2 about the instances of one StartInstances record.
 */
function cachedContext(ctx: RuleContext): RuleContext {
  const memo = <T>(cache: Map<string, Promise<T>>, key: string, load: () => Promise<T>) => {
    let hit = cache.get(key);
    if (!hit) {
      hit = load();
      hit.catch(() => cache.delete(key));
      cache.set(key, hit);
    }
    return hit;
  };
  const described = new Map<string, Promise<InstanceInfo[]>>();
  const userData = new Map<string, Promise<boolean>>();
  const instances: InstanceCatalog | undefined = ctx.instances && {
    describeInstances: (account, region, ids) =>
      memo(described, `${account}/${region}/${ids.join(',')}`, () =>
        ctx.instances!.describeInstances(account, region, ids),
      ),
    hasUserData: (account, region, id) =>
      memo(userData, `${account}/${region}/${id}`, () => ctx.instances!.hasUserData(account, region, id)),
  };
  const cache = new Map<string, Promise<ImageInfo | undefined>>();
  const images: ImageCatalog = {
    describe(account, region, imageId) {
      const key = `${account}/${region}/${imageId}`;
      let hit = cache.get(key);
      if (!hit) {
        hit = ctx.images.describe(account, region, imageId);
        hit.catch(() => cache.delete(key));
        cache.set(key, hit);
      }
      return hit;
    },
  };
  return { ...ctx, images, instances };
}
