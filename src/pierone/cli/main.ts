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
import { installCredentialHelper } from './docker-config.js';

const NAME = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/;

function checkName(kind: string, value: string): string {
  if (!NAME.test(value)) throw new CliError(`invalid ${kind} "${value}"`, 2);
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

  /** Tags of an artifact; Pier One answers 404 when there are none, which is an empty list here. */
  const tagsOf = async (team: string, artifact: string): Promise<Tag[]> => {
    try {
      return await (
        await client()
      ).parsed(z.array(TagSchema), 'a tag list', 'GET', `/teams/${team}/artifacts/${artifact}/tags`);
    } catch (error) {
      if (error instanceof HttpError && error.status === 404) return [];
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
      io.stdout.write(`Logged in to ${new URL(url).host}: ${file} uses docker-credential-pierone.\n`);
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
    for (const artifact of names)
      for (const tag of await tagsOf(team, artifact)) rows.push({ ...tag, artifact });
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

  program
    .command('latest')
    .description('the newest tag of an artifact')
    .argument('<team>')
    .argument('<artifact>')
    .action(async (team: string, artifact: string) => {
      const latest = latestTag(await tagsOf(checkName('team', team), checkName('artifact', artifact)));
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
    const names = tags.length ? tags : (await tagsOf(team, artifact)).map((t) => t.name);
    const pierone = await client();
    const rows: Array<{ tag: string; source: ScmSource | undefined }> = [];
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
        rows.push({ tag, source: undefined });
      }
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
    if (!/^(sha256:)?[0-9a-f]{4,64}$/.test(digest)) throw new CliError(`invalid image digest "${digest}"`, 2);
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

  return program;
}

export async function main(argv: string[] = process.argv.slice(2)): Promise<void> {
  const io = processIo();
  process.exitCode = await runCli(pieroneProgram({ io }), argv, io);
}
