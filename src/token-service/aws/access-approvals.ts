import { minimatch } from 'minimatch';
import type { Principal } from '../../platform/auth/principal.js';
import type { TeamPolicy } from '../../platform/authz/team-policy.js';
import { ConflictError, InputError, NotAllowedError, NotFoundError } from '../../platform/errors.js';
import type { TokenServiceAudit } from '../audit.js';
import {
  type AccessRequestRow,
  type AccessRequestState,
  type AccessRequestStore,
  stateOf,
} from './access-approvals-store.js';
import { type AwsRole, type AwsRolesDeps, awsRolesOf } from './aws-roles.js';
import type { SecondApproverSettings } from './settings.js';

/** Stable code of the refusal mai (and any client) recognises to offer an access request. */
export const APPROVAL_REQUIRED = 'approval_required';

export interface AccessApprovalsDeps {
  store: AccessRequestStore;
  audit: TokenServiceAudit;
  roles: AwsRolesDeps;
  /** The one permission rule: approvers are those who may act for the account's owning team. */
  policy: TeamPolicy;
  settings: SecondApproverSettings;
  now: () => number;
}

export interface RequestInput {
  /** Account id or name (the owning team's id). */
  account: string;
  /** Role name or role ARN. */
  role: string;
  reason: string;
}

/** How the issuing paths record an approval they relied on. */
export interface ApprovalUsed {
  access_request?: string;
  approved_by?: string;
}

/**
 * Second approver for sensitive accounts (issue 19): a role in a listed account is issued (SAML
 * assertion, web-identity token) only while an approval by another person is in its window. The
 * approver is whoever the platform's team rule lets act for the account's owning team (a member,
 * or a platform administrator), never the requester.
 */
export class AccessApprovals {
  constructor(private readonly deps: AccessApprovalsDeps) {}

  /** Whether issuing `role` needs an approval: its account (id, name or a pattern) and role are listed. */
  needsApproval(role: Pick<AwsRole, 'account_id' | 'account_name' | 'role_name'>): boolean {
    const { accounts, roles } = this.deps.settings;
    if (roles.length > 0 && !roles.includes(role.role_name)) return false;
    return accounts.some(
      (pattern) =>
        minimatch(role.account_id, pattern) ||
        (role.account_name !== null && minimatch(role.account_name, pattern)),
    );
  }

  /**
   * The gate of the issuing paths: nothing when the role needs no approval, the approval relied
   * on when one is in its window, else a 403 `approval_required` saying how to ask.
   */
  async require(uid: string, role: AwsRole): Promise<ApprovalUsed> {
    if (!this.needsApproval(role)) return {};
    const now = new Date(this.deps.now());
    const approval = await this.deps.store.currentApproval(uid, role.role_arn, now);
    if (approval) return { access_request: approval.id, approved_by: approval.decided_by ?? undefined };
    const pending = await this.deps.store.pending(uid, role.role_arn, now);
    const approvers = approversOf(role.team);
    const what = `${role.role_name} in account ${role.account_id}${role.account_name ? ` (${role.account_name})` : ''}`;
    throw new NotAllowedError(
      pending
        ? `${what} needs a second approver: your access request ${pending.id} is pending; ${approvers} approves it with POST /aws/access-requests/${pending.id}/approval (mai approve ${pending.id})`
        : `${what} needs a second approver: ask with POST /aws/access-requests {"account","role","reason"} (mai login --reason TEXT), then ${approvers} approves it`,
      { code: APPROVAL_REQUIRED },
    );
  }

