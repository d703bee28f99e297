import { randomBytes } from 'node:crypto';
import type { Audit, AuditActor } from '../platform/audit/create-audit.js';
import { internalRequestId } from '../platform/audit/create-audit.js';
import { NotFoundError } from '../platform/errors.js';
import type { Logger } from '../platform/logger.js';
import type { ApplicationDirectory, ApplicationSummary } from '../kio/contract.js';
import type { ScopeCatalog } from '../essentials/contract.js';
import type { OAuthClientInput } from '../token-service/contract.js';
import type { TokenService } from '../token-service/token-service.js';
import { type BucketStore, BucketWriteError } from './buckets.js';
import { type ClientFile, PROBE_BODY, PROBE_FILE, type UserFile } from './contract.js';
import type { MintEvent } from './events.js';
import type { SecretSealer } from './sealing.js';
import type { MintAppRow, MintStatusValues, MintStore } from './store.js';

/** What the worker needs of the token service: service users, clients and overlapping rotation. */
export type MintCredentialIssuer = Pick<
  TokenService,
  | 'getServiceUser'
  | 'upsertServiceUser'
  | 'getClient'
  | 'upsertClient'
  | 'rotateServiceUserPassword'
  | 'retirePreviousServiceUserPassword'
  | 'rotateClientSecret'
  | 'retirePreviousClientSecret'
> & {
  serviceUserStore: Pick<TokenService['serviceUserStore'], 'deleteServiceUser'>;
  clientStore: Pick<TokenService['clientStore'], 'deleteClient'>;
};

export interface RotationSettings {
  passwordRotationSeconds: number;
  clientRotationSeconds: number;
  retirementGraceSeconds: number;
  maxS3Errors: number;
  /** Applications synced at once (each costs a few scrypt runs in the token service). */
  concurrency: number;
}

/** What one run of the worker did; the bench and the tests read it. */
export interface RotationReport {
  checked: number;
  passwordRotations: number;
  clientRotations: number;
  failed: number;
  paused: number;
  removed: number;
  /** Applications due whose rotation waits until the previous generation's grace has ended. */
  deferred: number;
  /** Per rotation: when the new generation was in every bucket, and until when the old one stays valid. */
  overlaps: Array<{
    app: string;
    kind: 'password' | 'client';
    distributedAt: number;
    previousValidUntil: number;
  }>;
}

/** Which credentials one rotation renews. */
interface RotationPlan {
  password: boolean;
  client: boolean;
}

/** The worker acts as mint itself in the audit log and the token service's. */
export const WORKER_ACTOR: AuditActor = { uid: 'mint', realm: 'services' };

/** Why a rotation could not be finished; the message is shown as the app's `message` (no secrets). */
class RotationError extends Error {}

/**
 * The mint worker: per application with a mint configuration, a service user and an OAuth client
 * in the token service, rotated with overlap and written to every bucket. Run by the job
 * `mint.rotation`; the clock is injectable so tests move time instead of sleeping.
 */
export class MintWorker {
  constructor(
    private readonly store: MintStore,
    private readonly deps: {
      applications: ApplicationDirectory;
      scopes: ScopeCatalog;
      credentials: MintCredentialIssuer;
      buckets: BucketStore;
      audit: Audit<MintEvent>;
      logger: Logger;
      /** The token endpoint new credentials are proven against, with a real password grant. */
      tokenEndpoint: string;
      settings: RotationSettings;
      sealer: SecretSealer;
      now?: () => number;
    },
  ) {}

