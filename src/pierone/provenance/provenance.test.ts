import { createPublicKey, generateKeyPairSync, type JsonWebKey, sign } from 'node:crypto';
import { crypto as sigstoreCrypto, dsse as sigstoreDsse } from '@sigstore/core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseUserData } from '../../fullstop/user-data.js';
import { imageWithoutProvenance } from '../../fullstop/rules/image-without-provenance.js';
import type { RuleContext } from '../../fullstop/rules/rule.js';
import { RuleSettingsSchema } from '../../fullstop/settings.js';
import { runCli } from '../../platform/cli/run-cli.js';
import { captureIo } from '../../platform/test-support/cli-io.js';
import { describeEachDatabase } from '../../platform/test-support/databases.js';
import { KERNEL_MIGRATIONS } from '../../platform/test-support/service-context.js';
import { pieroneProgram } from '../cli/main.js';
import { PierOneImageTags } from '../image-tags.js';
import { pieroneMigrations } from '../migrations.js';
import { breakAuditFor, UNAUDITABLE } from '../test-support/domain-harness.js';
import { call } from '../test-support/http.js';
import {
  copyArgs,
  ImageBuilder,
  skopeo,
  startTestRegistry,
  type TestRegistry,
} from '../test-support/registry-harness.js';
import { PierOneProvenance } from './directory.js';
import { type AttestationVerificationError, matchScmSource, verifyAttestation } from './verify.js';

const COMMIT = '0123456789abcdef0123456789abcdef01234567';
const BUILDER = 'https://ci.example.org/builders/stups-ci@v1';
const DSSE = 'application/vnd.dsse.envelope.v1+json';
const jsonOf = (envelope: { payload: string }) =>
  JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8'));

