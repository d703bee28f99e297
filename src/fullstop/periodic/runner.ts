import { type Audit, internalRequestId } from '../../platform/audit/create-audit.js';
import type { Logger } from '../../platform/logger.js';
import type { AwsAccount } from '../../teams/contract.js';
import type { AccountAwsClients } from '../aws/account-clients.js';
import type { FullstopEvent } from '../events.js';
import { GLOBAL_REGION, type PeriodicRule } from '../rules/rule.js';
import type { RuleSettings } from '../settings.js';
import type { FullstopStore, NewViolationRow, PeriodicViolationRow } from '../store.js';
import { FULLSTOP_ACTOR, findingRow } from '../violations.js';

export interface PeriodicOutcome {
  accounts: number;
  /** Violations found this run, new or stored before. */
  found: number;
  /** Violations stored by this run (the rest were found by an earlier run). */
  stored: number;
  /** Accounts (and regions) whose check failed; the others' findings are stored regardless. */
  failed: Array<{ account: string; region: string; error: string }>;
  /** Open violations of earlier runs this run no longer found, resolved by it. */
  resolved: number;
}

/** How a violation a periodic check resolved itself begins: a recurrence of it is a new violation. */
export const AUTOMATIC_RESOLUTION = 'no longer found by the periodic check';

/** The stable event id of a periodic finding: a second run finds the same violation, not a new one. */
export function periodicEventId(type: string, resource: string): string {
  return `periodic:${type}:${resource}`;
}

/**
 * A finding that comes back after its check resolved it (the key rotated, then a new one grew
 * old under the same id; the role fixed, then opened again) is a new violation: `…#2`, `…#3`.
 * The resolved one keeps its history; the resource's latest violation is the one that counts.
 */
function occurrenceOf(eventId: string): { base: string; n: number } {
  const m = /^(.*)#(\d+)$/.exec(eventId);
  return m ? { base: m[1]!, n: Number(m[2]) } : { base: eventId, n: 1 };
}

/** Whether the check itself resolved a violation (not a person: theirs stays resolved). */
function resolvedByCheck(row: PeriodicViolationRow): boolean {
  return (
    row.comment !== null &&
    row.last_modified_by === FULLSTOP_ACTOR &&
    row.comment.startsWith(AUTOMATIC_RESOLUTION)
  );
}

const scopeKey = (account: string, region: string) => `${account}\n${region}`;
const resourceKey = (r: { account_id: string; region: string; event_id: string; instance_id: string }) =>
  [r.account_id, r.region, occurrenceOf(r.event_id).base, r.instance_id].join('\n');

/**
 * Runs periodic checks over every enabled account of the team service, in each region (IAM
 * checks once per account). Findings of one run are stored in one transaction with the run's
 * audit event; each is stored once per account, region, resource and type (the violations'
 * unique key over the stable event id), so a run finding what an earlier run found adds nothing.
 * An open violation of an earlier run whose resource this run no longer finds is resolved by the
 * run, in the same transaction, wherever the run could read; a person's resolution and an
 * acceptance's coverage are left alone.
 * A failing account (role not assumable, throttled) is logged and reported, the others go on.
 */
export class PeriodicChecks {
  constructor(
    private readonly store: FullstopStore,
    private readonly deps: {
      accounts: { listAccounts(): Promise<AwsAccount[]> };
      clients: { for(account: string, region: string): Promise<AccountAwsClients> };
      settings: RuleSettings;
      regions: readonly string[];
      audit: Audit<FullstopEvent>;
      logger: Logger;
      clock?: () => Date;
      /** Accounts (and regions) checked at the same time. */
      concurrency?: number | undefined;
    },
  ) {}

