import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeEachDatabase } from '../../platform/test-support/databases.js';
import { KERNEL_MIGRATIONS } from '../../platform/test-support/service-context.js';
import { pieroneMigrations } from '../migrations.js';
import { call } from '../test-support/http.js';
import {
  copyArgs,
  ImageBuilder,
  skopeo,
  startTestRegistry,
  type TestRegistry,
} from '../test-support/registry-harness.js';
import { RETENTION_ACTOR } from './retention.js';
import { expiredTags, type RetentionRule } from './rule.js';

const json = { 'content-type': 'application/json' };
const DAY = 24 * 3600 * 1000;

function rule(over: Partial<RetentionRule>): RetentionRule {
  return {
    team: 'stups',
    artifact: undefined,
    keepLast: undefined,
    keepPatterns: [],
    keepRunning: false,
    snapshotDays: undefined,
    updatedAt: new Date(0),
    updatedBy: 'alice',
    ...over,
  };
}

describe('expiredTags', () => {
  const now = new Date('2026-11-28T12:00:00Z');
  const tag = (name: string, daysAgo: number, productionReady = false) => ({
    name,
    digest: `sha256:${name}`,
    created: new Date(now.getTime() - daysAgo * DAY),
    productionReady,
  });
  const tags = [
    tag('0.9', 40),
    tag('release-1', 30),
    tag('1.0', 20, true),
    tag('1.1-SNAPSHOT', 10),
    tag('1.2', 5),
    tag('2.0-SNAPSHOT', 1),
  ];

  it('keeps the newest N, protects patterns and production-ready marks, names the rule in the reason', () => {
    expect(expiredTags(rule({ keepLast: 2, keepPatterns: ['release-*'] }), tags, undefined, now)).toEqual([
      {
        tag: '1.1-SNAPSHOT',
        digest: 'sha256:1.1-SNAPSHOT',
        reason: 'retention rule stups: not among the newest 2 tags',
      },
      { tag: '0.9', digest: 'sha256:0.9', reason: 'retention rule stups: not among the newest 2 tags' },
    ]);
  });

  it('expires -SNAPSHOT tags older than D days even among the newest', () => {
    expect(
      expiredTags(rule({ artifact: 'app', keepLast: 10, snapshotDays: 7 }), tags, undefined, now),
    ).toEqual([
      {
        tag: '1.1-SNAPSHOT',
        digest: 'sha256:1.1-SNAPSHOT',
        reason: 'retention rule stups/app: -SNAPSHOT tag older than 7 days',
      },
    ]);
  });

  it('keeps running images (by tag or digest) and deletes nothing when nobody can say what runs', () => {
    const keepRunning = rule({ keepLast: 1, keepRunning: true });
    expect(expiredTags(keepRunning, tags, undefined, now)).toEqual([]);
    const gone = expiredTags(keepRunning, tags, new Set(['1.2', 'sha256:0.9']), now).map((e) => e.tag);
    expect(gone).toEqual(['1.1-SNAPSHOT', 'release-1']);
  });

  it('globs match whole names, with no regular-expression meaning', () => {
    const gone = expiredTags(rule({ keepLast: 1, keepPatterns: ['1.?', '*-SNAP*'] }), tags, undefined, now);
    expect(gone.map((e) => e.tag)).toEqual(['release-1', '0.9']);
  });
});

