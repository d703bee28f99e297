import type { Kysely, Selectable } from 'kysely';
import { ConflictError, InputError, NotFoundError } from '../platform/errors.js';
import type { AuditActor } from '../platform/audit/create-audit.js';
import { SYSTEM_ACTOR, systemRequestId, type TokenServiceAudit } from './audit.js';
import {
  type GrantType,
  type OAuthClient,
  type OAuthClientChange,
  type OAuthClientInput,
  OAuthClientInputSchema,
} from './contract.js';
import { retirePrevious, rotateWithOverlap, SECRET_GENERATIONS } from './credential-generations.js';
import { OAuthError } from './oauth-error.js';
import type { GuessThrottle } from '../platform/auth/guess-throttle.js';
import { dummyPasswordHash } from '../platform/passwords.js';
import type { ClientCredentials } from './params.js';
import { digest, hashSecret, randomToken, validPrevious, verifySecret } from './secrets.js';
import type { ClientsTable, TokenServiceTables } from './tables.js';

type ClientRow = Selectable<ClientsTable>;

const SECRET_CACHE_SIZE = 1000;

/** OAuth clients: who may ask for tokens, by which grants, for which realms and redirect URIs. */
export class ClientStore {
  // Client secrets are random and long (mint makes them), so a digest of a secret already verified
  // may stand in for another scrypt run: the token endpoint's hot path. Keyed by client and digest,
  // the value is the hash it matched; an entry counts only while that hash is the current one or
  // a previous one still valid, so a retired or replaced secret is never let in from the cache.
  readonly #verified = new Map<string, string>();

  constructor(
    private readonly db: Kysely<TokenServiceTables>,
    private readonly audit: TokenServiceAudit,
    private readonly now: () => number,
    /** Failed authentications per client and source address: slows down secret guessing. */
    private readonly guesses: GuessThrottle,
  ) {}

  async getClient(clientId: string): Promise<OAuthClient | undefined> {
    const row = await this.#row(clientId);
    return row ? toClient(row) : undefined;
  }

  async listClients(): Promise<OAuthClient[]> {
    const rows = await this.db.selectFrom('token_clients').selectAll().orderBy('client_id').execute();
    return rows.map(toClient);
  }