  async run(rule: PeriodicRule): Promise<PeriodicOutcome> {
    const listed = await this.deps.accounts.listAccounts();
    const accounts = listed.filter((a) => !a.disabled);
    // The platform's accounts: every one the team service lists, a disabled one too (it is still
    // ours, merely not checked). One list per run, so a check asks no team service per role.
    const ours = new Set(listed.map((a) => a.id));
    const platformAccounts = { isPlatformAccount: async (account: string) => ours.has(account) };
    const outcome: PeriodicOutcome = {
      accounts: accounts.length,
      found: 0,
      stored: 0,
      failed: [],
      resolved: 0,
    };
    // No accounts (the embedded default): nothing to look at, nothing to record.
    if (!accounts.length) return outcome;
    const now = (this.deps.clock ?? (() => new Date()))();
    const regions = rule.global ? [GLOBAL_REGION] : this.deps.regions;
    const scopes = accounts.flatMap((account) => regions.map((region) => ({ account, region })));
    const rows: NewViolationRow[] = [];
    // Where this run looked and got an answer: only there may "not found" resolve anything.
    const answered = new Set<string>();
    const checkOne = async ({ account, region }: (typeof scopes)[number]) => {
      // IAM answers in any region; its clients take the first configured one.
      const clientRegion = region === GLOBAL_REGION ? (this.deps.regions[0] ?? 'us-east-1') : region;
      try {
        const findings = await rule.check({
          account: account.id,
          region,
          clients: await this.deps.clients.for(account.id, clientRegion),
          settings: this.deps.settings,
          accounts: platformAccounts,
          now,
        });
        for (const finding of findings) {
          rows.push(
            findingRow(finding, {
              account: account.id,
              region,
              eventId: periodicEventId(rule.type.id, finding.resource),
              // The run that first saw it: a later run finds the stored violation and keeps its time.
              eventTime: now,
              team: account.owner || null,
              username: null,
            }),
          );
        }
        answered.add(scopeKey(account.id, region));
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        this.deps.logger.error(
          { check: rule.type.id, account: account.id, region, err: message },
          'fullstop: periodic check failed for an account',
        );
        outcome.failed.push({ account: account.id, region, error: message });
      }
    };
    // Accounts are independent and mostly wait on AWS: a few at a time keeps a run of hundreds
    // of accounts within its interval without tripping the API rate limits.
    let next = 0;
    const worker = async () => {
      while (next < scopes.length) await checkOne(scopes[next++]!);
    };
    await Promise.all(Array.from({ length: Math.min(this.deps.concurrency ?? 4, scopes.length) }, worker));
    outcome.failed.sort((a, b) => a.account.localeCompare(b.account) || a.region.localeCompare(b.region));
    outcome.found = rows.length;
    const job = `fullstop.periodic.${rule.name}`;
    return this.store.write(async (tx) => {
      // The violations earlier runs stored in the accounts this run answered for, by resource;
      // the latest of a resource is the one that counts.
      const earlier = await tx.periodicViolations(rule.type.id, periodicEventId(rule.type.id, ''), [
        ...new Set(accounts.map((a) => a.id)),
      ]);
      const latest = new Map<string, PeriodicViolationRow>();
      for (const row of earlier)
        if (answered.has(scopeKey(row.account_id, row.region))) latest.set(resourceKey(row), row);
      const toStore: NewViolationRow[] = [];
      const seen = new Set<string>();
      for (const row of rows) {
        const key = resourceKey(row);
        seen.add(key);
        const last = latest.get(key);
        // Open, covered by an acceptance, or resolved by a person: as before, nothing new.
        if (last && !resolvedByCheck(last)) continue;
        toStore.push(
          last ? { ...row, event_id: `${row.event_id}#${occurrenceOf(last.event_id).n + 1}` } : row,
        );
      }
      outcome.stored = (await tx.insertViolations(toStore)).length;
      // Open violations whose resource this run no longer found (fixed, deleted) resolve
      // themselves; those resolved by people or covered by an acceptance are left as they are.
      const gone = [...latest.entries()]
        .filter(([key, row]) => !seen.has(key) && row.comment === null && row.rule_id === null)
        .map(([, row]) => row);
      const comment = `${AUTOMATIC_RESOLUTION} ${job} at ${now.toISOString()}`;
      const resolved = new Set(
        await tx.resolveOpen(
          gone.map((r) => r.id),
          comment,
          FULLSTOP_ACTOR,
          now,
        ),
      );
      outcome.resolved = resolved.size;
      for (const row of gone.filter((r) => resolved.has(r.id))) {
        await this.deps.audit(tx.executor, {
          event: 'fullstop.violation.resolve',
          actor: { uid: FULLSTOP_ACTOR, realm: 'services' },
          targetId: row.id,
          details: {
            account_id: row.account_id,
            type: rule.type.id,
            previous_comment: null,
            automatic: true,
            comment,
          },
          requestId: internalRequestId('fullstop-periodic'),
        });
      }
      await this.deps.audit(tx.executor, {
        event: 'fullstop.periodic_check.run',
        actor: { uid: FULLSTOP_ACTOR, realm: 'services' },
        targetId: rule.type.id,
        outcome: outcome.failed.length ? 'failure' : 'success',
        details: {
          accounts: outcome.accounts,
          found: outcome.found,
          stored: outcome.stored,
          resolved: outcome.resolved,
          failed: outcome.failed,
        },
        requestId: internalRequestId('fullstop-periodic'),
      });
      return outcome;
    });
  }
}