  /** A new pending request, or the requester's pending one for the same role (`created: false`). */
  async request(
    principal: Principal,
    input: RequestInput,
    requestId: string,
  ): Promise<{ request: AccessRequestRow; created: boolean }> {
    const matching = (await awsRolesOf(principal.uid, this.deps.roles)).filter(
      (r) =>
        (r.account_id === input.account || r.account_name === input.account) &&
        (r.role_name === input.role || r.role_arn === input.role),
    );
    // A team's name may stand for several accounts: the one asked about is the one that needs it.
    const role = matching.find((r) => this.needsApproval(r)) ?? matching[0];
    if (!role) {
      throw new NotAllowedError(`${input.role} in account ${input.account} is not one of your AWS roles`);
    }
    if (!this.needsApproval(role)) {
      throw new InputError(`${role.role_name} in account ${role.account_id} needs no second approver`, {
        code: 'approval_not_required',
      });
    }
    const now = new Date(this.deps.now());
    const pending = await this.deps.store.pending(principal.uid, role.role_arn, now);
    if (pending) return { request: pending, created: false };
    const expiresAt = new Date(now.getTime() + this.deps.settings.requestLifetimeSeconds * 1000);
    const request = await this.deps.store.create(
      {
        uid: principal.uid,
        accountId: role.account_id,
        roleName: role.role_name,
        roleArn: role.role_arn,
        team: role.team,
        reason: input.reason,
        expiresAt,
      },
      now,
      (trx, row) =>
        this.deps.audit(trx, {
          event: 'token-service.aws_access_request.create',
          actor: principal,
          targetId: row.id,
          details: { account: row.account_id, role: row.role_name, team: row.team, reason: row.reason },
          requestId,
        }),
    );
    return { request, created: true };
  }

  /** Approves or rejects a pending request; only an approver other than the requester may. */
  async decide(
    principal: Principal,
    id: string,
    verdict: 'approved' | 'rejected',
    comment: string | null,
    requestId: string,
  ): Promise<AccessRequestRow> {
    const found = await this.deps.store.get(id);
    if (!found) throw new NotFoundError(`access request ${id} does not exist`, { code: 'not_found' });
    if (principal.realm === 'employees' && principal.uid === found.uid) {
      throw new NotAllowedError(`nobody decides their own access request: ${approversOf(found.team)} does`, {
        code: 'own_request',
      });
    }
    await this.#assertApprover(principal, found);
    const at = new Date(this.deps.now());
    const decided = await this.deps.store.decide(
      {
        id,
        state: verdict,
        by: principal.uid,
        at,
        expiresAt:
          verdict === 'approved'
            ? new Date(at.getTime() + this.deps.settings.approvalValiditySeconds * 1000)
            : undefined,
        comment,
      },
      (trx, row) =>
        this.deps.audit(trx, {
          event:
            verdict === 'approved'
              ? 'token-service.aws_access_request.approve'
              : 'token-service.aws_access_request.reject',
          actor: principal,
          targetId: row.id,
          details: {
            requester: row.uid,
            account: row.account_id,
            role: row.role_name,
            ...(verdict === 'approved' ? { valid_until: row.expires_at.toISOString() } : {}),
            ...(comment ? { comment } : {}),
          },
          requestId,
        }),
    );
    if (!decided) {
      throw new ConflictError(`access request ${id} is ${stateOf(found, at)}, no longer pending`, {
        code: 'not_pending',
      });
    }
    return decided;
  }

  /** Requests the caller may see: their own and those they may decide; newest first. */
  async list(principal: Principal, state: AccessRequestState | undefined, limit: number) {
    const rows = await this.deps.store.list(state, new Date(this.deps.now()), 1000);
    const mayDecide = new Map<string | null, Promise<boolean>>();
    const visible: AccessRequestRow[] = [];
    for (const row of rows) {
      if (visible.length >= limit) break;
      if (row.uid === principal.uid) {
        visible.push(row);
        continue;
      }
      if (!mayDecide.has(row.team)) mayDecide.set(row.team, this.#isApprover(principal, row.team));
      if (await mayDecide.get(row.team)!) visible.push(row);
    }
    return visible;
  }

  async get(principal: Principal, id: string): Promise<AccessRequestRow> {
    const found = await this.deps.store.get(id);
    if (!found) throw new NotFoundError(`access request ${id} does not exist`, { code: 'not_found' });
    if (found.uid !== principal.uid) await this.#assertApprover(principal, found);
    return found;
  }

  stateOf(row: AccessRequestRow): AccessRequestState {
    return stateOf(row, new Date(this.deps.now()));
  }

  async #assertApprover(principal: Principal, row: AccessRequestRow): Promise<void> {
    if (row.team === null) {
      this.deps.policy.assertAdmin(principal, `decide access requests for account ${row.account_id}`);
      return;
    }
    await this.deps.policy.assertMayActFor(principal, row.team);
  }

  async #isApprover(principal: Principal, team: string | null): Promise<boolean> {
    if (team === null) return this.deps.policy.isAdmin(principal);
    return this.deps.policy.mayActFor(principal, team);
  }
}

function approversOf(team: string | null): string {
  return team ? `a member of team ${team} or a platform administrator` : 'a platform administrator';
}
