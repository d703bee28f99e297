import { type Audit, internalRequestId, markAudited } from '../platform/audit/create-audit.js';
import type { Principal } from '../platform/auth/principal.js';
import type { TeamPolicy } from '../platform/authz/team-policy.js';
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
import type { EvenEvent } from './events.js';
import { grantCommand, revokeCommand } from './forced-command.js';
import type { HostPolicy } from './host-policy.js';
import type { AccessRequestStore, AccessRequestWriteTransaction } from './store.js';

/** The actor name of even's own background work in the request history and the audit log. */
export const SYSTEM_ACTOR = 'even';

export interface AccessGrantingOptions {
  store: AccessRequestStore;
  teams: TeamDirectory;
  users: UserDirectory;
  policy: HostPolicy;
  bastion: BastionClient;
  audit: Audit<EvenEvent>;
  /** Who is an administrator, and who is an employee (realm-aware). */
  teamPolicy: TeamPolicy;
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
    requestId: string = internalRequestId('even'),
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
    const facts = {
      username,
      hostname: body.hostname,
      remote_host: body.remote_host ?? null,
      reason: body.reason,
      lifetime_minutes: lifetimeMinutes,
    };
    // The request row and its audit event commit together, before any bastion is contacted.
    const record = (
      status: 'DENIED' | 'FAILED' | 'REQUESTED',
      statusReason: string | null,
      outcome: 'success' | 'refused' | 'failure',
      code?: string,
    ) =>
      o.store.write(async (tx) => {
        const stored = await tx.insert({
          username,
          hostname: body.hostname,
          reason: body.reason,
          remoteHost: body.remote_host ?? null,
          lifetimeMinutes,
          status,
          statusReason,
          actor: principal.uid,
          actorRealm: principal.realm,
          now,
        });
        await this.#audit(tx, principal, 'even.access_request.create', stored.id, requestId, outcome, {
          ...facts,
          request_status: status,
          ...(statusReason === null ? {} : { status_reason: statusReason }),
          ...(code === undefined ? {} : { code }),
        });
        return stored;
      });
    const deny = async (reason: string, code: string): Promise<never> => {
      const denied = await record('DENIED', reason, 'refused', code);
      throw markAudited(new NotAllowedError(`access denied: ${reason} (request ${denied.id})`, { code }));
    };

    // Only an employee acts as the login of the same name; a service named like one does not.
    if (!o.teamPolicy.isEmployee(principal, username) && !o.teamPolicy.isAdmin(principal)) {
      return deny(
        principal.realm === 'employees'
          ? `${principal.uid} may request access only for itself, not for ${username}`
          : `service ${principal.uid} is not the employee ${username}; only employees and administrators request access`,
        'NOT_YOURSELF',
      );
    }
    const teams = (await o.teams.teamsOfMember(username)).map((t) => t.id);
    if (teams.length === 0) return deny(`${username} is not a member of any team`, 'NOT_IN_ANY_TEAM');
    const decision = o.policy.decide(body.hostname, username, teams);
    if (!decision.allowed) return deny(decision.reason, 'HOST_NOT_ALLOWED');
    const user = await o.users.getUser(username);
    if (user?.disabled) return deny(`user ${username} is disabled`, 'USER_DISABLED');
    const keys = await o.users.sshKeys(username);
    if (keys.length === 0) {
      const failed = await record('FAILED', `${username} has no SSH public key`, 'failure', 'NO_SSH_KEYS');
      throw new InputError(
        `${username} has no SSH public key: add one to the user service first (request ${failed.id})`,
        { code: 'NO_SSH_KEYS' },
      );
    }

    const requested = await record('REQUESTED', null, 'success');
    const command = grantCommand(username, { lifetimeMinutes, remoteHost: body.remote_host });
    let failure: string;
    try {
      const result = await o.bastion.run(decision.target, command);
      if (result.exitCode === 0) {
        const expiresAt = new Date(now.getTime() + lifetimeMinutes * 60_000);
        const granted = await o.store.write(async (tx) => {
          const moved = await tx.transition(requested.id, {
            from: ['REQUESTED'],
            to: 'GRANTED',
            reason: `granted for ${lifetimeMinutes} minutes (team ${decision.team})`,
            actor: principal.uid,
            now: o.clock(),
            expiresAt,
          });
          await this.#audit(tx, principal, 'even.access_request.grant', requested.id, requestId, 'success', {
            ...facts,
            team: decision.team,
            request_status: moved?.status ?? requested.status,
            expires_at: moved?.expires_at ?? null,
          });
          return moved;
        });
        return { request: granted ?? requested, message: grantedMessage(body.hostname, username) };
      }
      failure =
        firstLines(result.stderr || result.stdout) || `the forced command exited with ${result.exitCode}`;
    } catch (error) {
      if (!(error instanceof BastionError)) throw error;
      failure = error.message;
    }
    await o.store.write(async (tx) => {
      await tx.transition(requested.id, {
        from: ['REQUESTED'],
        to: 'FAILED',
        reason: failure,
        actor: principal.uid,
        now: o.clock(),
      });
      await this.#audit(tx, principal, 'even.access_request.grant', requested.id, requestId, 'failure', {
        ...facts,
        request_status: 'FAILED',
        status_reason: failure,
      });
    });
    throw new InputError(`granting access to host ${body.hostname} for user ${username} failed: ${failure}`, {
      code: 'GRANT_FAILED',
    });
  }

  /** Ends a grant before its time: the requester, the user or an administrator may. */
  async revoke(
    principal: Principal,
    id: number,
    requestId: string = internalRequestId('even'),
  ): Promise<AccessRequest> {
    const { o } = this;
    const current = await o.store.get(id);
    const creator = await o.store.creatorOf(id);
    if (!current || !creator)
      throw new NotFoundError(`access request ${id} does not exist`, { code: 'ACCESS_REQUEST_NOT_FOUND' });
    // Realm-aware: a service whose name equals the user's (or the requester's) is neither.
    const own =
      o.teamPolicy.isEmployee(principal, current.username) ||
      (principal.uid === creator.uid && principal.realm === (creator.realm ?? 'employees'));
    if (!own && !o.teamPolicy.isAdmin(principal)) {
      throw new NotAllowedError(`only ${current.username} or an administrator may revoke request ${id}`);
    }
    const now = o.clock();
    const revoked = await o.store.write(async (tx) => {
      const moved = await tx.transition(id, {
        from: ['GRANTED'],
        to: 'REVOKED',
        reason: `revoked by ${principal.uid}`,
        actor: principal.uid,
        now,
      });
      if (moved) {
        await this.#audit(tx, principal, 'even.access_request.revoke', id, requestId, 'success', {
          username: moved.username,
          hostname: moved.hostname,
          request_status: moved.status,
        });
      }
      return moved;
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
    await this.#recordBastionOutcome(revoked, principal, reason, outcome, requestId);
    return { ...revoked, status_reason: reason };
  }

  /** Marks grants that ran out as EXPIRED and revokes them on their bastions. */
  async expireDue(now: Date = this.o.clock()): Promise<ExpiryRun> {
    const { o } = this;
    const requestId = internalRequestId('even-expiry');
    const system = { uid: SYSTEM_ACTOR, realm: 'services' };
    const expired = await o.store.write(async (tx) => {
      const claimed = await tx.claimExpired(now, SYSTEM_ACTOR);
      for (const request of claimed) {
        await this.#audit(tx, system, 'even.access_request.expire', request.id, requestId, 'success', {
          username: request.username,
          hostname: request.hostname,
          expires_at: request.expires_at,
        });
      }
      return claimed;
    });
    const run: ExpiryRun = { expired, revoked: [], failures: [] };
    const done = new Set<string>();
    for (const request of expired) {
      const key = `${request.username}@${request.hostname}`;
      if (done.has(key)) {
        await this.#recordBastionOutcome(
          request,
          system,
          'the grant ran out; access revoked on the bastion',
          { revoked: false, text: 'already revoked for an earlier grant of this round' },
          requestId,
        );
        continue;
      }
      done.add(key);
      const outcome = await this.#revokeOnBastion(request, now);
      if (outcome.revoked) run.revoked.push(key);
      if (outcome.failure) run.failures.push(`${key}: ${outcome.failure}`);
      await this.#recordBastionOutcome(
        request,
        system,
        `the grant ran out; ${outcome.text}`,
        outcome,
        requestId,
      );
    }
    return run;
  }

  /** Notes on the request what the bastion said, with its audit event. */
  #recordBastionOutcome(
    request: AccessRequest,
    actor: { uid: string; realm: string },
    reason: string,
    outcome: { revoked: boolean; failure?: string; text: string },
    requestId: string,
  ): Promise<void> {
    return this.o.store.write(async (tx) => {
      await tx.setStatusReason(request.id, reason);
      await this.#audit(
        tx,
        actor,
        'even.access_request.revoke_on_bastion',
        request.id,
        requestId,
        outcome.failure ? 'failure' : 'success',
        { username: request.username, hostname: request.hostname, status_reason: reason },
      );
    });
  }

  #audit(
    tx: AccessRequestWriteTransaction,
    actor: { uid: string; realm: string },
    event: EvenEvent,
    id: number,
    requestId: string,
    outcome: 'success' | 'refused' | 'failure',
    details: Record<string, unknown>,
  ): Promise<void> {
    return this.o.audit(tx.executor, { event, actor, targetId: String(id), requestId, outcome, details });
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
