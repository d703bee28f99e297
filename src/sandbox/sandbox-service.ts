import { createReadStream } from 'node:fs';
import { type Audit, type AuditActor, internalRequestId } from '../platform/audit/create-audit.js';
import type { Principal } from '../platform/auth/principal.js';
import { ConflictError, InputError, NotAllowedError, NotFoundError } from '../platform/errors.js';
import type { Logger } from '../platform/logger.js';
import type { UserDirectory } from '../users/contract.js';
import type { SandboxAwsClients } from './aws/account-clients.js';
import { PROTECTED_ROLES, PurgeIncompleteError } from './aws/purge-result.js';
import { lazy } from './aws/sdk.js';
import {
  type ResolvedAccountSettings,
  type SandboxConfigFile,
  loadSandboxConfig,
  parseSandboxConfig,
  resolveAccountSettings,
} from './config.js';
import {
  type AccountListQuery,
  type AccountState,
  type PurgeResultView,
  type SandboxAccountView,
  type SandboxEvent,
  type SandboxEventKind,
  type SandboxExceptionKind,
  type SandboxStatus,
  type TagImportResult,
  TRANSITIONS,
} from './contract.js';
import type { SandboxAuditEvent } from './events.js';
import { SandboxLifecycle } from './lifecycle.js';
import { postIncident } from './reports/incident-webhook.js';
import { type ReportBucket, writeReport } from './reports/report-bucket.js';
import { reportAccount } from './reports/report.js';
import type { SandboxSettings } from './settings.js';
import { CostFileSource } from './spend/cost-file.js';
import { type BudgetAlertException, dailyCheck } from './spend/daily-check.js';
import type { CostSource, ForecastSource } from './spend/types.js';
import type { CloudTrailSource } from '../fullstop/ingestion.js';
import { type ConsoleLoginFinding, scanConsoleLogins } from './console-logins.js';
import type { NewEvent, SandboxStore, SandboxTransaction } from './store.js';
import { parseTagsCsv, tagsCsv } from './tags-csv.js';

/** The part of the one permission rule (TeamPolicy) sandbox asks: administrators, and who is who. */
export interface SandboxPolicy {
  isAdmin(principal: Principal): boolean;
  isEmployee(principal: Principal, uid: string): boolean;
}

/** Background work acts as the service itself. */
const SERVICE_ACTOR: AuditActor = { uid: 'sandbox', realm: 'services' };
const MAINTENANCE_MARK = 'maintenance';
const WEEKLY_REPORT_MARK = 'reports.weekly';
const MONTHLY_REPORT_MARK = 'reports.monthly';
const CONSOLE_LOGIN_MARK = 'console-logins';

const EVENT_STATE: Partial<Record<SandboxEventKind | SandboxExceptionKind, AccountState>> = {
  AssignedAccount: 'assigned',
  ReleasedAccount: 'released',
  ExpiredAccount: 'expired',
  PurgedAccount: 'purged',
  PreparedAccount: 'prepared',
};

export interface SandboxServiceDeps {
  store: SandboxStore;
  audit: Audit<SandboxAuditEvent>;
  policy: SandboxPolicy;
  users: Pick<UserDirectory, 'getUser'>;
  /** Undefined: management is off (no AWS configured); reads answer, changes are refused. */
  aws?: SandboxAwsClients | undefined;
  settings: SandboxSettings;
  logger: Logger;
  /** Injectable clock: tests move time through a maintenance window. */
  now?: () => Date;
  /**
   * Daily costs (the module passes the source `sandbox.spend.source` chose); default the cost file
   * of `settings.spend.costFile`, none without it.
   */
  costs?: CostSource | undefined;
  /** Forecasts for the monthly cost report (Cost Explorer); without: the run rate of recent days. */
  forecasts?: ForecastSource | undefined;
  /** Where the job sandbox.reports writes (S3 or a folder); undefined: no reports. */
  reports?: ReportBucket | undefined;
}

/**
 * The sandbox accounts' rules: who may assign, release and purge, the maintenance window and
 * the daily spend check. The state is written to the account tags first (AWS is the truth),
 * then mirrored with its event and audit entry in one transaction.
 */
export class SandboxService {
  readonly #now: () => Date;
  readonly #costs: CostSource | undefined;

