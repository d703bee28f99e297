import { Command } from 'commander';
import { z } from 'zod';
import { loadToolConfig, normaliseUrl, saveToolConfig } from '../../platform/cli/cli-config.js';
import { CliError } from '../../platform/cli/cli-error.js';
import { HttpError } from '../../platform/cli/http-client.js';
import { parseOutputFormat, relativeTime, renderRows } from '../../platform/cli/output.js';
import { processIo, runCli } from '../../platform/cli/run-cli.js';
import { serviceClient } from '../../platform/cli/service-client.js';
import { getToken, type ZignDeps } from '../../zign/get-token.js';
import { type ScmSource, ScmSourceSchema, type Tag, TagSchema, TagSearchResultSchema } from '../contract.js';
import { GcResultSchema } from '../gc/contract.js';
import { installCredentialHelper } from './docker-config.js';
import { projectRoot } from '../../platform/project-root.js';
import { CREDENTIAL_HELPER, findOnPath, helperMissingMessage } from './helper-on-path.js';

const NAME = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/;
/** A Docker tag: what a registry accepts after the colon. */
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

function checkName(kind: string, value: string): string {
  if (!(kind === 'tag' ? TAG : NAME).test(value)) throw new CliError(`invalid ${kind} "${value}"`, 2);
  return value;
}

/** The newest tag by creation time: what `latest` means in Pier One. */
export function latestTag(tags: readonly Tag[]): Tag | undefined {
  return [...tags].sort(
    (a, b) => Date.parse(b.created) - Date.parse(a.created) || b.name.localeCompare(a.name),
  )[0];
}

/** `pierone`: the Pier One registry's STUPS API on the command line. */
const TagSearchResultListSchema = z.array(TagSearchResultSchema);

/** What `login` reads of `/swagger.json`: the API's title says whether the URL is a Pier One. */
const SwaggerSchema = z.object({ info: z.object({ title: z.string().optional() }).optional() });

