import { createPrivateKey, hkdfSync, type JsonWebKey } from 'node:crypto';
import {
  CompactEncrypt,
  type CryptoKey,
  calculateJwkThumbprint,
  compactDecrypt,
  exportJWK,
  generateKeyPair,
  importJWK,
  type JWK,
  type JWTVerifyGetKey,
  errors as joseErrors,
} from 'jose';
import { type Kysely, sql } from 'kysely';
import { purgeDetails } from '../platform/audit/create-audit.js';
import type { Logger } from '../platform/logger.js';
import { SYSTEM_ACTOR, systemRequestId, type TokenServiceAudit } from './audit.js';
import type { ResolvedTokenServiceConfig, SigningAlgorithm } from './config.js';
import { ID_TOKEN_SIGNING_ALGORITHMS } from './contract.js';
import type { SigningKeysTable, TokenServiceTables } from './tables.js';

/** How long the in-memory key list is trusted before it is read again (other replicas rotate too). */
const RELOAD_AFTER_MS = 60_000;
/** An unknown `kid` triggers a reload at most this often, so forged tokens cannot flood the database. */
const UNKNOWN_KID_RELOAD_MS = 1_000;
/** Public keys outlive the last token they signed by this much, for clock skew between services. */
const PUBLISH_GRACE_MS = 5 * 60_000;

interface LoadedKey {
  kid: string;
  alg: SigningAlgorithm;
  publicJwk: JWK;
  publicKey: CryptoKey;
  createdAt: Date;
  /** When its successor starts signing (may lie ahead: the successor is pre-published first). */
  retiredAt: Date | null;
  privateJwk: string;
}

export interface SigningKey {
  kid: string;
  alg: SigningAlgorithm;
  privateKey: CryptoKey;
}

/**
 * Signing keys in the database, one current key per algorithm: the access-token algorithm and
 * the ID-token algorithms clients may choose (RS256, which OIDC requires, and ES256). Once the
 * newest key of an algorithm is older than the rotation age a successor is created, published
 * in the JWKS at once, and signs only after `prePublicationMs` (the JWKS cache lifetime plus one
 * reload of every replica's key list), so no verifier holding a cached JWKS meets an unknown
 * `kid`. Older public keys stay published until every token they signed expired. Private keys
 * are encrypted at rest when a key encryption secret is configured.
 */
export class KeyStore {
  #keys: LoadedKey[] = [];
  #loadedAt = Number.NEGATIVE_INFINITY;
  #loading: Promise<void> | undefined;
  readonly #signing = new Map<string, SigningKey>();
  readonly #encryptionKey: Uint8Array | undefined;
  readonly #algorithms: readonly SigningAlgorithm[];

  constructor(
    private readonly db: Kysely<TokenServiceTables>,
    private readonly config: ResolvedTokenServiceConfig,
    private readonly audit: TokenServiceAudit,
    private readonly now: () => number,
    private readonly logger: Logger,
  ) {
    this.#encryptionKey = config.keyEncryptionSecret
      ? new Uint8Array(
          hkdfSync(
            'sha256',
            config.keyEncryptionSecret,
            'stups-token-service',
            'signing-key-encryption v1',
            32,
          ),
        )
      : undefined;
    this.#algorithms = [...new Set([config.signingAlgorithm, ...ID_TOKEN_SIGNING_ALGORITHMS])];
  }

  get encryptsAtRest(): boolean {
    return this.#encryptionKey !== undefined;
  }

  /** Algorithms that have a signing key. */
  get algorithms(): readonly SigningAlgorithm[] {
    return this.#algorithms;
  }

  /**
   * How long a new key is published before it signs: the JWKS cache lifetime plus the time
   * another replica may serve a JWKS read before the key existed.
   */
  get prePublicationMs(): number {
    return this.config.jwksCacheSeconds * 1000 + RELOAD_AFTER_MS;
  }