  constructor(private readonly deps: SandboxServiceDeps) {
    this.#now = deps.now ?? (() => new Date());
    const costFile = deps.settings.spend.costFile;
    this.#costs = deps.costs ?? (costFile ? new CostFileSource(() => createReadStream(costFile)) : undefined);
  }

  status(): SandboxStatus {
    return this.deps.aws
      ? { management: 'on', message: 'sandbox accounts are managed through AWS Organizations' }
      : {
          management: 'off',
          message:
            'sandbox management is off: set sandbox.enabled (and platform.aws or sandbox.aws) to manage accounts',
        };
  }

  /** The settings file with the installation's default window under it. */
  async config(): Promise<SandboxConfigFile> {
    const file = this.deps.settings.configFile
      ? await loadSandboxConfig(this.deps.settings.configFile)
      : parseSandboxConfig({});
    return {
      ...file,
      defaults: { maintenance_window: this.deps.settings.maintenanceWindow, ...file.defaults },
    };
  }

  list(query: AccountListQuery = {}): Promise<SandboxAccountView[]> {
    return this.deps.store.list(query);
  }

  async get(id: string): Promise<SandboxAccountView> {
    const account = await this.deps.store.get(id);
    if (!account) throw new NotFoundError(`account ${id} is not a sandbox account`, { code: 'NOT_FOUND' });
    return account;
  }

  async events(id: string): Promise<SandboxEvent[]> {
    await this.get(id);
    return this.deps.store.events({ accountId: id });
  }

  incidents(accountId?: string): Promise<SandboxEvent[]> {
    return this.deps.store.events({ accountId, exceptionsOnly: true });
  }

