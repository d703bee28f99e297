import type { AuditLog } from '../platform/audit/audit-log.js';
import { type AdminPolicy, isAdmin } from '../platform/auth/http-auth.js';
import type { Principal } from '../platform/auth/principal.js';
import { ConflictError, InputError, NotAllowedError, NotFoundError } from '../platform/errors.js';
import type { Logger } from '../platform/logger.js';
import type { TeamDirectory } from '../teams/contract.js';
import type { UserDirectory } from '../users/contract.js';
import { type BastionClient, BastionError } from './bastion-client.js';
import {
  type AccessRequest,
  type AccessRequestBody,
  type AccessRequestQuery,
  grantedMessage,
  USERNAME_PATTERN,
} from './contract.js';
import { grantCommand, revokeCommand } from './forced-command.js';
import type { HostPolicy } from './host-policy.js';
import type { AccessRequestStore } from './store.js';

/** The actor name of even's own background work in the request history and the audit log. */
export const SYSTEM_ACTOR = 'even';

export interface AccessGrantingOptions {
  store: AccessRequestStore;
  teams: TeamDirectory;
  users: UserDirectory;
  policy: HostPolicy;
  bastion: BastionClient;
  auditLog: AuditLog;
  adminPolicy: AdminPolicy;
  logger: Logger;
  defaultLifetimeMinutes: number;
  maxLifetimeMinutes: number;
  clock: () => Date;
}

export interface ExpiryRun {
  expired: AccessRequest[];
  /** `username@hostname` whose access was revoked on the bastion. */
  revoked: string[];
  /** `username@hostname: why` where the bastion could not be told; its own timer ends access. */
  failures: string[];
}

/**
 * The SSH access granting flow: check the request, the user's team against the bastion's
 * owner, the user's keys, then run the forced command on the bastion. Everything that can be
 * refused is refused before any connection to a bastion is opened.
 */
export class AccessGranting {
  constructor(private readonly o: AccessGrantingOptions) {}

  async request(
    principal: Principal,
    body: AccessRequestBody,
  ): Promise<{ request: AccessRequest; message: string }> {
    const { o } = this;
    const now = o.clock();
    const username = body.username ?? principal.uid;
    if (!USERNAME_PATTERN.test(username)) {
      throw new InputError(`user id ${principal.uid} is not a valid login name; send "username"`, {
        code: 'USERNAME_INVALID',
      });
    }
    const lifetimeMinutes = body.lifetime_minutes ?? o.defaultLifetimeMinutes;
    if (lifetimeMinutes > o.maxLifetimeMinutes) {
      throw new InputError(
        `lifetime_minutes ${lifetimeMinutes} exceeds the maximum of ${o.maxLifetimeMinutes} minutes`,
        { code: 'LIFETIME_TOO_LONG' },
      );
    }
    const record = (status: 'DENIED' | 'FAILED' | 'REQUESTED', statusReason: string | null) =>
      o.store.insert({
        username,
        hostname: body.hostname,
        reason: body.reason,
        remoteHost: body.remote_host ?? null,
        lifetimeMinutes,
        status,
        statusReason,
        actor: principal.uid,
        now,
      });
    const deny = async (reason: string, code: string): Promise<never> => {
      const denied = await record('DENIED', reason);
      throw new NotAllowedError(`access denied: ${reason} (request ${denied.id})`, { code });
    };

    if (username !== principal.uid && !isAdmin(principal, o.adminPolicy)) {
      return deny(`${principal.uid} may request access only for itself, not for ${username}`, 'NOT_YOURSELF');
    }
    const teams = (await o.teams.teamsOfMember(username)).map((t) => t.id);
    if (teams.length === 0) return deny(`${username} is not a member of any team`, 'NOT_IN_ANY_TEAM');
    const decision = o.policy.decide(body.hostname, username, teams);
    if (!decision.allowed) return deny(decision.reason, 'HOST_NOT_ALLOWED');
    const user = await o.users.getUser(username);
    if (user?.disabled) return deny(`user ${username} is disabled`, 'USER_DISABLED');
    const keys = await o.users.sshKeys(username);
    if (keys.length === 0) {
      const failed = await record('FAILED', `${username} has no SSH public key`);
      throw new InputError(
        `${username} has no SSH public key: add one to the user service first (request ${failed.id})`,
        { code: 'NO_SSH_KEYS' },
      );
    }

    const requested = await record('REQUESTED', null);
    const command = grantCommand(username, { lifetimeMinutes, remoteHost: body.remote_host });
    let failure: string;
    try {
      const result = await o.bastion.run(decision.target, command);
      if (result.exitCode === 0) {
        const expiresAt = new Date(now.getTime() + lifetimeMinutes * 60_000);
        const granted = await o.store.transition(requested.id, {
          from: ['REQUESTED'],
          to: 'GRANTED',
          reason: `granted for ${lifetimeMinutes} minutes (team ${decision.team})`,
          actor: principal.uid,
          now: o.clock(),
          expiresAt,
        });
        return { request: granted ?? requested, message: grantedMessage(body.hostname, username) };
      }
      failure =
        firstLines(result.stderr || result.stdout) || `the forced command exited with ${result.exitCode}`;
    } catch (error) {
      if (!(error instanceof BastionError)) throw error;
      failure = error.message;
    }
    await o.store.transition(requested.id, {
      from: ['REQUESTED'],
      to: 'FAILED',
      reason: failure,
      actor: principal.uid,
      now: o.clock(),
    });
    throw new InputError(`granting access to host ${body.hostname} for user ${username} failed: ${failure}`, {
      code: 'GRANT_FAILED',
    });
  }

