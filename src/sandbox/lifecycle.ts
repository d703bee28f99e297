import type { OrganizationsClient } from '@aws-sdk/client-organizations';
import { type SandboxConfigFile, resolveAccountSettings, windowOpenedBetween } from './config.js';
import {
  type AccountState,
  type SandboxAccount,
  type SandboxEventKind,
  type SandboxExceptionKind,
  TRANSITIONS,
} from './contract.js';
import type { PrepareResult } from './aws/prepare.js';
import type { PurgeOptions } from './aws/purge.js';
import { PROTECTED_ROLES, type PurgeResult, PurgeIncompleteError } from './aws/purge-result.js';
import { lazy } from './aws/sdk.js';

/** Where events and exceptions go (the store, in one transaction with the audit event). */
export interface SandboxEventSink {
  record(entry: {
    accountId: string;
    kind: SandboxEventKind | SandboxExceptionKind;
    message: string;
    details: Record<string, unknown>;
    at: Date;
  }): Promise<void>;
}

export class TransitionRefused extends Error {
  constructor(from: AccountState, to: AccountState) {
    super(`an account in state ${from} cannot become ${to}`);
    this.name = 'TransitionRefused';
  }
}

const EVENT_OF: Record<AccountState, SandboxEventKind> = {
  vanilla: 'CreatedAccount',
  assigned: 'AssignedAccount',
  released: 'ReleasedAccount',
  expired: 'ExpiredAccount',
  purged: 'PurgedAccount',
  prepared: 'PreparedAccount',
};

export interface LifecycleDeps {
  org: OrganizationsClient;
  config: () => Promise<SandboxConfigFile>;
  events: SandboxEventSink;
  /** Injectable clock: tests move time, the job passes the real one. */
  now: () => Date;
  purge: (account: SandboxAccount, options: PurgeOptions) => Promise<PurgeResult>;
  prepare: (account: SandboxAccount) => Promise<PrepareResult>;
}

export class SandboxLifecycle {
  constructor(private readonly deps: LifecycleDeps) {}

  async list(filter?: { state?: AccountState }): Promise<SandboxAccount[]> {
    const all = await (await lazy.organizations()).listOrganizationAccounts(this.deps.org);
    return filter?.state ? all.filter((a) => a.state === filter.state) : all;
  }

  async transition(account: SandboxAccount, to: AccountState, holder?: string | null, details = {}) {
    if (!TRANSITIONS[account.state].includes(to)) throw new TransitionRefused(account.state, to);
    const at = this.deps.now();
    await (await lazy.organizations()).writeAccountState(this.deps.org, account.id, to, at, holder);
    await this.deps.events.record({
      accountId: account.id,
      kind: EVENT_OF[to],
      message: `${account.state} → ${to}`,
      details: { from: account.state, to, ...(holder !== undefined ? { holder } : {}), ...details },
      at,
    });
  }

  /**
   * One maintenance pass for every account whose window opened in (since, now]: released →
   * expired → purged → prepared → released. A purge that cannot finish leaves the account expired
   * and records a FailedMaintenanceException; the next window tries again.
   */
  async maintain(since: Date): Promise<{ accountId: string; reached: AccountState; failed?: string }[]> {
    const config = await this.deps.config();
    const now = this.deps.now();
    const outcome: { accountId: string; reached: AccountState; failed?: string }[] = [];
    for (const account of await this.list()) {
      const settings = resolveAccountSettings(config, account);
      if (!['released', 'expired', 'purged'].includes(account.state)) continue;
      if (!windowOpenedBetween(settings.maintenance_window, since, now)) continue;
      let current = account;
      try {
        if (current.state === 'released') {
          await this.transition(current, 'expired');
          current = { ...current, state: 'expired' };
        }
        if (current.state === 'expired') {
          const result = await this.deps.purge(current, {
            regions: settings.regions,
            keepTag: settings.keep_tag,
            dryRun: settings.purge_mode === 'dry-run',
            baselineRoles: PROTECTED_ROLES,
          });
          await this.transition(current, 'purged', undefined, {
            dry_run: result.dryRun,
            deleted: result.deleted.length,
            kept: result.kept.length,
          });
          current = { ...current, state: 'purged' };
        }
        if (current.state === 'purged') {
          const prepared = await this.deps.prepare(current);
          await this.transition(current, 'prepared', undefined, { ...prepared });
          current = { ...current, state: 'prepared' };
          await this.transition(current, 'released', null);
          current = { ...current, state: 'released' };
        }
        outcome.push({ accountId: account.id, reached: current.state });
      } catch (error) {
        const message = error instanceof PurgeIncompleteError ? error.message : (error as Error).message;
        await this.deps.events.record({
          accountId: account.id,
          kind: 'FailedMaintenanceException',
          message,
          details: { state: current.state },
          at: now,
        });
        outcome.push({ accountId: account.id, reached: current.state, failed: message });
      }
    }
    return outcome;
  }
}
