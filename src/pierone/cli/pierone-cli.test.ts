import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../platform/cli/run-cli.js';
import { type Database, openDatabase } from '../../platform/db/database.js';
import { migrateToLatest } from '../../platform/db/migrate.js';
import { type CapturedIo, captureIo } from '../../platform/test-support/cli-io.js';
import { KERNEL_MIGRATIONS } from '../../platform/test-support/service-context.js';
import { pieroneMigrations } from '../migrations.js';
import {
  copyArgs,
  ImageBuilder,
  skopeo,
  startTestRegistry,
  type TestRegistry,
} from '../test-support/registry-harness.js';
import { installCredentialHelper } from './docker-config.js';
import { projectRoot } from '../../platform/project-root.js';
import { latestTag, pieroneProgram } from './main.js';
import { describeCheckout, writeScmSourceFile } from './scm-source-file.js';

const exec = promisify(execFile);

describe('pierone CLI against a malformed answer', () => {
  it('names what it expected in one line and exits 1', async () => {
    // A "Pier One" that answers 200 with team names that are not strings.
    const fetchStub: typeof fetch = async () =>
      new Response(JSON.stringify({ teams: ['a'] }), { headers: { 'content-type': 'application/json' } });
    const io = await captureIo({
      env: { PIERONE_URL: 'http://pierone.invalid', OAUTH2_ACCESS_TOKENS: 'default=t' },
    });
    const code = await runCli(pieroneProgram({ io, fetch: fetchStub }), ['teams'], io);
    await io.cleanup();
    expect(code).toBe(1);
    expect(io.err()).toMatch(/^pierone: Pier One answered something that is not a team list: .+\n$/);
    expect(io.out()).toBe('');
  });

  it('login: a Swagger document of the wrong shape is one line, and no credential helper is installed', async () => {
    // `info.title` as a number used to reach `.includes` and crash.
    const fetchStub: typeof fetch = async () =>
      new Response(JSON.stringify({ info: { title: 42 } }), {
        headers: { 'content-type': 'application/json' },
      });
    const io = await captureIo({ env: { OAUTH2_ACCESS_TOKENS: 'default=t' } });
    const code = await runCli(
      pieroneProgram({ io, fetch: fetchStub }),
      ['login', '--url', 'https://pierone.invalid'],
      io,
    );
    const dockerConfig = join(io.home, '.docker', 'config.json');
    const written = await readFile(dockerConfig, 'utf8').catch(() => undefined);
    await io.cleanup();
    expect(code).toBe(1);
    expect(io.err()).toMatch(
      /^pierone: Pier One answered something that is not a Swagger document: info\.title: .+\n$/,
    );
    expect(written).toBeUndefined();
  });
});