export function pieroneProgram(deps: ZignDeps): Command {
  const { io } = deps;
  const client = () => serviceClient('pierone', 'Pier One', deps);
  const outputOption = (c: Command) => c.option('-o, --output <format>', 'text, json or tsv', 'text');
  const program = new Command('pierone').description('Pier One Docker registry').version('0.1.0');

  /**
   * Tags of an artifact, or undefined when Pier One answers 404. An artifact exists only through
   * its tags (tags are never deleted, and `/artifacts` lists names from the tags), so 404 here
   * means the artifact is unknown: there is no "known artifact without tags" to tell apart.
   */
  const tagsOf = async (team: string, artifact: string): Promise<Tag[] | undefined> => {
    try {
      return await (
        await client()
      ).parsed(z.array(TagSchema), 'a tag list', 'GET', `/teams/${team}/artifacts/${artifact}/tags`);
    } catch (error) {
      if (error instanceof HttpError && error.status === 404) return undefined;
      throw error;
    }
  };
  const unknownArtifacts = (team: string, artifacts: readonly string[]) =>
    new CliError(
      `Pier One has no artifact ${artifacts.map((a) => `${team}/${a}`).join(', ')} (nothing was pushed under that name)`,
    );

  const tagExists = async (team: string, artifact: string, tag: string): Promise<boolean> => {
    try {
      await (
        await client()
      ).parsed(TagSchema, 'a tag', 'GET', `/teams/${team}/artifacts/${artifact}/tags/${tag}`);
      return true;
    } catch (error) {
      if (error instanceof HttpError && error.status === 404) return false;
      throw error;
    }
  };

  program
    .command('login')
    .description('let docker and skopeo push and pull with your token (installs the credential helper)')
    .option('--url <url>', 'Pier One URL (saved to ~/.config/pierone/pierone.yaml)')
    .action(async (options: { url?: string }) => {
      if (options.url) await saveToolConfig('pierone', io.env, { url: normaliseUrl(options.url) });
      const config = await loadToolConfig('pierone', io.env);
      if (!config.url) throw new CliError('no Pier One URL: pass --url or run "stups configure URL"');
      const url = normaliseUrl(config.url);
      // Proves the login works before anything is written.
      await getToken('default', ['uid'], {}, deps);
      const swagger = await (
        await client()
      ).parsed(SwaggerSchema, 'a Swagger document', 'GET', '/swagger.json');
      if (!swagger.info?.title?.includes('Pier One API'))
        throw new CliError(`${url} is not a Pier One registry`);
      const file = await installCredentialHelper(io.env, new URL(url).host);
      // Without the helper on PATH every docker or skopeo call for this host fails later with a
      // message that does not mention pierone, so the login is not done: exit 1 and say what to
      // do. The config is still written, since it is right as it is: once the helper is on PATH,
      // pushing works without logging in again.
      if (!(await findOnPath(CREDENTIAL_HELPER, io.env)))
        throw new CliError(helperMissingMessage(projectRoot()));
      io.stdout.write(`Logged in to ${new URL(url).host}: ${file} uses ${CREDENTIAL_HELPER}.\n`);
    });

  outputOption(program.command('teams').description('teams with artifacts')).action(
    async (options: { output: string }) => {
      const format = parseOutputFormat(options.output);
      const teams = await (await client()).parsed(z.array(z.string()), 'a team list', 'GET', '/teams');
      io.stdout.write(renderRows(teams, [{ title: 'Team', key: 'team', value: (t) => t }], format));
    },
  );

  outputOption(program.command('artifacts').description("a team's artifacts").argument('<team>')).action(
    async (team: string, options: { output: string }) => {
      const format = parseOutputFormat(options.output);
      const artifacts = await (
        await client()
      ).parsed(z.array(z.string()), 'an artifact list', 'GET', `/teams/${checkName('team', team)}/artifacts`);
      io.stdout.write(
        renderRows(
          artifacts,
          [
            { title: 'Team', key: 'team', value: () => team },
            { title: 'Artifact', key: 'artifact', value: (a) => a },
          ],
          format,
        ),
      );
    },
  );

  outputOption(
    program
      .command('tags')
      .description('tags of artifacts, oldest first')
      .argument('<team>')
      .argument('[artifacts...]'),
  ).action(async (team: string, artifacts: string[], options: { output: string }) => {
    const format = parseOutputFormat(options.output);
    checkName('team', team);
    const names = artifacts.length
      ? artifacts.map((a) => checkName('artifact', a))
      : await (
          await client()
        ).parsed(z.array(z.string()), 'an artifact list', 'GET', `/teams/${team}/artifacts`);
    const rows: Array<Tag & { artifact: string }> = [];
    const unknown: string[] = [];
    for (const artifact of names) {
      const tags = await tagsOf(team, artifact);
      if (tags === undefined) unknown.push(artifact);
      for (const tag of tags ?? []) rows.push({ ...tag, artifact });
    }
    // A misspelt name must not look like an artifact with nothing in it (an empty table, exit 0).
    if (unknown.length) throw unknownArtifacts(team, unknown);
    io.stdout.write(
      renderRows(
        rows,
        [
          { title: 'Team', key: 'team', value: () => team },
          { title: 'Artifact', key: 'artifact', value: (r) => r.artifact },
          { title: 'Tag', key: 'tag', value: (r) => r.name },
          {
            title: 'Created',
            key: 'created',
            value: (r) => (format === 'text' ? relativeTime(new Date(r.created)) : r.created),
          },
          { title: 'By', key: 'created_by', value: (r) => r.created_by },
          {
            title: 'Image',
            key: 'image',
            value: (r) => (format === 'text' ? r.image.slice(0, 19) : r.image),
          },
          {
            title: 'SCM source',
            key: 'scm_source_present',
            value: (r) =>
              format === 'json' ? r.scm_source_present : r.scm_source_present ? 'yes' : 'MISSING',
          },
        ],
        format,
      ),
    );
  });

  outputOption(
    program
      .command('gc')
      .description(
        'garbage-collect blobs no manifest refers to (platform admins with pierone.admin.delete); safe during pushes',
      )
      .option('--dry-run', 'list what would be deleted and change nothing'),
  ).action(async (options: { output: string; dryRun?: boolean }) => {
    const format = parseOutputFormat(options.output);
    const result = await (
      await client()
    ).parsed(
      GcResultSchema,
      'a garbage collection result',
      'POST',
      `/gc${options.dryRun ? '?dry_run=true' : ''}`,
    );
    if (format === 'json') {
      io.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      return;
    }
    const verb = result.dry_run ? 'would delete' : 'deleted';
    io.stdout.write(
      `scanned ${result.scanned} blobs, ${verb} ${result.deleted} (${result.bytes_freed} bytes), ` +
        `${result.dry_run ? 'would remove' : 'removed'} ${result.links_removed} dangling links` +
        `${result.manifests_deleted ? ` and ${result.manifests_deleted} manifests whose tags were all deleted` : ''}` +
        `${result.failed ? `, ${result.failed} failed (retried next run)` : ''} in ${result.duration_ms} ms\n`,
    );
    if (result.candidates?.length) {
      io.stdout.write(
        renderRows(
          result.candidates,
          [
            { title: 'Digest', key: 'digest', value: (c) => c.digest },
            { title: 'Size', key: 'size', value: (c) => String(c.size) },
          ],
          format,
        ),
      );
    }
  });

  program
    .command('latest')
    .description('the newest tag of an artifact')
    .argument('<team>')
    .argument('<artifact>')
    .action(async (team: string, artifact: string) => {
      const latest = latestTag(
        (await tagsOf(checkName('team', team), checkName('artifact', artifact))) ?? [],
      );
      if (!latest) throw new CliError(`${team}/${artifact} has no tags`);
      io.stdout.write(`${latest.name}\n`);
    });

  outputOption(
    program
      .command('scm-source')
      .description('where the images were built from (all tags unless given)')
      .argument('<team>')
      .argument('<artifact>')
      .argument('[tags...]'),
  ).action(async (team: string, artifact: string, tags: string[], options: { output: string }) => {
    const format = parseOutputFormat(options.output);
    checkName('team', team);
    checkName('artifact', artifact);
    let names = tags.map((t) => checkName('tag', t));
    if (!names.length) {
      const all = await tagsOf(team, artifact);
      if (all === undefined) throw unknownArtifacts(team, [artifact]);
      names = all.map((t) => t.name);
    }
    const pierone = await client();
    const rows: Array<{ tag: string; source: ScmSource | undefined }> = [];
    const unknownTags: string[] = [];
    for (const tag of names) {
      try {
        rows.push({
          tag,
          source: await pierone.parsed(
            ScmSourceSchema,
            'an scm-source',
            'GET',
            `/teams/${team}/artifacts/${artifact}/tags/${tag}/scm-source`,
          ),
        });
      } catch (error) {
        if (!(error instanceof HttpError && error.status === 404)) throw error;
        // 404 means either "no such tag" or "an image without scm-source.json" (shown as MISSING):
        // the tag itself answers which.
        if (await tagExists(team, artifact, tag)) rows.push({ tag, source: undefined });
        else unknownTags.push(tag);
      }
    }
    if (unknownTags.length) {
      if ((await tagsOf(team, artifact)) === undefined) throw unknownArtifacts(team, [artifact]);
      throw new CliError(`Pier One has no tag ${unknownTags.join(', ')} of ${team}/${artifact}`);
    }
    io.stdout.write(
      renderRows(
        rows,
        [
          { title: 'Team', key: 'team', value: () => team },
          { title: 'Artifact', key: 'artifact', value: () => artifact },
          { title: 'Tag', key: 'tag', value: (r) => r.tag },
          { title: 'Author', key: 'author', value: (r) => r.source?.author ?? '' },
          {
            title: 'URL',
            key: 'url',
            value: (r) => r.source?.url ?? (format === 'json' ? null : 'MISSING'),
          },
          { title: 'Revision', key: 'revision', value: (r) => r.source?.revision ?? '' },
          { title: 'Status', key: 'status', value: (r) => r.source?.status ?? '' },
        ],
        format,
      ),
    );
  });

  outputOption(
    program
      .command('image')
      .description('which tags point to an image')
      .argument('<digest>', 'digest or its prefix'),
  ).action(async (digest: string, options: { output: string }) => {
    const format = parseOutputFormat(options.output);
    // As the server takes it: hex of a sha256 id (optionally with its prefix), or sha512:hex.
    if (!/^(?:(?:sha256:)?[0-9a-f]{4,64}|sha512:[0-9a-f]{4,128})$/.test(digest))
      throw new CliError(
        `invalid image digest "${digest}": expected sha256:hex, sha512:hex or at least 4 hex digits`,
        2,
      );
    let found: z.output<typeof TagSearchResultListSchema>;
    try {
      found = await (
        await client()
      ).parsed(TagSearchResultListSchema, 'a list of tags', 'GET', `/tags/${digest}`);
    } catch (error) {
      if (error instanceof HttpError && error.status === 404) throw new CliError(`no image ${digest}`);
      if (error instanceof HttpError && error.status === 412) {
        throw new CliError(`the prefix ${digest} matches several images: give more of the digest`);
      }
      throw error;
    }
    io.stdout.write(
      renderRows(
        found,
        [
          { title: 'Team', key: 'team', value: (r) => r.team },
          { title: 'Artifact', key: 'artifact', value: (r) => r.artifact },
          { title: 'Tag', key: 'tag', value: (r) => r.name },
        ],
        format,
      ),
    );
  });

  outputOption(
    program
      .command('attest')
      .description('have Pier One sign SLSA provenance for an image and attach it (for CI, after the push)')
      .argument('<image>', '[registry/]team/artifact:tag or team/artifact@sha256:… (or @sha512:…)')
      .option('--builder-id <uri>', 'the builder that built it (default: $STUPS_BUILDER_ID)')
      .option('--started-on <time>', 'when the build started (RFC 3339)')
      .option('--finished-on <time>', 'when the build finished (RFC 3339; default: now)')
      .option('--invocation-id <id>', 'the CI run (e.g. its URL)')
      .option(
        '--ticket <key>',
        'the ticket the change was made for (e.g. SHOP-42), recorded in the provenance',
      ),
  ).action(
    async (
      image: string,
      options: {
        output: string;
        builderId?: string;
        startedOn?: string;
        finishedOn?: string;
        invocationId?: string;
        ticket?: string;
      },
    ) => {
      const output = parseOutputFormat(options.output);
      const { attest } = await import('./attest.js');
      io.stdout.write(
        await attest(
          await client(),
          image,
          {
            builderId: options.builderId ?? io.env.STUPS_BUILDER_ID,
            startedOn: options.startedOn,
            finishedOn: options.finishedOn,
            invocationId: options.invocationId,
            ticket: options.ticket,
            output,
          },
          () => new Date(),
        ),
      );
    },
  );

  return program;
}

export async function main(argv: string[] = process.argv.slice(2)): Promise<void> {
  const io = processIo();
  process.exitCode = await runCli(pieroneProgram({ io }), argv, io);
}