  /**
   * Reads the organisation into the mirror; an account seen for the first time gets its
   * CreatedAccount event. Budgets come from the settings file.
   */
  async sync(): Promise<{ accounts: number; discovered: string[] }> {
    const aws = this.#requireAws();
    const config = await this.config();
    const { listOrganizationAccounts, managementAccountId } = await lazy.organizations();
    const management = await managementAccountId(aws.org);
    const accounts = (await listOrganizationAccounts(aws.org)).filter((a) => a.id !== management);
    const discovered: string[] = [];
    const at = this.#now();
    for (const account of accounts) {
      const budget = resolveAccountSettings(config, account).budget.amount;
      await this.deps.store.write(async (trx) => {
        if (!(await this.deps.store.upsertAccount(trx, account, budget))) return;
        discovered.push(account.id);
        await this.#event(trx, SERVICE_ACTOR, internalRequestId('sandbox-sync'), 'sandbox.account.discover', {
          accountId: account.id,
          kind: 'CreatedAccount',
          message: `found in ${account.organizational_unit_name ?? 'the root'} as ${account.state}`,
          details: { state: account.state, organizational_unit: account.organizational_unit_name },
          at,
        });
      });
    }
    return { accounts: accounts.length, discovered };
  }

  /**
   * Gives an account to a platform user. Administrators give any account to anyone; an employee
   * may take a free account for themselves while holding none.
   */
  async assign(
    principal: Principal,
    id: string,
    holder: string,
    requestId: string,
  ): Promise<SandboxAccountView> {
    const aws = this.#requireAws();
    const account = await this.get(id);
    if (!this.deps.policy.isAdmin(principal)) {
      if (!this.deps.policy.isEmployee(principal, holder)) {
        throw new NotAllowedError('only administrators may assign an account to someone else', {
          code: 'NOT_ADMIN',
        });
      }
      const held = await this.deps.store.list({ holder });
      const other = held.find((a) => a.id !== id && a.state === 'assigned');
      if (other) {
        throw new ConflictError(`${holder} already holds account ${other.id}`, { code: 'ALREADY_HOLDS' });
      }
    }
    const user = await this.deps.users.getUser(holder);
    if (!user || user.disabled) {
      throw new InputError(`${holder} is not an enabled platform user`, { code: 'UNKNOWN_USER' });
    }
    this.#assertTransition(account, 'assigned');
    const at = this.#now();
    const { writeAccountState } = await lazy.organizations();
    await writeAccountState(aws.org, id, 'assigned', at, holder);
    await this.deps.store.write((trx) =>
      this.#event(trx, principal, requestId, 'sandbox.account.assign', {
        accountId: id,
        kind: 'AssignedAccount',
        message: `${account.state} → assigned to ${holder}`,
        details: { from: account.state, to: 'assigned', holder },
        at,
      }),
    );
    return this.get(id);
  }

  /** Gives an account back: its holder or an administrator. The next maintenance window purges it. */
  async release(principal: Principal, id: string, requestId: string): Promise<SandboxAccountView> {
    const aws = this.#requireAws();
    const account = await this.get(id);
    this.#assertHolderOrAdmin(principal, account, 'release');
    this.#assertTransition(account, 'released');
    const at = this.#now();
    const { writeAccountState } = await lazy.organizations();
    await writeAccountState(aws.org, id, 'released', at, null);
    await this.deps.store.write((trx) =>
      this.#event(trx, principal, requestId, 'sandbox.account.release', {
        accountId: id,
        kind: 'ReleasedAccount',
        message: `released by ${principal.uid}`,
        details: { from: account.state, to: 'released', holder: null, previous_holder: account.holder },
        at,
      }),
    );
    return this.get(id);
  }

  /**
   * A dry run (holder or administrator) lists what a purge would delete and changes nothing.
   * A real purge (administrators, expired accounts, `allowForcePurge`) deletes it and moves the
   * account to purged; one that cannot finish is a FailedMaintenanceException and a 409.
   */
  async purge(
    principal: Principal,
    id: string,
    dryRun: boolean,
    requestId: string,
  ): Promise<PurgeResultView> {
    const aws = this.#requireAws();
    const account = await this.get(id);
    if (dryRun) this.#assertHolderOrAdmin(principal, account, 'list what a purge of');
    else {
      if (!this.deps.policy.isAdmin(principal)) {
        throw new NotAllowedError('only administrators may purge an account', { code: 'NOT_ADMIN' });
      }
      if (!this.deps.settings.allowForcePurge) {
        throw new ConflictError('purges are dry runs only on this installation (sandbox.allowForcePurge)', {
          code: 'FORCE_PURGE_OFF',
        });
      }
      this.#assertTransition(account, 'purged');
    }
    const settings = resolveAccountSettings(await this.config(), account);
    const at = this.#now();
    try {
      const { purgeAccount } = await lazy.purge();
      const result = await purgeAccount(await aws.purgeClients(id), purgeOptions(settings, dryRun));
      // The tag first (AWS is the truth), outside the transaction: no AWS call holds a connection.
      if (!dryRun) await (await lazy.organizations()).writeAccountState(aws.org, id, 'purged', at);
      await this.deps.store.write(async (trx) => {
        const details = { dry_run: dryRun, deleted: result.deleted.length, kept: result.kept.length };
        if (dryRun) {
          await this.deps.audit(trx, {
            event: 'sandbox.account.purge',
            actor: principal,
            targetId: id,
            details,
            requestId,
          });
          return;
        }
        await this.#event(trx, principal, requestId, 'sandbox.account.purge', {
          accountId: id,
          kind: 'PurgedAccount',
          message: `purged by ${principal.uid}: ${result.deleted.length} deleted, ${result.kept.length} kept`,
          details: { from: account.state, to: 'purged', ...details },
          at,
        });
      });
      return {
        account_id: id,
        dry_run: result.dryRun,
        deleted: result.deleted,
        kept: result.kept,
        errors: result.errors,
      };
    } catch (error) {
      if (!(error instanceof PurgeIncompleteError)) throw error;
      await this.recordException(
        id,
        'FailedMaintenanceException',
        error.message,
        { state: account.state },
        at,
      );
      throw new ConflictError(error.message, { code: 'PURGE_INCOMPLETE' });
    }
  }

  /** Every account's tags as CSV (`account` and one column per tag key; docs/sandbox.md). */
  async exportTags(): Promise<string> {
    return tagsCsv(await this.deps.store.list());
  }

  /**
   * Imports a CSV of account tags (administrators). Every problem of the file is reported at once,
   * with its line, and then nothing is written; a dry run reports what would change. Tags go to
   * Organizations first (AWS is the truth), then into the mirror with one audit entry.
   */
  async importTags(
    principal: Principal,
    csv: string,
    dryRun: boolean,
    requestId: string,
  ): Promise<TagImportResult> {
    if (!this.deps.policy.isAdmin(principal)) {
      throw new NotAllowedError('only administrators may import account tags', { code: 'NOT_ADMIN' });
    }
    const aws = dryRun ? this.deps.aws : this.#requireAws();
    const accounts = new Map((await this.deps.store.list()).map((a) => [a.id, a]));
    const { rows, problems } = parseTagsCsv(csv, new Set(accounts.keys()));
    if (problems.length > 0) {
      // A 400 is not among the refusals the routes audit on their own: a refused file is recorded here.
      await this.deps.audit.standalone({
        event: 'sandbox.tags.import',
        actor: principal,
        targetId: 'tags',
        outcome: 'refused',
        details: { code: 'TAGS_INVALID', dry_run: dryRun, problems: problems.length },
        requestId,
      });
      throw new InputError(
        `the tag file has ${problems.length} problem(s); nothing was imported: ` +
          problems.map((p) => `line ${p.line}: ${p.message}`).join('; '),
        { code: 'TAGS_INVALID', details: { errors: problems } },
      );
    }
    const changes: TagImportResult['changes'] = [];
    for (const row of rows) {
      const current = accounts.get(row.accountId)!.tags;
      const changed = Object.fromEntries(Object.entries(row.tags).filter(([k, v]) => current[k] !== v));
      if (Object.keys(changed).length > 0) changes.push({ account_id: row.accountId, tags: changed });
    }
    if (!dryRun && aws) {
      const { writeAccountTags } = await lazy.organizations();
      for (const change of changes) await writeAccountTags(aws.org, change.account_id, change.tags);
    }
    await this.deps.store.write(async (trx) => {
      if (!dryRun)
        for (const change of changes) await this.deps.store.mergeTags(trx, change.account_id, change.tags);
      await this.deps.audit(trx, {
        event: 'sandbox.tags.import',
        actor: principal,
        targetId: 'tags',
        details: { dry_run: dryRun, rows: rows.length, changes },
        requestId,
      });
    });
    return { dry_run: dryRun, rows: rows.length, changes };
  }

  /**
   * The job `sandbox.maintenance`: every account whose window opened since the last run goes
   * released → expired → purged → prepared → released; then the mirror is read anew.
   */
  async maintain(): Promise<Awaited<ReturnType<SandboxLifecycle['maintain']>>> {
    const aws = this.#requireAws();
    const now = this.#now();
    const since =
      (await this.deps.store.mark(MAINTENANCE_MARK)) ??
      new Date(now.getTime() - this.deps.settings.maintenanceIntervalSeconds * 1000);
    const requestId = internalRequestId('sandbox-maintenance');
    const lifecycle = new SandboxLifecycle({
      org: aws.org,
      config: () => this.config(),
      now: this.#now,
      events: {
        record: async (entry) => {
          if (entry.kind.endsWith('Exception')) {
            await this.recordException(
              entry.accountId,
              entry.kind as SandboxExceptionKind,
              entry.message,
              entry.details,
              entry.at,
            );
            return;
          }
          await this.deps.store.write((trx) =>
            this.#event(trx, SERVICE_ACTOR, requestId, 'sandbox.account.transition', entry),
          );
        },
      },
      purge: async (account, options) =>
        (await lazy.purge()).purgeAccount(await aws.purgeClients(account.id), {
          ...options,
          // The installation's switch wins over the file: no deletion unless both allow it.
          dryRun: options.dryRun || !this.deps.settings.allowForcePurge,
        }),
      prepare: async (account) =>
        (await lazy.prepare()).prepareAccount(
          { budgets: aws.budgets, iam: aws.iam(account.id) },
          account.id,
          resolveAccountSettings(await this.config(), account),
        ),
    });
    const outcome = await lifecycle.maintain(since);
    await this.deps.store.write((trx) => this.deps.store.setMark(trx, MAINTENANCE_MARK, now));
    await this.sync();
    return outcome;
  }

  /**
   * The job `sandbox.spend-check`: yesterday's cost of every account against its trailing
   * baseline and its budget lines; month-to-date spend kept for the console, each alarm an incident.
   */
  async checkSpend(): Promise<{ accounts: number; exceptions: BudgetAlertException[] }> {
    if (!this.#costs) return { accounts: 0, exceptions: [] };
    const now = this.#now();
    const { baselineDays, k, minAbsolute, minHistory } = this.deps.settings.spend;
    const day = (offset: number) => new Date(now.getTime() + offset * 86_400_000).toISOString().slice(0, 10);
    const yesterday = day(-1);
    const from = [day(-1 - baselineDays), yesterday.slice(0, 8) + '01'].sort()[0]!;
    const costs = await this.#costs.dailyCosts(from, yesterday);
    const config = await this.config();
    const accounts = await this.deps.store.list();
    const exceptions: BudgetAlertException[] = [];
    for (const account of accounts) {
      const budget = resolveAccountSettings(config, account).budget;
      const result = dailyCheck(
        [
          {
            id: account.id,
            name: account.name,
            organizationalUnit: account.organizational_unit_name ?? '',
            costCenter: account.cost_center ?? '',
            holder: account.holder ?? '',
            state: account.state,
            tags: account.tags,
          },
        ],
        costs,
        now,
        {
          baselineDays,
          k,
          minAbsolute,
          minHistory,
          budgetAmount: budget.amount,
          alertPercentages: [...new Set([budget.alert_threshold, 100])],
        },
      );
      const spend = result.spend[0];
      if (spend) {
        await this.deps.store.write((trx) =>
          this.deps.store.setSpend(trx, account.id, spend.monthToDate, yesterday),
        );
      }
      for (const exception of result.exceptions) {
        if (await this.deps.store.hasBudgetAlert(account.id, exception.day, exception.kind)) continue;
        exceptions.push(exception);
        await this.recordException(
          account.id,
          'BudgetAlertException',
          exception.message,
          {
            alarm: exception.kind,
            day: exception.day,
            amount: exception.amount,
            threshold: exception.threshold,
          },
          now,
          exception,
        );
      }
    }
    return { accounts: accounts.length, exceptions };
  }

  /**
   * The job `sandbox.reports`: the weekly inventory once per ISO week (from Monday 00:00 UTC) and,
   * once per month, the last month's activity report and (with a cost source) its cost report.
   * A tick that finds nothing due writes nothing; each run's keys are audited with its mark.
   */
  async produceReports(): Promise<{ written: string[] }> {
    const bucket = this.deps.reports;
    if (!bucket) return { written: [] };
    const now = this.#now();
    const written: string[] = [];
    const [{ activityReport }, { produceMonthlyReports, produceWeeklyInventory }] = await Promise.all([
      lazy.activity(),
      lazy.produce(),
    ]);
    const accounts = (await this.deps.store.list()).map(reportAccount);
    const record = async (mark: string, keys: string[]) => {
      written.push(...keys);
      await this.deps.store.write(async (trx) => {
        await this.deps.store.setMark(trx, mark, now);
        await this.deps.audit(trx, {
          event: 'sandbox.report.write',
          actor: SERVICE_ACTOR,
          targetId: mark,
          details: { keys },
          requestId: internalRequestId('sandbox-reports'),
        });
      });
    };
    const day = now.getUTCDay();
    const weekStart = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() - ((day + 6) % 7));
    const weekly = await this.deps.store.mark(WEEKLY_REPORT_MARK);
    if (!weekly || weekly.getTime() < weekStart)
      await record(WEEKLY_REPORT_MARK, await produceWeeklyInventory(bucket, accounts, now));

    const monthStart = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
    const monthly = await this.deps.store.mark(MONTHLY_REPORT_MARK);
    if (!monthly || monthly < monthStart) {
      const previous = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1));
      const month = previous.toISOString().slice(0, 7);
      const events = await this.deps.store.events({ from: previous, until: monthStart });
      const keys = this.#costs
        ? await produceMonthlyReports({
            bucket,
            accounts,
            events,
            costs: this.#costs,
            ...(this.deps.forecasts ? { forecasts: this.deps.forecasts } : {}),
            month,
            now,
          })
        : // Without costs no cost report: a report of zeros would read as "nothing was spent".
          await writeReport(bucket, await activityReport({ accounts, events, month, now }));
      await record(MONTHLY_REPORT_MARK, keys);
    }
    return { written };
  }

  /**
   * The job `sandbox.console-logins`: root and IAM-user console logins of sandbox accounts in the
   * CloudTrail log files of `source`, each an incident (audited, sent to the webhook) once.
   */
  async checkConsoleLogins(
    source: CloudTrailSource,
  ): Promise<{ files: number; recorded: ConsoleLoginFinding[]; unreadable: string[] }> {
    const now = this.#now();
    const since = await this.deps.store.mark(CONSOLE_LOGIN_MARK);
    const accounts = new Set((await this.deps.store.list()).map((a) => a.id));
    const { findings, files, unreadable } = await scanConsoleLogins(source, accounts, since);
    const recorded: ConsoleLoginFinding[] = [];
    for (const finding of findings) {
      if (await this.deps.store.hasCloudTrailIncident(finding.accountId, finding.eventId)) continue;
      await this.recordException(
        finding.accountId,
        finding.kind,
        finding.message,
        finding.details,
        finding.at,
      );
      recorded.push(finding);
    }
    if (unreadable.length > 0)
      this.deps.logger.warn({ files: unreadable }, 'CloudTrail files that are not gzip JSON were skipped');
    await this.deps.store.write((trx) => this.deps.store.setMark(trx, CONSOLE_LOGIN_MARK, now));
    return { files, recorded, unreadable };
  }

  /** An exception: stored as an incident with its audit event, then sent to the webhook (if any). */
  async recordException(
    accountId: string,
    kind: SandboxExceptionKind,
    message: string,
    details: Record<string, unknown>,
    at: Date,
    payload?: BudgetAlertException,
  ): Promise<void> {
    await this.deps.store.write((trx) =>
      this.#event(trx, SERVICE_ACTOR, internalRequestId('sandbox-incident'), 'sandbox.incident.record', {
        accountId,
        kind,
        message,
        details,
        at,
      }),
    );
    const url = this.deps.settings.incidentWebhook;
    if (!url) return;
    // postIncident only serialises what it is given: the budget alert as the spend check made it,
    // other exceptions in the same shape so that one receiver reads both.
    const body = payload ?? {
      accountId,
      kind,
      day: at.toISOString().slice(0, 10),
      amount: 0,
      threshold: 0,
      message,
    };
    await postIncident(url, body as BudgetAlertException).catch((error: unknown) => {
      // The incident is stored either way; the message never names the URL (it may carry a token).
      this.deps.logger.warn({ accountId, kind, error: (error as Error).message }, 'incident webhook failed');
    });
  }

  /** Mirror change (lifecycle events), event row and audit entry in the caller's transaction. */
  async #event(
    trx: SandboxTransaction,
    actor: AuditActor,
    requestId: string,
    auditEvent: SandboxAuditEvent,
    event: NewEvent,
  ): Promise<void> {
    const state = EVENT_STATE[event.kind];
    if (state) {
      const holder = event.details.holder;
      await this.deps.store.setState(
        trx,
        event.accountId,
        state,
        event.at,
        typeof holder === 'string' || holder === null ? holder : undefined,
      );
    }
    const eventId = await this.deps.store.addEvent(trx, event);
    await this.deps.audit(trx, {
      event: auditEvent,
      actor,
      targetId: event.accountId,
      details: { kind: event.kind, event_id: eventId, message: event.message, ...event.details },
      requestId,
    });
  }

  #requireAws(): SandboxAwsClients {
    if (!this.deps.aws) throw new ConflictError(this.status().message, { code: 'SANDBOX_OFF' });
    return this.deps.aws;
  }

  #assertTransition(account: SandboxAccountView, to: AccountState): void {
    if (!TRANSITIONS[account.state].includes(to)) {
      throw new ConflictError(`account ${account.id} is ${account.state} and cannot become ${to}`, {
        code: 'TRANSITION_REFUSED',
      });
    }
  }

  #assertHolderOrAdmin(principal: Principal, account: SandboxAccountView, what: string): void {
    if (this.deps.policy.isAdmin(principal)) return;
    if (account.holder && this.deps.policy.isEmployee(principal, account.holder)) return;
    throw new NotAllowedError(`only the holder of ${account.id} or an administrator may ${what} it`, {
      code: 'NOT_HOLDER',
    });
  }
}

function purgeOptions(settings: ResolvedAccountSettings, dryRun: boolean) {
  return {
    regions: settings.regions,
    keepTag: settings.keep_tag,
    dryRun,
    baselineRoles: PROTECTED_ROLES,
  };
}