describeEachDatabase('Pier One retention rules', [...KERNEL_MIGRATIONS, pieroneMigrations], (getDatabase) => {
  let reg: TestRegistry;
  let images: ImageBuilder;
  let imageA: string;
  let imageB: string;
  beforeAll(async () => {
    reg = await startTestRegistry(getDatabase());
    images = await ImageBuilder.create();
    imageA = await images.image('a', [{ 'app/a.txt': 'image a' }]);
    imageB = await images.image('b', [{ 'app/b.txt': 'image b' }]);
  }, 60_000);
  afterAll(async () => {
    await reg?.close();
    await images?.dispose();
  });

  async function push(image: string, ref: string): Promise<void> {
    const r = await skopeo([
      ...copyArgs({ destToken: reg.tokens.alice }),
      image,
      `docker://${reg.host}/${ref}`,
    ]);
    expect(r.code, r.stderr).toBe(0);
  }
  async function tagNames(repo: string): Promise<string[]> {
    const r = await call(reg, 'GET', `/v2/${repo}/tags/list`, { token: reg.tokens.alice });
    return (r.json.tags as string[]).slice().sort();
  }
  async function age(team: string, artifact: string, name: string, days: number): Promise<void> {
    await sql`update pierone_tags set created = now() - make_interval(days => ${days})
        where team = ${team} and artifact = ${artifact} and name = ${name}`.execute(getDatabase().kysely());
  }

  it('a dry run lists what would go and changes nothing; the job deletes exactly that through the audited path', async () => {
    for (const [image, tag] of [
      [imageA, 'release-0.9'],
      [imageA, '1.0'],
      [imageB, '2.0'],
      [imageA, '3.0'],
    ] as const) {
      await push(image, `stups/app:${tag}`);
    }
    for (const [image, tag] of [
      [imageA, '1.0-SNAPSHOT'],
      [imageB, '1.0'],
      [imageB, '2.0-SNAPSHOT'],
    ] as const) {
      await push(image, `stups/snap:${tag}`);
    }
    await age('stups', 'snap', '1.0-SNAPSHOT', 10);

    // The team's rule: the newest 2 and every release; stups/snap has its own, replacing it.
    const teamRule = await call(reg, 'PUT', '/teams/stups/retention-rule', {
      token: reg.tokens.alice,
      headers: json,
      body: JSON.stringify({ keep_last: 2, keep_patterns: ['release-*'] }),
    });
    expect(teamRule.status, teamRule.text).toBe(200);
    expect(teamRule.json).toMatchObject({
      team: 'stups',
      keep_last: 2,
      keep_patterns: ['release-*'],
      updated_by: 'alice',
    });
    const repoRule = await call(reg, 'PUT', '/teams/stups/artifacts/snap/retention-rule', {
      token: reg.tokens.alice,
      headers: json,
      body: JSON.stringify({ snapshot_days: 7 }),
    });
    expect(repoRule.status, repoRule.text).toBe(200);
    const rules = await call(reg, 'GET', '/teams/stups/retention-rules', { token: reg.tokens.bob });
    expect(rules.json.map((r: { artifact?: string }) => r.artifact ?? '(team)')).toEqual(['(team)', 'snap']);

    const before = { app: await tagNames('stups/app'), snap: await tagNames('stups/snap') };
    const plan = await call(reg, 'GET', '/teams/stups/retention-plan', { token: reg.tokens.alice });
    expect(plan.status).toBe(200);
    expect(
      plan.json.map(
        (p: { artifact: string; rule: string; expired: Array<{ tag: string; reason: string }> }) => [
          p.artifact,
          p.rule,
          p.expired.map((e) => `${e.tag}: ${e.reason}`),
        ],
      ),
    ).toEqual([
      ['app', 'stups', ['1.0: retention rule stups: not among the newest 2 tags']],
      ['snap', 'stups/snap', ['1.0-SNAPSHOT: retention rule stups/snap: -SNAPSHOT tag older than 7 days']],
    ]);
    // The dry run changed nothing.
    expect({ app: await tagNames('stups/app'), snap: await tagNames('stups/snap') }).toEqual(before);
    expect(
      (await call(reg, 'GET', '/teams/stups/artifacts/app/deleted-tags', { token: reg.tokens.alice })).json,
    ).toEqual([]);

    const result = await reg.service.retention.run();
    expect(result.failed).toEqual([]);
    expect(result.deleted.map((d) => `${d.team}/${d.artifact}:${d.tag}`)).toEqual([
      'stups/app:1.0',
      'stups/snap:1.0-SNAPSHOT',
    ]);
    expect(await tagNames('stups/app')).toEqual(['2.0', '3.0', 'release-0.9']);
    expect(await tagNames('stups/snap')).toEqual(['1.0', '2.0-SNAPSHOT']);

    const deleted = await call(reg, 'GET', '/teams/stups/artifacts/app/deleted-tags', {
      token: reg.tokens.alice,
    });
    expect(deleted.json).toHaveLength(1);
    expect(deleted.json[0]).toMatchObject({
      name: '1.0',
      deleted_by: RETENTION_ACTOR,
      reason: 'retention rule stups: not among the newest 2 tags',
    });
    expect(deleted.json[0].description).toMatch(
      /^deleted by pierone-retention on \S+ because retention rule stups: not among the newest 2 tags$/,
    );
    const events = await reg.ctx.auditLog.query({
      action: 'pierone.tag.delete',
      targetId: 'stups/snap:1.0-SNAPSHOT',
      limit: 5,
    });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ outcome: 'success', actor: RETENTION_ACTOR });

    // skopeo cannot pull the deleted tag, and the name stays burnt.
    const pull = await skopeo([
      'inspect',
      '--tls-verify=false',
      '--creds',
      `oauth2:${reg.tokens.alice}`,
      `docker://${reg.host}/stups/app:1.0`,
    ]);
    expect(pull.code).not.toBe(0);
    const again = await skopeo([
      ...copyArgs({ destToken: reg.tokens.alice }),
      imageB,
      `docker://${reg.host}/stups/app:1.0`,
    ]);
    expect(again.code).not.toBe(0);

    // A second run finds nothing more to do.
    expect((await reg.service.retention.run()).deleted).toEqual([]);
  }, 120_000);

  it('only members of the team manage its rules; refusals and changes are audited', async () => {
    const refused = await call(reg, 'PUT', '/teams/stups/retention-rule', {
      token: reg.tokens.bob,
      headers: json,
      body: JSON.stringify({ keep_last: 1 }),
    });
    expect(refused.status).toBe(403);
    const invalid = await call(reg, 'PUT', '/teams/other/retention-rule', {
      token: reg.tokens.bob,
      headers: json,
      body: JSON.stringify({ keep_patterns: ['*'] }),
    });
    expect(invalid.status).toBe(400);
    expect(invalid.headers.get('content-type')).toContain('application/problem+json');
    expect(invalid.text).toContain('keep_last or snapshot_days');
    const events = await reg.ctx.auditLog.query({
      action: 'pierone.retention_rule.set',
      targetId: 'stups',
      limit: 10,
    });
    expect(events.map((e) => [e.actor, e.outcome])).toEqual(
      expect.arrayContaining([
        ['bob', 'refused'],
        ['alice', 'success'],
      ]),
    );
    const removed = await call(reg, 'DELETE', '/teams/stups/artifacts/snap/retention-rule', {
      token: reg.tokens.alice,
    });
    expect(removed.status).toBe(204);
    const missing = await call(reg, 'DELETE', '/teams/stups/artifacts/snap/retention-rule', {
      token: reg.tokens.alice,
    });
    expect(missing.status).toBe(404);
  });

  it('a rule keeping running images is refused, and deletes nothing, while no running-image source is there', async () => {
    const set = await call(reg, 'PUT', '/teams/stups/artifacts/app/retention-rule', {
      token: reg.tokens.alice,
      headers: json,
      body: JSON.stringify({ keep_last: 1, keep_running: true }),
    });
    expect(set.status, set.text).toBe(409);
    expect(set.json).toMatchObject({ code: 'RUNNING_IMAGES_UNAVAILABLE' });
    expect(set.json.detail).toContain('keep_running cannot be honoured');
    // A rule saved while fullstop ran, fullstop then disabled: the job and the dry run skip it.
    await sql`insert into pierone_retention_rules (team, artifact, keep_last, keep_running, updated_by)
        values ('stups', 'app', 1, true, 'alice')`.execute(getDatabase().kysely());
    const plan = await call(reg, 'GET', '/teams/stups/retention-plan', { token: reg.tokens.alice });
    const app = plan.json.find((p: { artifact: string }) => p.artifact === 'app');
    expect(app).toMatchObject({
      expired: [],
      skipped: expect.stringContaining('no module provides running images'),
    });
    const result = await reg.service.retention.run();
    expect(result.deleted).toEqual([]);
    expect(await tagNames('stups/app')).toEqual(['2.0', '3.0', 'release-0.9']);
  });
});