  /**
   * Creates or replaces a client. A confidential client needs a secret when created; without
   * one on update the current secret stays.
   */
  async upsertClient(
    input: OAuthClientInput,
    actor: AuditActor = SYSTEM_ACTOR,
    requestId: string = systemRequestId(),
  ): Promise<OAuthClient> {
    const parsed = OAuthClientInputSchema.safeParse(input);
    if (!parsed.success) {
      throw new InputError('invalid OAuth client', { details: { errors: parsed.error.issues } });
    }
    const value = parsed.data;
    if (value.type === 'public' && value.secret !== undefined) {
      throw new InputError('a public client has no secret');
    }
    if (value.type === 'public' && value.grantTypes.includes('client_credentials')) {
      throw new InputError('client_credentials needs a confidential client');
    }
    const existing = await this.#row(value.clientId);
    let secretHash: string | null = null;
    if (value.type === 'confidential') {
      if (value.secret !== undefined) secretHash = await hashSecret(value.secret);
      else if (existing?.secret_hash) secretHash = existing.secret_hash;
      else throw new InputError('a confidential client needs a secret');
    }
    // A secret set by hand replaces every generation: no previous one stays valid.
    const row = {
      ...clientRow(value, secretHash, this.now()),
      ...(value.secret !== undefined || secretHash === null ? NO_PREVIOUS_SECRET : {}),
    };
    await this.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('token_clients')
        .values(row)
        .onConflict((oc) => oc.column('client_id').doUpdateSet(row))
        .execute();
      await this.audit(trx, {
        event: existing ? 'token-service.client.update' : 'token-service.client.create',
        actor,
        targetId: value.clientId,
        details: {
          type: value.type,
          realms: value.realms,
          grant_types: value.grantTypes,
          secret_changed: value.secret !== undefined,
          disabled: row.disabled,
          id_token_signed_response_alg: value.idTokenSignedResponseAlg,
        },
        requestId,
      });
    });
    this.#forget(value.clientId);
    const stored = await this.#row(value.clientId);
    return toClient(stored!);
  }

  /**
   * Creates a client; a confidential one gets a generated secret, returned here only (stored as a
   * hash, never shown again). An existing id is a conflict.
   */
  async createClient(
    input: Omit<OAuthClientInput, 'secret' | 'disabled'>,
    actor: AuditActor,
    requestId: string,
  ): Promise<{ client: OAuthClient; secret: string | undefined }> {
    const value = validClient(input);
    const secret = value.type === 'confidential' ? randomToken() : undefined;
    const row = clientRow(value, secret === undefined ? null : await hashSecret(secret), this.now());
    await this.db.transaction().execute(async (trx) => {
      const inserted = await trx
        .insertInto('token_clients')
        .values(row)
        .onConflict((oc) => oc.column('client_id').doNothing())
        .executeTakeFirst();
      if (Number(inserted.numInsertedOrUpdatedRows ?? 0n) === 0) {
        throw new ConflictError(`client ${value.clientId} already exists`, { code: 'EXISTS' });
      }
      await this.audit(trx, {
        event: 'token-service.client.create',
        actor,
        targetId: value.clientId,
        details: clientDetails(value),
        requestId,
      });
    });
    return { client: toClient(row), secret };
  }

  /** Changes what `change` names (the type and the secret stay); a disabled client is refused at once. */
  async updateClient(
    clientId: string,
    change: OAuthClientChange,
    actor: AuditActor,
    requestId: string,
  ): Promise<OAuthClient> {
    const client = await this.db.transaction().execute(async (trx) => {
      const existing = await trx
        .selectFrom('token_clients')
        .selectAll()
        .where('client_id', '=', clientId)
        .forUpdate()
        .executeTakeFirst();
      if (!existing) throw new NotFoundError(`client ${clientId} does not exist`);
      const current = toClient(existing);
      const value = validClient({
        clientId,
        name: change.name ?? current.name,
        type: current.type,
        realms: change.realms ?? current.realms,
        grantTypes: change.grantTypes ?? current.grantTypes,
        redirectUris: change.redirectUris ?? current.redirectUris,
        scopes: change.scopes !== undefined ? change.scopes : current.scopes,
        disabled: change.disabled ?? current.disabled,
        idTokenSignedResponseAlg: change.idTokenSignedResponseAlg ?? current.idTokenSignedResponseAlg,
      });
      const row = clientRow(value, existing.secret_hash, this.now());
      await trx.updateTable('token_clients').set(row).where('client_id', '=', clientId).execute();
      await this.audit(trx, {
        event: change.disabled === true ? 'token-service.client.disable' : 'token-service.client.update',
        actor,
        targetId: clientId,
        details: { ...clientDetails(value), changed: Object.keys(change).sort() },
        requestId,
      });
      return toClient(row);
    });
    this.#forget(clientId);
    return client;
  }

  /** A new generated secret for a confidential client, returned here only; the old (and any previous) one stops working. */
  async rotateSecret(
    clientId: string,
    actor: AuditActor,
    requestId: string,
  ): Promise<{ client: OAuthClient; secret: string }> {
    const secret = randomToken();
    const secretHash = await hashSecret(secret);
    const client = await this.db.transaction().execute(async (trx) => {
      const existing = await trx
        .selectFrom('token_clients')
        .selectAll()
        .where('client_id', '=', clientId)
        .forUpdate()
        .executeTakeFirst();
      if (!existing) throw new NotFoundError(`client ${clientId} does not exist`);
      if (existing.secret_hash === null)
        throw new InputError(`client ${clientId} is public: it has no secret`);
      const updated = { ...existing, secret_hash: secretHash, updated_at: new Date(this.now()) };
      await trx
        .updateTable('token_clients')
        .set({ secret_hash: secretHash, updated_at: updated.updated_at, ...NO_PREVIOUS_SECRET })
        .where('client_id', '=', clientId)
        .execute();
      await this.audit(trx, { event: 'token-service.client.rotate', actor, targetId: clientId, requestId });
      return toClient(updated);
    });
    this.#forget(clientId);
    return { client, secret };
  }

  /**
   * Rotation with overlap (mint): `secret` becomes the current secret and the current one stays
   * valid beside it as the previous generation, until `keepPreviousUntil` or, when null, until
   * `retirePreviousSecret`. When a previous generation is still held without an end (a rotation
   * never finished), only the current secret is replaced: the previous one is what consumers hold.
   */
  async rotateSecretWithOverlap(
    clientId: string,
    secret: string,
    keepPreviousUntil: Date | null,
    actor: AuditActor = SYSTEM_ACTOR,
    requestId: string = systemRequestId(),
  ): Promise<void> {
    if (!OAuthClientInputSchema.shape.secret.safeParse(secret).success) {
      throw new InputError('a client secret needs at least 16 characters');
    }
    const secretHash = await hashSecret(secret);
    await this.db.transaction().execute(async (trx) => {
      const outcome = await rotateWithOverlap(
        trx,
        SECRET_GENERATIONS,
        clientId,
        secretHash,
        keepPreviousUntil,
        new Date(this.now()),
      );
      if (outcome.kind === 'missing') throw new NotFoundError(`client ${clientId} does not exist`);
      if (outcome.kind === 'noCurrent')
        throw new InputError(`client ${clientId} is public: it has no secret`);
      await this.audit(trx, {
        event: 'token-service.client.rotate',
        actor,
        targetId: clientId,
        details: outcome.details,
        requestId,
      });
    });
    this.#forget(clientId);
  }

  /**
   * Ends the overlap: the previous secret stays valid until `at` (at once when `at` is not in the
   * future). Nothing to do without a previous generation.
   */
  async retirePreviousSecret(
    clientId: string,
    at: Date,
    actor: AuditActor = SYSTEM_ACTOR,
    requestId: string = systemRequestId(),
  ): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      if (!(await retirePrevious(trx, SECRET_GENERATIONS, clientId, at, this.now()))) return;
      await this.audit(trx, {
        event: 'token-service.client.retire_previous',
        actor,
        targetId: clientId,
        details: { previous_valid_until: at.toISOString() },
        requestId,
      });
    });
    this.#forget(clientId);
  }

  /** Deletes a client: it can no longer authenticate; tokens already issued to it run out. */
  async deleteClient(clientId: string, actor: AuditActor, requestId: string): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      const result = await trx
        .deleteFrom('token_clients')
        .where('client_id', '=', clientId)
        .executeTakeFirst();
      if (result.numDeletedRows === 0n) throw new NotFoundError(`client ${clientId} does not exist`);
      await this.audit(trx, { event: 'token-service.client.delete', actor, targetId: clientId, requestId });
    });
    this.#forget(clientId);
  }

  /**
   * Creates a built-in client on first start; an existing one keeps every change operators made,
   * and only gains the redirect URIs the configuration requires now (the console's own URL moves
   * with `--base-port`). Two replicas starting on a fresh database may both create it, identically.
   */
  async seedBuiltIn(input: OAuthClientInput): Promise<'created' | 'kept' | 'extended'> {
    const existing = await this.#row(input.clientId);
    if (!existing) {
      await this.upsertClient(input, SYSTEM_ACTOR);
      return 'created';
    }
    const stored = jsonList(existing.redirect_uris);
    const added = (input.redirectUris ?? []).filter((uri) => !stored.includes(uri));
    if (added.length === 0) return 'kept';
    await this.db.transaction().execute(async (trx) => {
      await trx
        .updateTable('token_clients')
        .set({ redirect_uris: JSON.stringify([...stored, ...added]), updated_at: new Date(this.now()) })
        .where('client_id', '=', input.clientId)
        .execute();
      await this.audit(trx, {
        event: 'token-service.client.update',
        actor: SYSTEM_ACTOR,
        targetId: input.clientId,
        details: { redirect_uris_added: added },
        requestId: systemRequestId(),
      });
    });
    return 'extended';
  }

  /**
   * RFC 6749 §2.3: confidential clients prove their secret, public clients only name themselves.
   * Every failure is the same `invalid_client` in text and in time (a presented secret is always
   * run through scrypt, against a dummy hash when there is nothing to compare it with), so the
   * answer does not tell unknown clients from wrong secrets. The reason is kept for the audit trail.
   */
  async authenticate(credentials: ClientCredentials, source: string): Promise<OAuthClient> {
    const { clientId, secret } = credentials;
    const presented = secret !== undefined && secret !== '';
    // The form-decoded secret first, then the literal one of clients that do not form-encode.
    const candidates = presented
      ? [secret, ...(credentials.literalSecret ? [credentials.literalSecret] : [])]
      : [];
    // Every failure costs two scrypt runs per candidate, as a wrong secret does (current, then the
    // previous generation or a dummy), whatever the client and its generations are.
    const fail = async (reason: string, hashed = false): Promise<never> => {
      if (!hashed)
        for (const candidate of candidates) {
          await verifySecret(candidate, await dummyPasswordHash());
          await verifySecret(candidate, await dummyPasswordHash());
        }
      if (presented) await this.guesses.recordFailure(clientId, source);
      throw new OAuthError('invalid_client', 'client authentication failed', {
        headers: credentials.basic ? { 'www-authenticate': 'Basic realm="stups"' } : {},
        detail: reason,
      });
    };
    if (presented && (await this.guesses.retryAfter(clientId, source)) > 0) {
      return fail('too many failed client authentications from this source');
    }
    const row = await this.#row(clientId);
    if (!row || row.disabled) return fail(row ? 'disabled client' : 'unknown client');
    if (row.secret_hash === null) {
      if (presented) return fail('a public client must not send a secret');
      return toClient(row);
    }
    if (!presented) return fail('the client secret is missing');
    const current = row.secret_hash;
    const previous = validPrevious(row.previous_secret_hash, row.previous_secret_valid_until, this.now());
    const accepted = (hash: string | undefined) =>
      hash !== undefined && (hash === current || hash === previous);
    const dummy = await dummyPasswordHash();
    for (const candidate of candidates) {
      const key = `${clientId}\n${digest(candidate)}`;
      let matched = this.#verified.get(key);
      if (!accepted(matched)) {
        matched = undefined;
        if (await verifySecret(candidate, current)) matched = current;
        else if ((await verifySecret(candidate, previous ?? dummy)) && previous !== undefined)
          matched = previous;
      }
      if (matched !== undefined) {
        await this.guesses.recordSuccess(clientId, source);
        if (this.#verified.size >= SECRET_CACHE_SIZE) this.#verified.clear();
        this.#verified.set(key, matched);
        return toClient(row);
      }
    }
    return fail('wrong client secret', true);
  }

  /** Drops the cached verifications of a client whose secrets changed. */
  #forget(clientId: string): void {
    const prefix = `${clientId}\n`;
    for (const key of this.#verified.keys()) if (key.startsWith(prefix)) this.#verified.delete(key);
  }

  #row(clientId: string): Promise<ClientRow | undefined> {
    return this.db
      .selectFrom('token_clients')
      .selectAll()
      .where('client_id', '=', clientId)
      .executeTakeFirst();
  }
}