  /**
   * The key to sign with now (default: the access-token algorithm); creates the first key of an
   * algorithm, or a successor when the newest one is due.
   */
  async signingKey(alg: SigningAlgorithm = this.config.signingAlgorithm): Promise<SigningKey> {
    if (!this.#algorithms.includes(alg)) throw new Error(`no signing keys are kept for ${alg}`);
    await this.#loadIfStale();
    const newest = this.#keys.find((k) => k.alg === alg);
    if (!newest || this.#isDue(newest)) await this.rotateIfDue();
    const current = this.#currentKey(alg);
    if (!current) throw new Error(`no ${alg} signing key after rotation`);
    let signing = this.#signing.get(alg);
    if (signing?.kid !== current.kid) {
      const jwk = await this.#decryptPrivate(current.privateJwk);
      signing = { kid: current.kid, alg, privateKey: (await importJWK(jwk, alg)) as CryptoKey };
      this.#signing.set(alg, signing);
    }
    return signing;
  }

  /**
   * Creates a key for every algorithm that has none or whose newest key is older than the
   * rotation age. Replicas serialize on an advisory lock, so a rotation creates exactly one key
   * per algorithm. The key it replaces keeps signing until the new one is pre-published.
   * Returns the kids of the new keys.
   */
  async rotateIfDue(): Promise<string[]> {
    const created = await this.db.transaction().execute(async (trx) => {
      await sql`select pg_advisory_xact_lock(hashtext('token_signing_keys'))`.execute(trx);
      const kids: string[] = [];
      const due: { alg: SigningAlgorithm; newest: { kid: string } | undefined }[] = [];
      for (const alg of this.#algorithms) {
        const newest = await trx
          .selectFrom('token_signing_keys')
          .select(['kid', 'created_at'])
          .where('alg', '=', alg)
          .orderBy('created_at', 'desc')
          .limit(1)
          .executeTakeFirst();
        if (newest && new Date(newest.created_at).getTime() + this.#rotationAgeMs() > this.now()) continue;
        due.push({ alg, newest });
      }
      // Key generation runs on the libuv pool (an RSA pair ~0.5 s): all due algorithms at once
      // rather than one after another, which on a new data directory was idle start-up time.
      const rows = await Promise.all(due.map(({ alg }) => this.#newKeyRow(alg)));
      for (const [i, { alg, newest }] of due.entries()) {
        const row = rows[i]!;
        // The first key of an algorithm signs at once (no verifier can have cached a JWKS without
        // it that matters); a successor only after pre-publication, and its predecessor until then.
        if (newest) {
          await trx
            .updateTable('token_signing_keys')
            .set({ retired_at: new Date(this.now() + this.prePublicationMs) })
            .where('alg', '=', alg)
            .where('retired_at', 'is', null)
            .execute();
        }
        await trx.insertInto('token_signing_keys').values(row).execute();
        await this.audit(trx, {
          event: 'token-service.signing_key.create',
          actor: SYSTEM_ACTOR,
          targetId: row.kid,
          details: {
            alg,
            encrypted_at_rest: this.encryptsAtRest,
            signs_from: new Date(
              newest ? row.created_at.getTime() + this.prePublicationMs : row.created_at.getTime(),
            ).toISOString(),
          },
          requestId: systemRequestId(),
        });
        kids.push(row.kid);
      }
      return kids;
    });
    await this.#reload();
    return created;
  }

  /** Deletes keys whose every token has expired; returns how many. */
  async deleteExpiredKeys(): Promise<number> {
    const cutoff = new Date(this.now() - this.#retentionMs());
    const deleted = await this.db.transaction().execute(async (trx) => {
      const rows = await trx
        .deleteFrom('token_signing_keys')
        .where('retired_at', 'is not', null)
        .where('retired_at', '<', cutoff)
        .returning('kid')
        .execute();
      if (rows.length > 0) {
        // Their SAML certificates go with them (metadata lists only kept keys anyway).
        await trx
          .deleteFrom('token_saml_certificates')
          .where(
            'kid',
            'in',
            rows.map((r) => r.kid),
          )
          .execute();
        await this.audit(trx, {
          event: 'token-service.signing_key.delete',
          actor: SYSTEM_ACTOR,
          details: purgeDetails(rows.map((r) => r.kid)),
          requestId: systemRequestId(),
        });
      }
      return rows.length;
    });
    if (deleted > 0) await this.#reload();
    return deleted;
  }

  /** The JWKS document: every key that signs now or signed a token that may still be valid. */
  async publicJwks(): Promise<{ keys: JWK[] }> {
    await this.#loadIfStale();
    const cutoff = this.now() - this.#retentionMs();
    return {
      keys: this.#keys
        .filter((k) => k.retiredAt === null || k.retiredAt.getTime() >= cutoff)
        .map((k) => k.publicJwk),
    };
  }

  /**
   * The private key of a kept key as PKCS#8 PEM, for signatures outside JOSE (SAML's XML-DSig, and
   * the self-signed certificate SAML metadata carries for it). Same keys, same rotation as the JWKS.
   */
  async privateKeyPem(kid: string): Promise<string> {
    await this.#loadIfStale();
    let key = this.#keys.find((k) => k.kid === kid);
    if (!key) {
      await this.#reload();
      key = this.#keys.find((k) => k.kid === kid);
    }
    if (!key) throw new Error(`no signing key ${kid}`);
    const { kid: _kid, alg: _alg, use: _use, ...jwk } = await this.#decryptPrivate(key.privateJwk);
    return createPrivateKey({ key: jwk as JsonWebKey, format: 'jwk' })
      .export({ type: 'pkcs8', format: 'pem' })
      .toString();
  }

  /** For `jwtVerify`: the published key with the token's `kid` and `alg`. */
  readonly getKey: JWTVerifyGetKey = async (header) => {
    await this.#loadIfStale();
    let key = this.#find(header.kid);
    if (!key && this.now() - this.#loadedAt > UNKNOWN_KID_RELOAD_MS) {
      await this.#reload();
      key = this.#find(header.kid);
    }
    if (!key || key.alg !== header.alg) throw new joseErrors.JWKSNoMatchingKey();
    return key.publicKey;
  };

  /**
   * The newest key of `alg` that is published long enough; while a successor is being
   * pre-published, its predecessor. The only key of an algorithm signs from its creation.
   */
  #currentKey(alg: SigningAlgorithm): LoadedKey | undefined {
    const ofAlg = this.#keys.filter((k) => k.alg === alg);
    const published = ofAlg.find((k) => k.createdAt.getTime() + this.prePublicationMs <= this.now());
    return published ?? ofAlg.at(-1);
  }

  #find(kid: string | undefined): LoadedKey | undefined {
    const cutoff = this.now() - this.#retentionMs();
    return this.#keys.find((k) => k.kid === kid && (k.retiredAt === null || k.retiredAt.getTime() >= cutoff));
  }

  #isDue(key: LoadedKey): boolean {
    return key.createdAt.getTime() + this.#rotationAgeMs() <= this.now();
  }

  #rotationAgeMs(): number {
    return this.config.keyRotationAgeSeconds * 1000;
  }

  #retentionMs(): number {
    return this.config.accessTokenLifetimeSeconds * 1000 + PUBLISH_GRACE_MS;
  }

  async #loadIfStale(): Promise<void> {
    if (this.now() - this.#loadedAt > RELOAD_AFTER_MS || this.#loadedAt > this.now()) await this.#reload();
  }

  #reload(): Promise<void> {
    this.#loading ??= (async () => {
      try {
        const rows = await this.db
          .selectFrom('token_signing_keys')
          .selectAll()
          .orderBy('created_at', 'desc')
          .execute();
        this.#keys = await Promise.all(rows.map((row) => this.#load(row)));
        this.#loadedAt = this.now();
      } finally {
        this.#loading = undefined;
      }
    })();
    return this.#loading;
  }

  async #load(row: SigningKeysTable): Promise<LoadedKey> {
    const publicJwk = (
      typeof row.public_jwk === 'string' ? JSON.parse(row.public_jwk) : row.public_jwk
    ) as JWK;
    const alg = row.alg as SigningAlgorithm;
    return {
      kid: row.kid,
      alg,
      publicJwk,
      publicKey: (await importJWK(publicJwk, alg)) as CryptoKey,
      createdAt: new Date(row.created_at),
      retiredAt: row.retired_at === null ? null : new Date(row.retired_at),
      privateJwk: row.private_jwk,
    };
  }

  async #newKeyRow(alg: SigningAlgorithm): Promise<SigningKeysTable> {
    const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
    const publicJwk = await exportJWK(publicKey);
    const kid = await calculateJwkThumbprint(publicJwk);
    const privateJwk = await exportJWK(privateKey);
    return {
      kid,
      alg,
      public_jwk: JSON.stringify({ ...publicJwk, kid, alg, use: 'sig' }),
      private_jwk: await this.#encryptPrivate({ ...privateJwk, kid, alg }),
      created_at: new Date(this.now()),
      retired_at: null,
    };
  }

  async #encryptPrivate(jwk: JWK): Promise<string> {
    const plain = JSON.stringify(jwk);
    if (!this.#encryptionKey) return plain;
    return new CompactEncrypt(new TextEncoder().encode(plain))
      .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', cty: 'jwk+json' })
      .encrypt(this.#encryptionKey);
  }

  async #decryptPrivate(stored: string): Promise<JWK> {
    if (stored.startsWith('{')) return JSON.parse(stored) as JWK;
    if (!this.#encryptionKey) {
      this.logger.error('the signing key is encrypted but no keyEncryptionSecret is configured');
      throw new Error('the signing key is encrypted but no keyEncryptionSecret is configured');
    }
    const { plaintext } = await compactDecrypt(stored, this.#encryptionKey);
    return JSON.parse(new TextDecoder().decode(plaintext)) as JWK;
  }
}