describeEachDatabase('Pier One provenance', [...KERNEL_MIGRATIONS, pieroneMigrations], (getDatabase) => {
  let reg: TestRegistry;
  let images: ImageBuilder;
  let attested: {
    digest: string;
    attestation: string;
    envelope: { payload: string; payloadType: string; signatures: Array<{ keyid: string; sig: string }> };
  };

  beforeAll(async () => {
    reg = await startTestRegistry(getDatabase());
    images = await ImageBuilder.create();
    const scm = JSON.stringify({
      url: 'git:git@github.com:zalando/app.git',
      revision: COMMIT,
      author: 'alice',
      status: '',
    });
    for (const [tag, files] of [
      ['1.0', { 'scm-source.json': scm, 'app/run.sh': 'echo 1' }],
      ['2.0', { 'scm-source.json': scm, 'app/run.sh': 'echo 2' }],
      ['3.0', { 'app/run.sh': 'no scm-source' }],
    ] as const) {
      const image = await images.image(tag, [files]);
      const pushed = await skopeo([
        ...copyArgs({ destToken: reg.tokens.alice }),
        image,
        `docker://${reg.host}/stups/app:${tag}`,
      ]);
      if (pushed.code !== 0) throw new Error(`push of ${tag} failed: ${pushed.stderr}`);
    }
  }, 120_000);
  afterAll(async () => {
    await reg?.close();
    await images?.dispose();
  });

  /** `pierone` as CI runs it: the service user's token, Pier One's URL from the environment. */
  async function pierone(args: string[], token = reg.tokens.serviceWrite) {
    const io = await captureIo({ env: { PIERONE_URL: reg.url, OAUTH2_ACCESS_TOKENS: `default=${token}` } });
    const code = await runCli(pieroneProgram({ io }), args, io);
    await io.cleanup();
    return { code, out: io.out(), err: io.err() };
  }
  const jwks = async () => (await call(reg, 'GET', '/.well-known/attestation-jwks.json')).json;
  const digestOf = async (tag: string) =>
    (await call(reg, 'HEAD', `/v2/stups/app/manifests/${tag}`, { token: reg.tokens.bob })).headers.get(
      'docker-content-digest',
    )!;

  it('pierone attest: the CI has Pier One sign SLSA provenance and attach it as a referrer', async () => {
    const run = await pierone([
      'attest',
      `${reg.host}/stups/app:1.0`,
      '--builder-id',
      BUILDER,
      '--started-on',
      '2026-11-28T10:00:00Z',
      '--invocation-id',
      'https://ci.example.org/runs/42',
      '-o',
      'json',
    ]);
    expect(run.err).toBe('');
    expect(run.code).toBe(0);
    const out = JSON.parse(run.out);
    const digest = await digestOf('1.0');
    expect(out).toMatchObject({
      image: `stups/app@${digest}`,
      artifact_type: DSSE,
      commit: COMMIT,
      builder_id: BUILDER,
      source: 'git:git@github.com:zalando/app.git',
    });
    attested = { digest, attestation: out.attestation, envelope: out.envelope };

    // The referrers API lists it, filtered by its artifact type too.
    const referrers = await call(
      reg,
      'GET',
      `/v2/stups/app/referrers/${digest}?artifactType=${encodeURIComponent(DSSE)}`,
      {
        token: reg.tokens.bob,
      },
    );
    expect(referrers.headers.get('oci-filters-applied')).toBe('artifactType');
    expect(referrers.json.manifests).toEqual([
      expect.objectContaining({
        digest: out.attestation,
        artifactType: DSSE,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
      }),
    ]);
    // The artifact's layer is the very envelope, pulled like any blob.
    const manifest = await call(reg, 'GET', `/v2/stups/app/manifests/${out.attestation}`, {
      token: reg.tokens.bob,
    });
    expect(manifest.json.subject.digest).toBe(digest);
    expect(manifest.json.layers[0]).toMatchObject({
      mediaType: DSSE,
      annotations: { 'in-toto.io/predicate-type': 'https://slsa.dev/provenance/v1' },
    });
    const blob = await call(reg, 'GET', `/v2/stups/app/blobs/${manifest.json.layers[0].digest}`, {
      token: reg.tokens.bob,
    });
    expect(JSON.parse(blob.text)).toEqual(out.envelope);

    // The statement as signed: about the image, from the commit, and the invoker is the CI's
    // service user as Pier One saw its token.
    const statement = jsonOf(out.envelope);
    expect(statement).toMatchObject({
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ name: `${reg.host}/stups/app`, digest: { sha256: digest.slice(7) } }],
      predicateType: 'https://slsa.dev/provenance/v1',
      predicate: {
        buildDefinition: {
          resolvedDependencies: [
            { uri: 'git:git@github.com:zalando/app.git', digest: { gitCommit: COMMIT } },
          ],
          internalParameters: { invoker: { uid: 'kio-app', realm: 'services' } },
        },
        runDetails: {
          builder: { id: BUILDER },
          metadata: { invocationId: 'https://ci.example.org/runs/42', startedOn: '2026-11-28T10:00:00Z' },
        },
      },
    });
    expect(Date.parse(statement.predicate.runDetails.metadata.finishedOn)).toBeGreaterThan(
      Date.parse('2026-01-01'),
    );

    const [event] = await reg.ctx.auditLog.query({
      service: 'pierone',
      action: 'pierone.attestation.create',
      limit: 5,
    });
    expect(event).toMatchObject({ actor: 'kio-app', outcome: 'success', target_id: `stups/app@${digest}` });
    expect(event!.details).toMatchObject({
      attestation: out.attestation,
      commit: COMMIT,
      key_id: out.key_id,
    });
  });

  it('an independent DSSE implementation (@sigstore/core) verifies the envelope with the published key', async () => {
    const keys = (await jwks()).keys as Array<JsonWebKey & { kid: string; alg: string }>;
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({
      kty: 'EC',
      crv: 'P-256',
      alg: 'ES256',
      use: 'sig',
      kid: attested.envelope.signatures[0]!.keyid,
    });
    expect(keys[0]).not.toHaveProperty('d');
    const { kty, crv, x, y } = keys[0]!;
    const pem = createPublicKey({ key: { kty, crv, x, y }, format: 'jwk' })
      .export({ type: 'spki', format: 'pem' })
      .toString();
    const key = sigstoreCrypto.createPublicKey(pem);
    const pae = sigstoreDsse.preAuthEncoding(
      attested.envelope.payloadType,
      Buffer.from(attested.envelope.payload, 'base64'),
    );
    const sig = Buffer.from(attested.envelope.signatures[0]!.sig, 'base64');
    expect(sigstoreCrypto.verify(pae, key, sig, 'sha256')).toBe(true);
    // The same check fails on a payload changed after signing.
    const forged = Buffer.from(JSON.stringify({ ...jsonOf(attested.envelope), predicateType: 'x' }));
    expect(
      sigstoreCrypto.verify(
        sigstoreDsse.preAuthEncoding(attested.envelope.payloadType, forged),
        key,
        sig,
        'sha256',
      ),
    ).toBe(false);
  });

  it('verifyAttestation returns the commit, which equals the scm-source revision', async () => {
    const verified = verifyAttestation(attested.envelope, await jwks(), { subjectDigest: attested.digest });
    expect(verified).toMatchObject({
      commit: COMMIT,
      builderId: BUILDER,
      invoker: { uid: 'kio-app', realm: 'services' },
      sourceUri: 'git:git@github.com:zalando/app.git',
      keyId: attested.envelope.signatures[0]!.keyid,
    });
    const tag = await new PierOneImageTags(reg.service.store).getTag('stups', 'app', '1.0');
    expect(matchScmSource(verified, tag?.scm_source)).toEqual({ matches: true, commit: COMMIT });
    expect(matchScmSource(verified, { revision: 'fedcba9876' })).toMatchObject({
      matches: false,
      reason: 'revision-differs',
    });
    expect(matchScmSource(verified, null)).toMatchObject({ matches: false, reason: 'no-scm-source' });
  });

  it('the provenance contract lists the stored envelope and the key set for in-process verifiers', async () => {
    const directory = new PierOneProvenance(reg.service.store, reg.blobs, reg.service.attestationKeys);
    const [stored, ...more] = await directory.attestations('stups', 'app', attested.digest);
    expect(more).toEqual([]);
    expect(stored).toMatchObject({
      digest: attested.attestation,
      created_by: 'kio-app',
      envelope: attested.envelope,
    });
    const verified = verifyAttestation(stored!.envelope, await directory.jwks(), {
      subjectDigest: attested.digest,
    });
    expect(verified.commit).toBe(COMMIT);
    expect(await directory.attestations('stups', 'app', await digestOf('3.0'))).toEqual([]);
    expect(await directory.attestations('stups', '../x', attested.digest)).toEqual([]);
  });

  it('rejects forged, unsigned, foreign-key and misdirected envelopes', async () => {
    const keys = await jwks();
    const codeOf = (envelope: unknown, subjectDigest = attested.digest) => {
      try {
        verifyAttestation(envelope, keys, { subjectDigest });
        return 'verified';
      } catch (error) {
        return (error as AttestationVerificationError).code;
      }
    };
    const statement = jsonOf(attested.envelope);
    statement.predicate.buildDefinition.resolvedDependencies[0].digest.gitCommit = 'f'.repeat(40);
    const forgedPayload = {
      ...attested.envelope,
      payload: Buffer.from(JSON.stringify(statement)).toString('base64'),
    };
    expect(codeOf(forgedPayload)).toBe('SIGNATURE_INVALID');
    expect(codeOf({ ...attested.envelope, signatures: [] })).toBe('UNSIGNED');
    expect(codeOf({ ...attested.envelope, payloadType: 'text/plain' })).toBe('PAYLOAD_TYPE_UNEXPECTED');
    expect(codeOf('not json')).toBe('ENVELOPE_INVALID');

    // Signed properly, over the right PAE, but by a key the platform never published.
    const mine = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const payload = Buffer.from(JSON.stringify(statement));
    const sig = sign('sha256', sigstoreDsse.preAuthEncoding('application/vnd.in-toto+json', payload), {
      key: mine.privateKey,
      dsaEncoding: 'der',
    });
    const selfSigned = (keyid: string) => ({
      payloadType: 'application/vnd.in-toto+json',
      payload: payload.toString('base64'),
      signatures: [{ keyid, sig: sig.toString('base64') }],
    });
    expect(codeOf(selfSigned('my-own-key'))).toBe('KEY_UNKNOWN');
    // ... even when it claims the platform's key id.
    expect(codeOf(selfSigned(attested.envelope.signatures[0]!.keyid))).toBe('SIGNATURE_INVALID');
    // A genuine attestation of another image does not vouch for this one.
    expect(codeOf(attested.envelope, await digestOf('2.0'))).toBe('SUBJECT_MISMATCH');
  });

  it('refuses strangers, statements about other content and malformed statements, auditing refusals', async () => {
    const digest = await digestOf('2.0');
    const statement = (subjectHex: string) => ({
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ name: 'x', digest: { sha256: subjectHex } }],
      predicateType: 'https://slsa.dev/provenance/v1',
      predicate: {
        buildDefinition: {
          buildType: 'b',
          externalParameters: {},
          resolvedDependencies: [{ uri: 'u', digest: { gitCommit: COMMIT } }],
        },
        runDetails: { builder: { id: BUILDER } },
      },
    });
    const post = (token: string | undefined, body: unknown) =>
      call(reg, 'POST', '/teams/stups/artifacts/app/attestations', {
        token,
        body: JSON.stringify(body),
        headers: { 'content-type': 'application/json' },
      });
    const stranger = await post(reg.tokens.bob, { statement: statement(digest.slice(7)) });
    expect(stranger.status).toBe(403);
    expect(stranger.headers.get('content-type')).toContain('application/problem+json');
    const anonymous = await post(undefined, { statement: statement(digest.slice(7)) });
    expect(anonymous.status).toBe(401);
    const unknown = await post(reg.tokens.serviceWrite, { statement: statement('a'.repeat(64)) });
    expect(unknown.status).toBe(404);
    const malformed = await post(reg.tokens.serviceWrite, {
      statement: { ...statement(digest.slice(7)), predicateType: 'https://example.org/other' },
    });
    expect(malformed.status).toBe(400);
    expect(malformed.headers.get('content-type')).toContain('application/problem+json');
    const refused = await reg.ctx.auditLog.query({
      service: 'pierone',
      action: 'pierone.attestation.create',
      limit: 20,
    });
    expect(refused.filter((e) => e.outcome === 'refused').map((e) => e.actor)).toEqual(
      expect.arrayContaining(['bob', 'anonymous']),
    );
    // Nothing was attached to 2.0.
    const referrers = await call(reg, 'GET', `/v2/stups/app/referrers/${digest}`, { token: reg.tokens.bob });
    expect(referrers.json.manifests).toEqual([]);
  });

  it('pierone attest: one line and exit 1 for an image without scm-source, usage errors exit 2', async () => {
    const noScm = await pierone(['attest', 'stups/app:3.0', '--builder-id', BUILDER]);
    expect(noScm.code).toBe(1);
    expect(noScm.err).toBe(
      'pierone: stups/app:3.0 has no scm-source.json: provenance needs the commit the image was built from\n',
    );
    const noBuilder = await pierone(['attest', 'stups/app:1.0']);
    expect(noBuilder.code).toBe(2);
    expect(noBuilder.err).toContain('--builder-id');
    const missing = await pierone(['attest', 'stups/app:9.9', '--builder-id', BUILDER]);
    expect(missing.code).toBe(1);
    expect(missing.err).toBe('pierone: Pier One has no image stups/app:9.9\n');
    const stranger = await pierone(['attest', 'stups/app:2.0', '--builder-id', BUILDER], reg.tokens.bob);
    expect(stranger.code).toBe(1);
    expect(stranger.err).toMatch(/^pierone: you may not attest images of team stups: .+\n$/);
    // By digest, text output.
    const byDigest = await pierone(['attest', `stups/app@${await digestOf('2.0')}`, '--builder-id', BUILDER]);
    expect(byDigest.err).toBe('');
    expect(byDigest.out).toContain(`commit: ${COMMIT}`);
  });

  it("fullstop's IMAGE_WITHOUT_PROVENANCE recognises Pier One's attestations", async () => {
    // Look-ups this rule never makes fail loudly if it ever does.
    const unused = <T extends object>(what: string): T =>
      new Proxy<T>({} as T, {
        get: () => {
          throw new Error(`IMAGE_WITHOUT_PROVENANCE does not read ${what}`);
        },
      });
    const ctx: RuleContext = {
      settings: RuleSettingsSchema.parse({ pieroneHosts: [reg.host] }),
      imageTags: new PierOneImageTags(reg.service.store),
      images: unused<RuleContext['images']>('AMIs'),
      applications: unused<RuleContext['applications']>('Kio'),
      accessGrants: unused<RuleContext['accessGrants']>('even'),
    };
    const check = async (tag: string) => {
      const yaml = `runtime: Docker\napplication_id: app\nsource: ${reg.host}/stups/app:${tag}\n`;
      const userData = parseUserData(Buffer.from(yaml).toString('base64'))!;
      const instance = { account: '123456789012', region: 'eu-west-1', instanceId: 'i-0123456789abcdef0' };
      return (await imageWithoutProvenance.check(userData, instance, ctx)).map((f) => f.type);
    };
    expect(await check('1.0')).toEqual([]);
    expect(await check('3.0')).toEqual(['IMAGE_WITHOUT_PROVENANCE']);
    expect((await ctx.imageTags.getTag('stups', 'app', '1.0'))?.provenance).toEqual([
      expect.objectContaining({ digest: attested.attestation, artifact_type: DSSE, created_by: 'kio-app' }),
    ]);
  });

  it('an attestation whose audit event cannot be written is not attached', async () => {
    await breakAuditFor(getDatabase());
    const digest = await digestOf('2.0');
    const before = await call(reg, 'GET', `/v2/stups/app/referrers/${digest}`, { token: reg.tokens.bob });
    const run = await pierone([
      'attest',
      'stups/app:2.0',
      '--builder-id',
      `https://ci.example.org/${UNAUDITABLE}`,
    ]);
    expect(run.code).toBe(1);
    expect(run.err).toMatch(/^pierone: Pier One answered 500: .+\n$/);
    const after = await call(reg, 'GET', `/v2/stups/app/referrers/${digest}`, { token: reg.tokens.bob });
    expect(after.json.manifests).toEqual(before.json.manifests);
  });
});
