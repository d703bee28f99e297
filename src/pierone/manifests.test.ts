import { Readable } from 'node:stream';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ConflictError, NotAllowedError, NotFoundError } from '../platform/errors.js';
import { describeEachDatabase } from '../platform/test-support/databases.js';
import type { Actor } from './audit.js';
import {
  actorOf,
  createTestDomain,
  DOMAIN_MIGRATIONS,
  type TestDomain,
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
  });
  afterAll(() => domain?.close());

  /** An image manifest over a config blob that says `note`, uploaded first. */
  async function image(actor: Actor, note: string): Promise<string> {
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', note }));
    await domain.uploads.putWhole(actor, repo, Readable.from([config]), { digest: sha256(config) });
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

  const push = (actor: Actor, reference: string, manifest: string) =>
    domain.manifests.push(actor, {
      repo,
      reference,
      contentType: 'application/vnd.oci.image.manifest.v1+json',
      body: Readable.from([Buffer.from(manifest)]),
      declaredLength: Buffer.byteLength(manifest),
      scmSourceHeader: undefined,
    });

  it('pushes, resolves by tag and digest, and audits the new tag', async () => {
    const manifest = await image(alice, 'one');
    const pushed = await push(alice, '1.0', manifest);
    expect(pushed).toEqual({ digest: sha256(manifest), repository: 'stups/app', subject: undefined });
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
    expect(event).toMatchObject({ action: 'pierone.tag.create', actor: 'alice', outcome: 'failure' });
    expect(event?.details).toMatchObject({ reason: 'immutable tag', pushed: sha256(other) });
  });

  it('refuses a push to a foreign team with 403 and audits it', async () => {
    const refused = await push(bob, '3.0', '{}').catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(NotAllowedError);
    expect((refused as Error).message).toBe('user bob is not a member of team stups');
    const [event] = await domain.events('stups/app:3.0');
    expect(event).toMatchObject({
      action: 'pierone.tag.create',
      actor: 'bob',
      actor_realm: 'employees',
      outcome: 'failure',
      request_id: bob.requestId,
    });
    expect(event?.details).toEqual({ reason: 'user bob is not a member of team stups', status: 403 });
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
    expect(event).toMatchObject({ action: 'pierone.tag.production-ready', actor: 'bob', outcome: 'failure' });
    await expect(domain.manifests.markProductionReady(alice, repo, '9.9', 'CHG-3')).rejects.toBeInstanceOf(
      NotFoundError,
    );
  });
});