describe('pierone CLI against a running Pier One', () => {
  let database: Database;
  let registry: TestRegistry;
  let builder: ImageBuilder;
  let digest: string;

  beforeAll(async () => {
    database = await openDatabase({ kind: 'pglite' });
    await migrateToLatest(database, [...KERNEL_MIGRATIONS, pieroneMigrations]);
    registry = await startTestRegistry(database);
    builder = await ImageBuilder.create();
    const withScm = await builder.image('1.0', [
      {
        'scm-source.json': JSON.stringify({
          url: 'git:git@example.org:stups/kio.git',
          revision: 'cafe01',
          author: 'alice',
          status: '',
        }),
      },
    ]);
    const without = await builder.image('2.0', [{ 'app.txt': 'no scm source here' }]);
    for (const [image, tag] of [
      [withScm, '1.0'],
      [without, '2.0'],
    ] as const) {
      const pushed = await skopeo([
        ...copyArgs({ destToken: registry.tokens.alice }),
        image,
        `docker://${registry.host}/stups/kio:${tag}`,
      ]);
      expect(pushed.stderr).toBe('');
    }
    const tags = await fetch(`${registry.url}/teams/stups/artifacts/kio/tags`, {
      headers: { authorization: `Bearer ${registry.tokens.alice}` },
    });
    digest = (await tags.json())[0].image;
  }, 120_000);

  const pathDirs: string[] = [];

  afterAll(async () => {
    for (const dir of pathDirs) await rm(dir, { recursive: true, force: true });
    await builder?.dispose();
    await registry?.close();
    await database?.destroy();
  });

  async function pierone(args: string[]): Promise<CapturedIo & { code: number }> {
    const io = await captureIo({
      env: { PIERONE_URL: registry.url, OAUTH2_ACCESS_TOKENS: `default=${registry.tokens.bob}` },
    });
    const code = await runCli(pieroneProgram({ io }), args, io);
    await io.cleanup();
    return Object.assign(io, { code });
  }

  it('lists teams, artifacts and tags, flagging images without scm-source', async () => {
    expect((await pierone(['teams', '-o', 'tsv'])).out()).toBe('team\nstups\n');
    expect((await pierone(['artifacts', 'stups', '-o', 'tsv'])).out()).toBe('team\tartifact\nstups\tkio\n');
    const tags = await pierone(['tags', 'stups', 'kio', '-o', 'json']);
    const rows = JSON.parse(tags.out());
    expect(rows.map((r: { tag: string }) => r.tag)).toEqual(['1.0', '2.0']);
    expect(rows[0]).toMatchObject({
      team: 'stups',
      artifact: 'kio',
      created_by: 'alice',
      scm_source_present: true,
    });
    expect(rows[1].scm_source_present).toBe(false);
    expect((await pierone(['tags', 'stups'])).out()).toContain('MISSING');
  });

  it('fails in one line for an unknown artifact or tag, and still shows images without scm-source', async () => {
    const tags = await pierone(['tags', 'stups', 'nothing', '-o', 'json']);
    expect(tags.code).toBe(1);
    expect(tags.out()).toBe('');
    expect(tags.err()).toBe(
      'pierone: Pier One has no artifact stups/nothing (nothing was pushed under that name)\n',
    );
    const some = await pierone(['tags', 'stups', 'kio', 'nothing', 'nada']);
    expect(some.code).toBe(1);
    expect(some.err()).toMatch(/^pierone: Pier One has no artifact stups\/nothing, stups\/nada \(.*\)\n$/);

    const scmArtifact = await pierone(['scm-source', 'stups', 'nothing']);
    expect(scmArtifact.code).toBe(1);
    expect(scmArtifact.err()).toMatch(/^pierone: Pier One has no artifact stups\/nothing .*\n$/);
    const scmArtifactTag = await pierone(['scm-source', 'stups', 'nothing', '1.0']);
    expect(scmArtifactTag.code).toBe(1);
    expect(scmArtifactTag.err()).toMatch(/^pierone: Pier One has no artifact stups\/nothing .*\n$/);
    const scmTag = await pierone(['scm-source', 'stups', 'kio', '1.0', '9.9']);
    expect(scmTag.code).toBe(1);
    expect(scmTag.out()).toBe('');
    expect(scmTag.err()).toBe('pierone: Pier One has no tag 9.9 of stups/kio\n');
    expect((await pierone(['scm-source', 'stups', 'kio', 'not/a-tag'])).code).toBe(2);

    // An existing image without scm-source.json is a finding, not an error.
    const missing = await pierone(['scm-source', 'stups', 'kio', '2.0']);
    expect(missing.code).toBe(0);
    expect(missing.out()).toContain('MISSING');
  });

  it('finds the latest tag, scm sources and images by digest', async () => {
    expect((await pierone(['latest', 'stups', 'kio'])).out()).toBe('2.0\n');
    const empty = await pierone(['latest', 'stups', 'nothing']);
    expect(empty.code).toBe(1);
    expect(empty.err()).toBe('pierone: stups/nothing has no tags\n');

    const scm = JSON.parse((await pierone(['scm-source', 'stups', 'kio', '-o', 'json'])).out());
    expect(scm).toEqual([
      {
        team: 'stups',
        artifact: 'kio',
        tag: '1.0',
        author: 'alice',
        url: 'git:git@example.org:stups/kio.git',
        revision: 'cafe01',
        status: '',
      },
      { team: 'stups', artifact: 'kio', tag: '2.0', author: '', url: null, revision: '', status: '' },
    ]);

    const image = await pierone(['image', digest.slice(0, 19), '-o', 'json']);
    expect(JSON.parse(image.out())).toEqual([{ team: 'stups', artifact: 'kio', tag: '1.0' }]);
    expect((await pierone(['image', 'not-a-digest'])).code).toBe(2);
    // sha512 ids (images pushed by a sha512 digest) are asked for as the server takes them.
    const sha512 = await pierone(['image', `sha512:${'0'.repeat(128)}`]);
    expect(sha512.err()).toBe(`pierone: no image sha512:${'0'.repeat(128)}\n`);
    const badSha512 = await pierone(['image', 'sha512:xyz']);
    expect(badSha512.code).toBe(2);
    expect(badSha512.err()).toMatch(
      /^pierone: invalid image digest "sha512:xyz": expected sha256:hex, sha512:hex/,
    );
    const none = await pierone(['image', 'sha256:0000000000']);
    expect(none.code).toBe(1);
    expect(none.err()).toBe('pierone: no image sha256:0000000000\n');
  });

  /** A PATH of two fresh directories; the helper goes into the second when `helper` says so. */
  async function pathWith(helper: 'executable' | 'not executable' | 'none'): Promise<string> {
    const first = await mkdtemp(join(tmpdir(), 'path-a-'));
    const second = await mkdtemp(join(tmpdir(), 'path-b-'));
    pathDirs.push(first, second);
    if (helper !== 'none') {
      await writeFile(join(second, 'docker-credential-pierone'), '#!/bin/sh\n', {
        mode: helper === 'executable' ? 0o755 : 0o644,
      });
    }
    // A directory of that name is no helper either.
    await mkdir(join(first, 'docker-credential-pierone'));
    return `${first}${delimiter}${second}`;
  }

  it('logs in: checks the registry and installs the credential helper, keeping other entries', async () => {
    const io = await captureIo({
      env: { OAUTH2_ACCESS_TOKENS: `default=${registry.tokens.alice}`, PATH: await pathWith('executable') },
    });
    const dockerConfig = join(io.home, '.docker', 'config.json');
    await installCredentialHelper(io.env, 'other.example.org');
    expect(await runCli(pieroneProgram({ io }), ['login', '--url', registry.url], io)).toBe(0);
    expect(io.out()).toBe(`Logged in to ${registry.host}: ${dockerConfig} uses docker-credential-pierone.\n`);
    expect(io.err()).toBe('');
    expect(JSON.parse(await readFile(dockerConfig, 'utf8'))).toEqual({
      credHelpers: { 'other.example.org': 'pierone', [registry.host]: 'pierone' },
    });
    await io.cleanup();
  });

  it('fails the login in one line naming the fix when docker-credential-pierone is not on PATH', async () => {
    for (const helper of ['none', 'not executable'] as const) {
      const io = await captureIo({
        env: { OAUTH2_ACCESS_TOKENS: `default=${registry.tokens.alice}`, PATH: await pathWith(helper) },
      });
      expect(await runCli(pieroneProgram({ io }), ['login', '--url', registry.url], io)).toBe(1);
      expect(io.out()).toBe('');
      expect(io.err()).toBe(
        `pierone: docker-credential-pierone is not on PATH, so docker and skopeo cannot use this login: run "npm run build && npm install -g ." in ${projectRoot()} (puts it and the other STUPS CLIs on PATH, as docs/walkthrough.md shows), then check with "command -v docker-credential-pierone"\n`,
      );
      // The configuration is right as it is: once the helper is on PATH, pushing works.
      expect(JSON.parse(await readFile(join(io.home, '.docker', 'config.json'), 'utf8'))).toEqual({
        credHelpers: { [registry.host]: 'pierone' },
      });
      await io.cleanup();
    }
    // The root named is this checkout: the one whose package.json maps the helper to bin/.
    const pkg = JSON.parse(await readFile(join(projectRoot(), 'package.json'), 'utf8'));
    expect(pkg.bin['docker-credential-pierone']).toBe('./bin/docker-credential-pierone.js');
  });

  it('picks the newest tag by creation time', () => {
    const tag = (name: string, created: string) => ({
      name,
      created,
      created_by: 'x',
      image: 'sha256:x',
      scm_source_present: true,
    });
    expect(
      latestTag([tag('1.10', '2026-01-02T00:00:00.000Z'), tag('1.9', '2026-01-03T00:00:00.000Z')])?.name,
    ).toBe('1.9');
    expect(latestTag([])).toBeUndefined();
  });
});

