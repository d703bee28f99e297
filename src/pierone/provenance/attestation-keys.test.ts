import { sign } from 'node:crypto';
import { sql } from 'kysely';
import { expect, it } from 'vitest';
import { AuditLog } from '../../platform/audit/audit-log.js';
import { createAudit } from '../../platform/audit/create-audit.js';
import { silentLogger } from '../../platform/logger.js';
import { describeEachDatabase } from '../../platform/test-support/databases.js';
import { KERNEL_MIGRATIONS } from '../../platform/test-support/service-context.js';
import { PIERONE_EVENTS } from '../events.js';
import { pieroneMigrations } from '../migrations.js';
import { AttestationKeys } from './attestation-keys.js';
import { preAuthEncoding } from './dsse.js';
import { verifyAttestation } from './verify.js';

const DAY = 24 * 3600 * 1000;
const IMAGE = `sha256:${'ab'.repeat(32)}`;

/** An envelope signed with `key` the way Pier One signs (the statement is minimal but valid). */
function envelopeSignedBy(key: { kid: string; privateKey: Parameters<typeof sign>[2] }) {
  const payload = Buffer.from(
    JSON.stringify({
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ digest: { sha256: IMAGE.slice(7) } }],
      predicateType: 'https://slsa.dev/provenance/v1',
      predicate: {
        buildDefinition: {
          buildType: 'b',
          externalParameters: {},
          resolvedDependencies: [{ uri: 'git', digest: { gitCommit: 'c0ffee0' } }],
        },
        runDetails: { builder: { id: 'ci' } },
      },
    }),
  );
  const sig = sign('sha256', preAuthEncoding('application/vnd.in-toto+json', payload), {
    key: key.privateKey as never,
    dsaEncoding: 'der',
  });
  return {
    payloadType: 'application/vnd.in-toto+json',
    payload: payload.toString('base64'),
    signatures: [{ keyid: key.kid, sig: sig.toString('base64') }],
  };
}

describeEachDatabase(
  'Pier One attestation keys',
  [...KERNEL_MIGRATIONS, pieroneMigrations],
  (getDatabase) => {
    it('rotates after the rotation age, keeps old keys published, and encrypts private keys at rest', async () => {
      const database = getDatabase();
      const auditLog = new AuditLog(database, silentLogger());
      const audit = createAudit(auditLog, 'pierone', PIERONE_EVENTS);
      let now = Date.parse('2026-01-01T00:00:00Z');
      const options = {
        rotationAgeMs: 90 * DAY,
        encryptionSecret: 'a test installation secret',
        now: () => now,
      };
      const keys = new AttestationKeys(database, audit, options);

      const first = await keys.signingKey();
      const signedByFirst = envelopeSignedBy(first);
      now += 89 * DAY;
      expect((await keys.signingKey()).kid).toBe(first.kid);
      // Another replica over the same table signs with the same key.
      expect((await new AttestationKeys(database, audit, options).signingKey()).kid).toBe(first.kid);

      now += 2 * DAY;
      const second = await keys.signingKey();
      expect(second.kid).not.toBe(first.kid);
      // Replicas racing for the rotation make one successor, not two.
      expect(await new AttestationKeys(database, audit, options).rotateIfDue()).toBeUndefined();

      const jwks = await keys.publicJwks();
      expect(jwks.keys.map((k) => k.kid)).toEqual([second.kid, first.kid]);
      for (const key of jwks.keys) expect(key).not.toHaveProperty('d');
      // What the retired key signed still verifies against today's key set; so does the new key's.
      expect(verifyAttestation(signedByFirst, jwks, { subjectDigest: IMAGE }).keyId).toBe(first.kid);
      expect(verifyAttestation(envelopeSignedBy(second), jwks, { subjectDigest: IMAGE }).keyId).toBe(
        second.kid,
      );

      const { rows } = await sql<{
        private_jwk: string;
      }>`select private_jwk from pierone_attestation_keys`.execute(database.kysely());
      expect(rows).toHaveLength(2);
      for (const row of rows) expect(row.private_jwk).not.toContain('"d"');
      // Without the secret, an encrypted key cannot sign: a loud failure, not a new key.
      await expect(
        new AttestationKeys(database, audit, { rotationAgeMs: 90 * DAY, now: () => now }).signingKey(),
      ).rejects.toThrow('the attestation key is encrypted but Pier One was given no encryption secret');

      const events = await auditLog.query({
        service: 'pierone',
        action: 'pierone.attestation_key.create',
        limit: 10,
      });
      expect(events.map((e) => e.target_id)).toEqual([second.kid, first.kid]);
      expect(events[0]!.details).toMatchObject({
        alg: 'ES256',
        encrypted_at_rest: true,
        replaces: first.kid,
      });
    });
  },
);