  /** Ends a grant before its time: the requester, the user or an administrator may. */
  async revoke(principal: Principal, id: number): Promise<AccessRequest> {
    const { o } = this;
    const current = await o.store.get(id);
    if (!current)
      throw new NotFoundError(`access request ${id} does not exist`, { code: 'ACCESS_REQUEST_NOT_FOUND' });
    const own = principal.uid === current.username || principal.uid === current.created_by;
    if (!own && !isAdmin(principal, o.adminPolicy)) {
      throw new NotAllowedError(`only ${current.username} or an administrator may revoke request ${id}`);
    }
    const now = o.clock();
    const revoked = await o.store.transition(id, {
      from: ['GRANTED'],
      to: 'REVOKED',
      reason: `revoked by ${principal.uid}`,
      actor: principal.uid,
      now,
    });
    if (!revoked) {
      throw new ConflictError(
        `access request ${id} is ${current.status}, only a GRANTED request can be revoked`,
        {
          code: 'NOT_GRANTED',
        },
      );
    }
    const outcome = await this.#revokeOnBastion(revoked, now);
    const reason = `revoked by ${principal.uid}; ${outcome.text}`;
    await o.store.setStatusReason(id, reason);
    return { ...revoked, status_reason: reason };
  }

  /** Marks grants that ran out as EXPIRED and revokes them on their bastions. */
  async expireDue(now: Date = this.o.clock()): Promise<ExpiryRun> {
    const { o } = this;
    const expired = await o.store.claimExpired(now, SYSTEM_ACTOR);
    const run: ExpiryRun = { expired, revoked: [], failures: [] };
    const done = new Set<string>();
    for (const request of expired) {
      const key = `${request.username}@${request.hostname}`;
      if (done.has(key)) {
        await o.store.setStatusReason(request.id, 'the grant ran out; access revoked on the bastion');
        continue;
      }
      done.add(key);
      const outcome = await this.#revokeOnBastion(request, now);
      if (outcome.revoked) run.revoked.push(key);
      if (outcome.failure) run.failures.push(`${key}: ${outcome.failure}`);
      const reason = `the grant ran out; ${outcome.text}`;
      await o.store.setStatusReason(request.id, reason);
      await o.auditLog.record({
        service: 'even',
        action: 'access.expire',
        actor: { uid: SYSTEM_ACTOR, realm: 'services' },
        target: { type: 'access-request', id: String(request.id) },
        outcome: outcome.failure ? 'failure' : 'success',
        details: { username: request.username, hostname: request.hostname, status_reason: reason },
      });
    }
    return run;
  }

  /** Access requests, newest first (any authenticated caller: the list is the audit trail). */
  list(query: AccessRequestQuery): Promise<AccessRequest[]> {
    return this.o.store.list(query);
  }

  /** The user's public keys as OpenSSH text, for the bastion's grant-ssh-access. */
  async publicKeys(uid: string): Promise<string> {
    const keys = await this.o.users.sshKeys(uid);
    if (keys.length === 0) throw new NotFoundError(`${uid} has no SSH public key`, { code: 'NO_SSH_KEYS' });
    return `${keys.join('\n')}\n`;
  }

  async #revokeOnBastion(
    request: AccessRequest,
    now: Date,
  ): Promise<{ revoked: boolean; failure?: string; text: string }> {
    const { o } = this;
    const until = await o.store.liveUntil(request.username, request.hostname, now);
    if (until) {
      return { revoked: false, text: `a later grant keeps access open until ${until.toISOString()}` };
    }
    try {
      const result = await o.bastion.run(
        o.policy.targetOf(request.hostname),
        revokeCommand(request.username),
      );
      if (result.exitCode === 0) return { revoked: true, text: 'access revoked on the bastion' };
      const failure = firstLines(result.stderr || result.stdout) || `exit ${result.exitCode}`;
      return {
        revoked: false,
        failure,
        text: `revoking on the bastion failed (${failure}); its own timer ends access`,
      };
    } catch (error) {
      if (!(error instanceof BastionError)) throw error;
      o.logger.warn({ err: error, request: request.id }, 'revocation on the bastion failed');
      return {
        revoked: false,
        failure: error.message,
        text: `revoking on the bastion failed (${error.message}); its own timer ends access`,
      };
    }
  }
}

function firstLines(text: string): string {
  return text.trim().split('\n').slice(0, 3).join(' ').slice(0, 500);
}