describe('stups scm-source', () => {
  let repo: string;
  beforeAll(async () => {
    repo = await mkdtemp(join(tmpdir(), 'scm-'));
    const git = (...args: string[]) => exec('git', args, { cwd: repo });
    await git('init', '-q');
    await git('config', 'user.email', 'jdoe@example.org');
    await git('config', 'user.name', 'Jane Doe');
    await git('remote', 'add', 'origin', 'git@git.example.org:demo/hello-world.git');
    await writeFile(join(repo, 'README'), 'hello\n');
    await git('add', 'README');
    await git('commit', '-q', '-m', 'first');
  });
  afterAll(() => rm(repo, { recursive: true, force: true }));

  it('describes a clean checkout, and marks a modified one', async () => {
    const { stdout } = await exec('git', ['rev-parse', 'HEAD'], { cwd: repo });
    const head = stdout.trim();
    expect(await describeCheckout(repo, { USER: 'jdoe' })).toEqual({
      url: 'git:git@git.example.org:demo/hello-world.git',
      revision: head,
      author: 'jdoe',
      status: '',
    });
    await writeFile(join(repo, 'README'), 'changed\n');
    const dirty = await describeCheckout(repo, {});
    expect(dirty.revision).toBe(`${head} (locally modified)`);
    expect(dirty.status).toBe(' M README');
    expect(dirty.author).toBe('Jane Doe');
    // Without USER, the name git would sign a commit with, from the environment too.
    expect((await describeCheckout(repo, { GIT_AUTHOR_NAME: 'Ann Env' })).author).toBe('Ann Env');
  });

  it('does not count its own earlier output as a local modification', async () => {
    const { stdout } = await exec('git', ['rev-parse', 'HEAD'], { cwd: repo });
    await writeFile(join(repo, 'README'), 'hello\n');
    await mkdir(join(repo, 'sub'), { recursive: true });
    for (const [cwd, output] of [
      [repo, undefined],
      [repo, undefined],
      [join(repo, 'sub'), '../build/scm.json'],
      [join(repo, 'sub'), '../build/scm.json'],
    ] as const) {
      if (output) {
        // Only the file being written is ignored: the one written to the root before must go.
        await rm(join(repo, 'scm-source.json'), { force: true });
        await mkdir(join(cwd, '..', 'build'), { recursive: true });
      }
      const file = await writeScmSourceFile(cwd, { USER: 'jdoe' }, output);
      const written = JSON.parse(await readFile(file, 'utf8')) as { revision: string; status: string };
      expect(written).toMatchObject({ revision: stdout.trim(), status: '' });
    }
    // Anything else untracked still counts.
    await rm(join(repo, 'build'), { recursive: true });
    await writeFile(join(repo, 'notes.txt'), 'x\n');
    const file = await writeScmSourceFile(repo, {});
    const written = JSON.parse(await readFile(file, 'utf8')) as { revision: string; status: string };
    expect(written.status).toBe('?? notes.txt');
    expect(written.revision).toMatch(/ \(locally modified\)$/);
    await rm(join(repo, 'notes.txt'));
  });

  it('refuses directories that are no git checkout', async () => {
    const plain = await mkdtemp(join(tmpdir(), 'plain-'));
    await expect(describeCheckout(plain, {})).rejects.toThrow(/is not a git checkout/);
    await rm(plain, { recursive: true, force: true });
  });
});
