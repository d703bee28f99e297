import { Readable } from 'node:stream';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ConflictError, NotAllowedError, NotFoundError } from '../platform/errors.js';
import { describeEachDatabase } from '../platform/test-support/databases.js';
import type { Actor } from './access.js';
import {
  actorOf,
  breakAuditFor,
  createTestDomain,
  DOMAIN_MIGRATIONS,
  type TestDomain,
  UNAUDITABLE,
} from './test-support/domain-harness.js';
import { sha256 } from './test-support/http.js';

const repo = { team: 'stups', artifact: 'app' };
const alice = actorOf('alice');
const bob = actorOf('bob');

describeEachDatabase('Pier One manifests (no HTTP)', DOMAIN_MIGRATIONS, (getDatabase) => {
  let domain: TestDomain;
  beforeAll(async () => {
    domain = await createTestDomain(getDatabase());
    await domain.teams.putTeam('stups', { name: 'stups', members: ['alice', 'carol'] });
    await domain.teams.putTeam('other', { name: 'other', members: ['bob'] });
    await breakAuditFor(getDatabase());
  });
  afterAll(() => domain?.close());

  /** An image manifest over a config blob that says `note`, uploaded first. */
  async function image(actor: Actor, note: string, to = repo): Promise<string> {
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', note }));
    await domain.uploads.putWhole(actor, to, Readable.from([config]), { digest: sha256(config) });
    return JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        digest: sha256(config),
        size: config.length,
      },
      layers: [],
    });
  }

  const push = (actor: Actor, reference: string, manifest: string, to = repo) =>
    domain.manifests.push(actor, {
      repo: to,
      reference,
      contentType: 'application/vnd.oci.image.manifest.v1+json',
      body: Readable.from([Buffer.from(manifest)]),
      declaredLength: Buffer.byteLength(manifest),
      scmSourceHeader: undefined,
    });

  it('pushes, resolves by tag and digest, and audits the new tag', async () => {
    const manifest = await image(alice, 'one');
    const pushed = await push(alice, '1.0', manifest);
    expect(pushed).toEqual({
      digest: sha256(manifest),
      repository: 'stups/app',
      subject: undefined,
      tags: [],
    });
    expect((await domain.manifests.resolve(repo, '1.0')).digest).toBe(sha256(manifest));
    expect((await domain.manifests.resolve(repo, sha256(manifest))).content.toString()).toBe(manifest);
    expect((await domain.manifests.resolve(repo, 'latest')).digest).toBe(sha256(manifest));
    const [event] = await domain.events('stups/app:1.0');
    expect(event).toMatchObject({
      action: 'pierone.tag.create',
      actor: 'alice',
      outcome: 'success',
      request_id: alice.requestId,
    });
  });

  it('shows a pushed tag in the tag list at once, although lists are cached', async () => {
    expect((await domain.manifests.tagNames(repo, undefined, undefined)).names).toEqual(['1.0']);
    await push(alice, '2.0', await image(alice, 'two'));
    expect((await domain.manifests.tagNames(repo, undefined, undefined)).names).toEqual(['1.0', '2.0']);
    expect(await domain.manifests.tagNames(repo, 1, undefined)).toEqual({ names: ['1.0'], next: '1.0' });
  });

  it('refuses to move an immutable tag with 409 and audits the refusal with the actor', async () => {
    const other = await image(alice, 'other');
    const refused = await push(alice, '1.0', other).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ConflictError);
    expect(refused).toMatchObject({ code: 'TAG_INVALID', details: { tag: '1.0', pushed: sha256(other) } });
    const [event] = await domain.events('stups/app:1.0');
    expect(event).toMatchObject({ action: 'pierone.tag.create', actor: 'alice', outcome: 'refused' });
    expect(event?.details).toMatchObject({ status: 409, code: 'TAG_INVALID', pushed: sha256(other) });
  });

  it('refuses a push to a foreign team with 403 and audits it', async () => {
    const refused = await push(bob, '3.0', '{}').catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(NotAllowedError);
    expect((refused as Error).message).toBe('bob is not a member of team stups');
    const [event] = await domain.events('stups/app:3.0');
    expect(event).toMatchObject({
      action: 'pierone.tag.create',
      actor: 'bob',
      actor_realm: 'employees',
      outcome: 'refused',
      request_id: bob.requestId,
    });
    expect(event?.details).toEqual({
      status: 403,
      code: 'NOT_TEAM_MEMBER',
      message: 'bob is not a member of team stups',
    });
  });

  it('takes a membership change into account on the very next push', async () => {
    const carol = actorOf('carol');
    const manifest = await image(carol, 'carol');
    await push(carol, '4.0', manifest);
    await domain.teams.removeMember('stups', 'carol');
    const refused = await push(actorOf('carol'), '4.1', manifest).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(NotAllowedError);
    await domain.teams.addMember('stups', 'carol');
    await push(actorOf('carol'), '4.1', manifest);
  });

  it('marks tags production-ready for team members and audits refusals', async () => {
    const marked = await domain.manifests.markProductionReady(alice, repo, '1.0', 'CHG-1');
    expect(marked.incidentId).toBe('CHG-1');
    const refused = await domain.manifests
      .markProductionReady(bob, repo, '2.0', 'CHG-2')
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(NotAllowedError);
    const [event] = await domain.events('stups/app:2.0');
    expect(event).toMatchObject({ action: 'pierone.tag.production-ready', actor: 'bob', outcome: 'refused' });
    await expect(domain.manifests.markProductionReady(alice, repo, '9.9', 'CHG-3')).rejects.toBeInstanceOf(
      NotFoundError,
    );
  });

  it('keeps no tag and no manifest of a push whose audit event cannot be written', async () => {
    const manifest = await image(alice, 'unauditable');
    await expect(push(alice, UNAUDITABLE, manifest)).rejects.toThrow(/cannot be written/);
    expect(await domain.store.tagDigest('stups', 'app', UNAUDITABLE)).toBeUndefined();
    expect((await domain.manifests.tagNames(repo, undefined, undefined)).names).not.toContain(UNAUDITABLE);
    expect(await domain.store.getManifest('stups/app', sha256(manifest))).toBeUndefined();
    expect(await domain.events(`stups/app:${UNAUDITABLE}`)).toEqual([]);
    // The same manifest under an auditable tag is stored, with its event.
    await push(alice, '5.0', manifest);
    expect(await domain.store.tagDigest('stups', 'app', '5.0')).toBe(sha256(manifest));
  });

  it('keeps no blob link whose audit event cannot be written', async () => {
    const target = { team: 'stups', artifact: UNAUDITABLE };
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux' }));
    await expect(
      domain.uploads.putWhole(alice, target, Readable.from([config]), { digest: sha256(config) }),
    ).rejects.toThrow(/cannot be written/);
    expect(await domain.store.linkedBlobSize(`stups/${UNAUDITABLE}`, sha256(config))).toBeUndefined();
  });

  it('commits a production-ready mark together with its event, or neither', async () => {
    const marked = await domain.manifests.markProductionReady(alice, repo, '2.0', 'CHG-4');
    expect(marked.incidentId).toBe('CHG-4');
    const [event] = await domain.events('stups/app:2.0');
    expect(event).toMatchObject({
      action: 'pierone.tag.production-ready',
      actor: 'alice',
      outcome: 'success',
      request_id: alice.requestId,
      details: { incident_id: 'CHG-4' },
    });

    // The event of this mark cannot be written (its incident id is in its details).
    await expect(
      domain.manifests.markProductionReady(alice, repo, '5.0', `CHG-${UNAUDITABLE}`),
    ).rejects.toThrow(/cannot be written/);
    expect((await domain.store.tag('stups', 'app', '5.0'))?.incidentId).toBeNull();
    expect(await domain.events('stups/app:5.0')).toMatchObject([{ action: 'pierone.tag.create' }]);
  });

  it('gives platform administrators no push rights of their own', async () => {
    const refused = await push(actorOf('admin'), '1.0', '{}', { team: 'stups', artifact: 'admin' }).catch(
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(NotAllowedError);
    const [event] = await domain.events('stups/admin:1.0');
    expect(event).toMatchObject({ actor: 'admin', outcome: 'refused' });
  });

  it('lets write_all services push to every existing team, and answers 404 for an unknown one', async () => {
    const ci = actorOf('ci', { realm: 'services', scopes: ['application.write_all'] });
    const manifest = await image(ci, 'ci');
    expect((await push(ci, '6.0', manifest)).digest).toBe(sha256(manifest));
    const unknown = await domain.uploads
      .start(ci, { team: 'nosuchteam', artifact: 'app' })
      .catch((error: unknown) => error);
    expect(unknown).toBeInstanceOf(NotFoundError);
    expect(unknown).toMatchObject({ code: 'NAME_UNKNOWN' });
    const [event] = await domain.events('nosuchteam/app');
    expect(event).toMatchObject({ actor: 'ci', actor_realm: 'services', outcome: 'refused' });
    expect(event?.details).toMatchObject({ status: 404, code: 'NAME_UNKNOWN' });
  });

  it('lets a service push for the team of its own application only', async () => {
    const own = actorOf('kio-app', { realm: 'services', scopes: ['application.write'] });
    expect(await domain.uploads.start(own, repo)).toEqual(expect.any(String));
    const foreign = await domain.uploads
      .start(own, { team: 'other', artifact: 'app' })
      .catch((error: unknown) => error);
    expect(foreign).toBeInstanceOf(NotAllowedError);
    expect((foreign as Error).message).toBe('service kio-app belongs to team stups, not to other');
    const unscoped = await domain.uploads
      .start(actorOf('kio-app', { realm: 'services' }), repo)
      .catch((error: unknown) => error);
    expect(unscoped).toMatchObject({ code: 'INSUFFICIENT_SCOPE' });
  });
});