const NO_PREVIOUS_SECRET = { previous_secret_hash: null, previous_secret_valid_until: null };

type ValidClient = ReturnType<typeof OAuthClientInputSchema.parse>;

/** The schema plus the rules across fields; every violation is a 400. */
function validClient(input: OAuthClientInput): ValidClient {
  const parsed = OAuthClientInputSchema.safeParse(input);
  if (!parsed.success) {
    throw new InputError('invalid OAuth client', { details: { errors: parsed.error.issues } });
  }
  const value = parsed.data;
  if (value.type === 'public' && value.grantTypes.includes('client_credentials')) {
    throw new InputError('client_credentials needs a confidential client');
  }
  return value;
}

function clientRow(value: ValidClient, secretHash: string | null, now: number) {
  return {
    client_id: value.clientId,
    name: value.name ?? value.clientId,
    secret_hash: secretHash,
    realms: JSON.stringify([...new Set(value.realms)]),
    grant_types: JSON.stringify([...new Set(value.grantTypes)]),
    redirect_uris: JSON.stringify(value.redirectUris),
    scopes: value.scopes === null ? null : JSON.stringify(value.scopes),
    disabled: value.disabled ?? false,
    id_token_signed_response_alg: value.idTokenSignedResponseAlg,
    updated_at: new Date(now),
  };
}

