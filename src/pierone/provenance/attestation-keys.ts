import { createPrivateKey, hkdfSync, type JsonWebKey, type KeyObject } from 'node:crypto';
import {
  CompactEncrypt,
  calculateJwkThumbprint,
  compactDecrypt,
  exportJWK,
  generateKeyPair,
  type JWK,
} from 'jose';
import { type Kysely, sql } from 'kysely';
import { internalRequestId } from '../../platform/audit/create-audit.js';
import type { Database } from '../../platform/db/database.js';
import type { PierOneAudit } from '../access.js';

/** The one algorithm attestations are signed with: ECDSA P-256 over SHA-256, DER signatures (as cosign). */
export const ATTESTATION_KEY_ALG = 'ES256';

interface AttestationKeysTable {
  kid: string;
  alg: string;
  public_jwk: string;
  private_jwk: string;
  created_at: Date;
  retired_at: Date | null;
}

interface Tables {
  pierone_attestation_keys: AttestationKeysTable;
}

/** A key as it signs: its id (the JWK thumbprint, also the DSSE `keyid`) and the private key. */
export interface AttestationSigningKey {
  kid: string;
  privateKey: KeyObject;
}

/** A published public key: always with its id (the DSSE `keyid`) and algorithm. */
export type PublishedJwk = JWK & { kid: string; kty: string; alg: string };

/** The published key set: `{ keys: [...] }`, newest first. */
export interface AttestationJwks {
  keys: PublishedJwk[];
}

export interface AttestationKeyOptions {
  /** A key older than this is replaced by a new one on the next signature. */
  rotationAgeMs: number;
  /** Installation secret private keys are encrypted with at rest; plain JSON without one. */
  encryptionSecret?: string | undefined;
  now?: () => number;
}

/**
 * The keys Pier One signs provenance attestations with. One key signs at a time; once it is
 * older than the rotation age the next signature makes a successor (replicas serialise on an
 * advisory lock, so exactly one is made). Retired keys stay in the JWKS for good: an
 * attestation is verified offline, years after it was signed, against the published set. A
 * successor signs at once, unlike the token service's keys: a verifier fetches the JWKS when
 * it verifies, and a missing kid is a reason to fetch it again, not a lasting failure.
 */
export class AttestationKeys {
  readonly #db: Kysely<Tables>;
  readonly #encryptionKey: Uint8Array | undefined;
  readonly #now: () => number;
  #signing: { kid: string; createdAt: number; privateKey: KeyObject } | undefined;

  constructor(
    database: Database,
    private readonly audit: PierOneAudit,
    private readonly options: AttestationKeyOptions,
  ) {
    this.#db = database.kysely<Tables>();
    this.#now = options.now ?? Date.now;
    this.#encryptionKey = options.encryptionSecret
      ? new Uint8Array(
          hkdfSync('sha256', options.encryptionSecret, 'stups-pierone', 'attestation-key-encryption v1', 32),
        )
      : undefined;
  }

  /** The key to sign with now; makes the first key, or a successor when the current one is due. */
  async signingKey(): Promise<AttestationSigningKey> {
    if (this.#signing && !this.#isDue(this.#signing.createdAt)) return this.#signing;
    let newest = await this.#newest();
    if (!newest || this.#isDue(new Date(newest.created_at).getTime())) {
      await this.rotateIfDue();
      newest = await this.#newest();
    }
    if (!newest) throw new Error('no attestation signing key after rotation');
    const { kid: _kid, ...jwk } = await this.#decrypt(newest.private_jwk);
    this.#signing = {
      kid: newest.kid,
      createdAt: new Date(newest.created_at).getTime(),
      privateKey: createPrivateKey({ key: jwk as JsonWebKey, format: 'jwk' }),
    };
    return this.#signing;
  }

  /** Makes a new key when there is none or the newest is older than the rotation age; returns its kid. */
  async rotateIfDue(): Promise<string | undefined> {
    return this.#db.transaction().execute(async (trx) => {
      await sql`select pg_advisory_xact_lock(hashtext('pierone_attestation_keys'))`.execute(trx);
      const newest = await trx
        .selectFrom('pierone_attestation_keys')
        .select(['kid', 'created_at'])
        .orderBy('created_at', 'desc')
        .limit(1)
        .executeTakeFirst();
      if (newest && !this.#isDue(new Date(newest.created_at).getTime())) return undefined;
      const { publicKey, privateKey } = await generateKeyPair(ATTESTATION_KEY_ALG, { extractable: true });
      const publicJwk = await exportJWK(publicKey);
      const kid = await calculateJwkThumbprint(publicJwk);
      const now = new Date(this.#now());
      if (newest) {
        await trx
          .updateTable('pierone_attestation_keys')
          .set({ retired_at: now })
          .where('retired_at', 'is', null)
          .execute();
      }
      await trx
        .insertInto('pierone_attestation_keys')
        .values({
          kid,
          alg: ATTESTATION_KEY_ALG,
          public_jwk: JSON.stringify({ ...publicJwk, kid, alg: ATTESTATION_KEY_ALG, use: 'sig' }),
          private_jwk: await this.#encrypt({ ...(await exportJWK(privateKey)), kid }),
          created_at: now,
          retired_at: null,
        })
        .execute();
      await this.audit(trx, {
        event: 'pierone.attestation_key.create',
        actor: { uid: 'pierone' },
        targetId: kid,
        details: {
          alg: ATTESTATION_KEY_ALG,
          encrypted_at_rest: this.#encryptionKey !== undefined,
          ...(newest ? { replaces: newest.kid } : {}),
        },
        requestId: internalRequestId('pierone'),
      });
      return kid;
    });
  }

  /** Every key that ever signed, newest first: what `/.well-known/attestation-jwks.json` serves. */
  async publicJwks(): Promise<AttestationJwks> {
    const rows = await this.#db
      .selectFrom('pierone_attestation_keys')
      .select(['public_jwk'])
      .orderBy('created_at', 'desc')
      .orderBy('kid')
      .execute();
    return { keys: rows.map((r) => JSON.parse(r.public_jwk) as PublishedJwk) };
  }

  #isDue(createdAt: number): boolean {
    return createdAt + this.options.rotationAgeMs <= this.#now();
  }

  #newest() {
    return this.#db
      .selectFrom('pierone_attestation_keys')
      .selectAll()
      .orderBy('created_at', 'desc')
      .limit(1)
      .executeTakeFirst();
  }

  async #encrypt(jwk: JWK): Promise<string> {
    const plain = JSON.stringify(jwk);
    if (!this.#encryptionKey) return plain;
    return new CompactEncrypt(new TextEncoder().encode(plain))
      .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', cty: 'jwk+json' })
      .encrypt(this.#encryptionKey);
  }

  async #decrypt(stored: string): Promise<JWK> {
    if (stored.startsWith('{')) return JSON.parse(stored) as JWK;
    if (!this.#encryptionKey) {
      throw new Error('the attestation key is encrypted but Pier One was given no encryption secret');
    }
    const { plaintext } = await compactDecrypt(stored, this.#encryptionKey);
    return JSON.parse(new TextDecoder().decode(plaintext)) as JWK;
  }
}