  #now(): number {
    return this.deps.now ? this.deps.now() : Date.now();
  }

  /** One run: every configured application, a few at a time. */
  async rotateDue(): Promise<RotationReport> {
    const report: RotationReport = {
      checked: 0,
      passwordRotations: 0,
      clientRotations: 0,
      failed: 0,
      paused: 0,
      removed: 0,
      deferred: 0,
      overlaps: [],
    };
    const queue = await this.store.list();
    const lanes = Array.from({ length: Math.max(1, this.deps.settings.concurrency) }, async () => {
      for (let app = queue.shift(); app; app = queue.shift()) await this.#syncApp(app, report);
    });
    await Promise.all(lanes);
    return report;
  }

  async #syncApp(listed: MintAppRow, report: RotationReport): Promise<void> {
    report.checked++;
    const now = this.#now();
    const application = await this.deps.applications.getApplication(listed.id);
    if (
      !listed.renewal_requested &&
      listed.s3_errors >= this.deps.settings.maxS3Errors &&
      application?.active
    ) {
      report.paused++;
      return;
    }
    if (application?.active && !this.#ready(listed, now, report)) return;
    // One replica per application: the claim outlives any sync (each step has its own timeouts).
    if (!(await this.store.claim(listed.id, new Date(now), new Date(now + 10 * 60_000)))) return;
    try {
      const app = await this.store.get(listed.id);
      if (!app) return;
      if (!application?.active) {
        await this.#remove(app, application);
        report.removed++;
        return;
      }
      const plan = this.#plan(app, now);
      if (!plan) return; // another replica finished it meanwhile, or it has to wait
      await this.#rotate(app, application, now, report, plan);
    } finally {
      await this.store.release(listed.id);
    }
  }

  /** Whether the application is due and may rotate now (counted as deferred when it must wait). */
  #ready(app: MintAppRow, now: number, report: RotationReport): boolean {
    if (this.#plan(app, now)) return true;
    const wanted = this.#wanted(app, now);
    if (wanted.password || wanted.client) report.deferred++;
    return false;
  }

  /**
   * What the application needs rotated now, or undefined when nothing is due or what is due must
   * wait. The token service keeps one previous generation beside the current one, so a rotation
   * of a credential whose previous generation is still in its grace would cut that generation off
   * while consumers may still hold it (berry not yet run, files not yet re-read). Such a rotation
   * is queued until the grace has ended instead of keeping every generation: at most two stay
   * valid, and a refused password still costs exactly two hash comparisons whatever its history.
   */
  #plan(app: MintAppRow, now: number): RotationPlan | undefined {
    const wanted = this.#wanted(app, now);
    if (!wanted.password && !wanted.client) return undefined;
    const inGrace = (until: Date | null) => until !== null && until.getTime() > now;
    if (wanted.password && inGrace(app.password_previous_valid_until)) return undefined;
    if (wanted.client && inGrace(app.client_previous_valid_until)) return undefined;
    return wanted;
  }

  #wanted(app: MintAppRow, now: number): RotationPlan {
    const { passwordRotationSeconds, clientRotationSeconds } = this.deps.settings;
    // A renewal recorded without kinds (from before they existed) means both, as it did in STUPS.
    const unnamed = !app.renewal_password && !app.renewal_client;
    const renewPassword = app.renewal_requested && (unnamed || app.renewal_password);
    const renewClient = app.renewal_requested && (unnamed || app.renewal_client);
    // A new or changed configuration goes to every bucket, new ones included, and mint never
    // keeps passwords: a full sync makes a new password.
    const sync =
      app.last_synced === null ||
      app.last_modified > app.last_synced ||
      !app.password_distributed ||
      !app.client_distributed;
    const client =
      app.is_client_confidential &&
      (renewClient || olderThan(app.last_client_rotation, clientRotationSeconds, now));
    const password =
      sync ||
      renewPassword ||
      olderThan(app.last_password_rotation, passwordRotationSeconds, now) ||
      // A client renewal of a client that became public: the renewal still means "rotate now".
      (app.renewal_requested && !client);
    return { password, client };
  }

  /** The application left Kio or is inactive: its credentials go, and so does its configuration. */
  async #remove(app: MintAppRow, application: ApplicationSummary | undefined): Promise<void> {
    await removeCredentials(this.deps.credentials, app, WORKER_ACTOR);
    const requestId = internalRequestId('mint');
    await this.store.write(async (trx) => {
      await this.store.delete(trx, app.id);
      await this.deps.audit(trx, {
        event: 'mint.app.remove',
        actor: WORKER_ACTOR,
        targetId: app.id,
        details: {
          reason: application ? 'inactive in Kio' : 'not in Kio',
          username: app.username,
          client_id: app.client_id,
          s3_buckets: app.s3_buckets,
          scopes: app.scopes.map((s) => `${s.resource_type_id}.${s.scope_id}`),
        },
        requestId,
      });
    });
    this.deps.logger.info(
      { app: app.id },
      'mint: removed the credentials of an application no longer active in Kio',
    );
  }

  async #rotate(
    app: MintAppRow,
    application: ApplicationSummary,
    now: number,
    report: RotationReport,
    plan: RotationPlan,
  ): Promise<void> {
    const requestId = internalRequestId('mint');
    const { credentials, buckets } = this.deps;
    const settings = this.deps.settings;
    let step = 'probe';
    try {
      // 1. Every bucket must take a write before anything changes.
      for (const bucket of app.s3_buckets) await buckets.put(bucket, `${app.id}/${PROBE_FILE}`, PROBE_BODY);

      // 2. Service user and client as configured (scopes split as essentials defines them).
      step = 'sync';
      const { applicationScopes, ownerScopes } = await this.#splitScopes(app);
      const user = await credentials.getServiceUser(app.username);
      const client = await credentials.getClient(app.client_id);
      const confidential = app.is_client_confidential;
      const known = confidential ? this.deps.sealer.unseal(app.client_secret_sealed) : undefined;
      const clientChangesType = client !== undefined && (client.type === 'confidential') !== confidential;
      const newClient = !client || clientChangesType || !app.client_distributed;
      // The password when due (or when the service user is gone); the client secret when due, or
      // when mint lost it. A rotation of the client secret alone leaves user.json as it is.
      const rotatePassword = plan.password || user === undefined;
      const rotateClient = newClient || (confidential && (known === undefined || plan.client));

      const password = rotatePassword ? generate() : undefined;
      const secret = rotateClient && confidential ? generate() : undefined;
      const clientSecret = confidential ? (secret ?? known) : undefined;
      const userInput = {
        username: app.username,
        scopes: applicationScopes,
        applicationId: app.id,
        teamId: application.team_id,
      };
      // A user nobody holds a password of gets it replaced outright; otherwise the new one overlaps.
      const overlapPassword = password !== undefined && user !== undefined && app.password_distributed;
      await credentials.upsertServiceUser(
        { ...userInput, ...(overlapPassword || password === undefined ? {} : { password }) },
        WORKER_ACTOR,
      );
      if (overlapPassword)
        await credentials.rotateServiceUserPassword(app.username, password, null, WORKER_ACTOR);
      const overlapSecret = secret !== undefined && !newClient;
      await credentials.upsertClient(
        clientInput(
          app,
          confidential,
          [...new Set(['uid', ...applicationScopes, ...ownerScopes])],
          overlapSecret ? undefined : secret,
        ),
        WORKER_ACTOR,
      );
      if (overlapSecret) await credentials.rotateClientSecret(app.client_id, secret, null, WORKER_ACTOR);

      // 3. The new generation to every bucket.
      step = 'write';
      const clientFile: ClientFile = { client_id: app.client_id, client_secret: clientSecret ?? null };
      for (const bucket of app.s3_buckets) {
        if (password !== undefined) {
          const userFile: UserFile = { application_username: app.username, application_password: password };
          await buckets.put(bucket, `${app.id}/user.json`, JSON.stringify(userFile));
        }
        await buckets.put(bucket, `${app.id}/client.json`, JSON.stringify(clientFile));
      }
      const distributedAt = this.#now();

      // 4. Proof: a real grant with exactly what the buckets now hold (the password grant; for a
      // new client secret alone, whose password mint does not know, client credentials).
      step = 'prove';
      await this.#grant(app, password, clientSecret);

      // 5. Only now the previous generation is retired, after the grace.
      step = 'retire';
      const retireAt = new Date(this.#now() + settings.retirementGraceSeconds * 1000);
      if (overlapPassword) {
        await credentials.retirePreviousServiceUserPassword(app.username, retireAt, WORKER_ACTOR);
        report.overlaps.push({
          app: app.id,
          kind: 'password',
          distributedAt,
          previousValidUntil: retireAt.getTime(),
        });
      }
      if (overlapSecret) {
        await credentials.retirePreviousClientSecret(app.client_id, retireAt, WORKER_ACTOR);
        report.overlaps.push({
          app: app.id,
          kind: 'client',
          distributedAt,
          previousValidUntil: retireAt.getTime(),
        });
      }

      const at = new Date(now);
      const status: MintStatusValues = {
        last_synced: at,
        has_problems: false,
        message: '',
        s3_errors: 0,
        // Only the renewal this run answered: one requested while it ran must still rotate next cycle.
        ...(app.renewal_requested
          ? { renewal_requested: false, renewal_password: false, renewal_client: false }
          : {}),
        client_distributed: true,
        client_secret_sealed: clientSecret === undefined ? null : this.deps.sealer.seal(clientSecret),
        ...(password !== undefined
          ? {
              password_distributed: true,
              last_password_rotation: at,
              password_previous_valid_until: overlapPassword ? retireAt : null,
            }
          : {}),
        ...(rotateClient
          ? { last_client_rotation: at, client_previous_valid_until: overlapSecret ? retireAt : null }
          : {}),
      };
      await this.store.write(async (trx) => {
        await this.store.setStatus(trx, app.id, status);
        await this.deps.audit(trx, {
          event: 'mint.app.rotate',
          actor: WORKER_ACTOR,
          targetId: app.id,
          details: {
            password: password !== undefined,
            client: rotateClient,
            client_type: confidential ? 'confidential' : 'public',
            s3_buckets: app.s3_buckets,
            distributed_at: new Date(distributedAt).toISOString(),
            previous_valid_until: overlapPassword || overlapSecret ? retireAt.toISOString() : null,
          },
          requestId,
        });
      });
      if (password !== undefined) report.passwordRotations++;
      if (rotateClient) report.clientRotations++;
    } catch (error) {
      report.failed++;
      await this.#recordFailure(app, step, error, requestId);
    }
  }

  async #recordFailure(app: MintAppRow, step: string, error: unknown, requestId: string): Promise<void> {
    const storage = error instanceof BucketWriteError;
    const message = error instanceof Error ? error.message : String(error);
    const s3Errors = storage ? app.s3_errors + 1 : app.s3_errors;
    const paused = s3Errors >= this.deps.settings.maxS3Errors;
    this.deps.logger.warn({ app: app.id, step, s3_errors: s3Errors, paused }, `mint: ${message}`);
    await this.store.write(async (trx) => {
      await this.store.setStatus(trx, app.id, {
        has_problems: true,
        message: paused
          ? `${message} (paused after ${s3Errors} bucket errors: POST /apps/${app.id}/renewal resumes)`
          : message,
        s3_errors: s3Errors,
      });
      await this.deps.audit(trx, {
        event: 'mint.app.rotate',
        actor: WORKER_ACTOR,
        targetId: app.id,
        outcome: 'failure',
        details: { step, reason: message, s3_errors: s3Errors, paused },
        requestId,
      });
    });
  }

  async #splitScopes(app: MintAppRow): Promise<{ applicationScopes: string[]; ownerScopes: string[] }> {
    const applicationScopes: string[] = [];
    const ownerScopes: string[] = [];
    for (const ref of app.scopes) {
      const name = `${ref.resource_type_id}.${ref.scope_id}`;
      const scope = await this.deps.scopes.getScope(name);
      if (!scope) throw new RotationError(`scope ${name} no longer exists in essentials`);
      (scope.is_resource_owner_scope ? ownerScopes : applicationScopes).push(name);
    }
    return { applicationScopes, ownerScopes };
  }

  async #grant(app: MintAppRow, password: string | undefined, secret: string | undefined): Promise<void> {
    const form = new URLSearchParams(
      password === undefined
        ? { grant_type: 'client_credentials', scope: 'uid' }
        : { grant_type: 'password', username: app.username, password, scope: 'uid' },
    );
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
    if (secret !== undefined) {
      headers.authorization = `Basic ${Buffer.from(`${encodeURIComponent(app.client_id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
    } else {
      form.set('client_id', app.client_id);
    }
    const url = new URL(this.deps.tokenEndpoint);
    url.searchParams.set('realm', '/services');
    let response: Response;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers,
        body: form,
        signal: AbortSignal.timeout(30_000),
      });
    } catch (error) {
      throw new RotationError(
        `the token endpoint ${url.origin} could not be reached: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    if (response.status !== 200) {
      const body = await response.text().catch(() => '');
      const code = /"error"\s*:\s*"([^"]+)"/.exec(body)?.[1] ?? 'no error code';
      throw new RotationError(`the token endpoint refused the new credentials: ${response.status} ${code}`);
    }
    await response.body?.cancel();
  }
}

/** Removes the service user and the client; either may be gone already. */
export async function removeCredentials(
  credentials: MintCredentialIssuer,
  app: { username: string; client_id: string },
  actor: AuditActor,
): Promise<void> {
  const requestId = internalRequestId('mint');
  await ignoreNotFound(credentials.serviceUserStore.deleteServiceUser(app.username, actor, requestId));
  await ignoreNotFound(credentials.clientStore.deleteClient(app.client_id, actor, requestId));
}

async function ignoreNotFound(work: Promise<void>): Promise<void> {
  try {
    await work;
  } catch (error) {
    if (!(error instanceof NotFoundError)) throw error;
  }
}

function clientInput(
  app: MintAppRow,
  confidential: boolean,
  scopes: string[],
  secret: string | undefined,
): OAuthClientInput {
  const redirect = app.redirect_url === null ? [] : [app.redirect_url];
  // The service user's password grant always; with a redirect URL, employees log in through the
  // application (authorization code) and grant it resource-owner scopes.
  const grantTypes: OAuthClientInput['grantTypes'] = ['password'];
  if (confidential) grantTypes.push('client_credentials');
  if (redirect.length > 0) grantTypes.push('authorization_code', 'refresh_token');
  return {
    clientId: app.client_id,
    name: app.id,
    type: confidential ? 'confidential' : 'public',
    ...(secret !== undefined ? { secret } : {}),
    realms: redirect.length > 0 ? ['services', 'employees'] : ['services'],
    grantTypes,
    redirectUris: redirect,
    scopes,
  };
}

function olderThan(at: Date | null, seconds: number, now: number): boolean {
  return at === null || now - at.getTime() >= seconds * 1000;
}

/** 256 random bits, URL-safe: what consumers put into Basic auth and form bodies unchanged. */
function generate(): string {
  return randomBytes(32).toString('base64url');
}