/** What the audit trail keeps of a client: everything but its secret. */
function clientDetails(value: ValidClient): Record<string, unknown> {
  return {
    type: value.type,
    realms: value.realms,
    grant_types: value.grantTypes,
    redirect_uris: value.redirectUris,
    scopes: value.scopes,
    disabled: value.disabled ?? false,
    id_token_signed_response_alg: value.idTokenSignedResponseAlg,
  };
}

function toClient(
  row: Pick<
    ClientRow,
    | 'client_id'
    | 'name'
    | 'secret_hash'
    | 'realms'
    | 'grant_types'
    | 'redirect_uris'
    | 'scopes'
    | 'disabled'
    | 'id_token_signed_response_alg'
  >,
): OAuthClient {
  return {
    clientId: row.client_id,
    name: row.name,
    type: row.secret_hash === null ? 'public' : 'confidential',
    realms: jsonList(row.realms) as OAuthClient['realms'],
    grantTypes: jsonList(row.grant_types) as GrantType[],
    redirectUris: jsonList(row.redirect_uris),
    scopes: row.scopes === null ? null : jsonList(row.scopes),
    disabled: row.disabled,
    idTokenSignedResponseAlg: row.id_token_signed_response_alg === 'ES256' ? 'ES256' : 'RS256',
  };
}

/** jsonb comes back parsed from both drivers; a string means a driver handed out raw JSON. */
export function jsonList(value: unknown): string[] {
  const parsed: unknown = typeof value === 'string' ? JSON.parse(value) : value;
  return Array.isArray(parsed) ? parsed.filter((v): v is string => typeof v === 'string') : [];
}
