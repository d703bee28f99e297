import { z } from 'zod';
import { CliError } from '../../platform/cli/cli-error.js';
import { type HttpClient, HttpError } from '../../platform/cli/http-client.js';
import { type OutputFormat, renderObject } from '../../platform/cli/output.js';
import {
  type AttestationAnswer,
  AttestationSchema,
  type ScmSource,
  ScmSourceSchema,
  TagSearchResultSchema,
} from '../contract.js';
import {
  IN_TOTO_STATEMENT_V1,
  type ProvenanceStatement,
  SLSA_PROVENANCE_V1,
  STUPS_CI_BUILD_TYPE,
} from '../provenance/statement.js';

const NAME = '[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*';
/** `[registry/]team/artifact(:tag|@sha256:hex|@sha512:hex)`: what CI knows the image by. */
const IMAGE = new RegExp(
  `^(?:(?<host>[^/]+)/)?(?<team>${NAME})/(?<artifact>${NAME})(?::(?<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?(?:@(?<digest>sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128}))?$`,
);
const MANIFEST_TYPES = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
].join(', ');

export interface AttestOptions {
  builderId: string | undefined;
  startedOn: string | undefined;
  finishedOn: string | undefined;
  invocationId: string | undefined;
  /** The ticket the build was for, recorded as `externalParameters.ticket` (`stups trace` shows it when the repository cannot be read). */
  ticket?: string | undefined;
  output: OutputFormat;
}

interface ImageName {
  host: string | undefined;
  team: string;
  artifact: string;
  tag: string | undefined;
  digest: string | undefined;
}

/**
 * `pierone attest IMAGE`: for CI, after the push. Builds an in-toto statement with a SLSA v1
 * provenance predicate (the image's scm-source as the resolved source, the builder, the build
 * times) and has Pier One sign it and attach it to the image; the CI never holds a signing key.
 * Pier One records the calling service user as the invoker.
 */
export async function attest(
  client: HttpClient,
  image: string,
  options: AttestOptions,
  now: () => Date,
): Promise<string> {
  const name = parseImage(image);
  const pierOneHost = new URL(client.baseUrl).host;
  if (name.host !== undefined && name.host !== pierOneHost) {
    throw new CliError(`${image} is not in Pier One at ${pierOneHost}`);
  }
  if (!options.builderId) {
    throw new CliError('say which builder built the image: --builder-id URI (or STUPS_BUILDER_ID)', 2);
  }
  const finishedOn = timestamp('--finished-on', options.finishedOn) ?? now().toISOString();
  const startedOn = timestamp('--started-on', options.startedOn);
  const repo = `${name.team}/${name.artifact}`;
  const digest = name.digest ?? (await manifestDigest(client, repo, name.tag ?? 'latest'));
  const source = await scmSourceOf(client, name, digest);

  const statement: ProvenanceStatement = {
    _type: IN_TOTO_STATEMENT_V1,
    subject: [{ name: `${pierOneHost}/${repo}`, digest: subjectDigest(digest) }],
    predicateType: SLSA_PROVENANCE_V1,
    predicate: {
      buildDefinition: {
        buildType: STUPS_CI_BUILD_TYPE,
        externalParameters: {
          image: `${pierOneHost}/${repo}${name.tag ? `:${name.tag}` : ''}@${digest}`,
          source: { uri: source.url, revision: source.revision },
          ...(options.ticket ? { ticket: options.ticket } : {}),
        },
        resolvedDependencies: [{ uri: source.url, digest: { gitCommit: source.revision } }],
      },
      runDetails: {
        builder: { id: options.builderId },
        metadata: {
          ...(options.invocationId ? { invocationId: options.invocationId } : {}),
          ...(startedOn ? { startedOn } : {}),
          finishedOn,
        },
      },
    },
  };
  let made: AttestationAnswer;
  try {
    made = await client.parsed(
      AttestationSchema,
      'an attestation',
      'POST',
      `/teams/${name.team}/artifacts/${name.artifact}/attestations`,
      {
        statement,
      },
    );
  } catch (error) {
    if (error instanceof HttpError && error.status === 403) {
      throw new CliError(`you may not attest images of team ${name.team}: ${error.message}`);
    }
    throw error;
  }
  const summary = {
    image: `${repo}@${made.subject}`,
    attestation: made.digest,
    artifact_type: made.artifact_type,
    key_id: made.key_id,
    commit: made.commit ?? null,
    source: source.url,
    builder_id: options.builderId,
  };
  return options.output === 'json'
    ? renderObject({ ...summary, envelope: made.envelope }, 'json')
    : renderObject(summary, options.output);
}

function parseImage(image: string): ImageName {
  const groups = IMAGE.exec(image)?.groups;
  if (!groups?.team || !groups.artifact) {
    throw new CliError(
      `invalid image "${image}": expected [registry/]team/artifact:tag or …@sha256:digest (or @sha512:digest)`,
      2,
    );
  }
  if (!groups.tag && !groups.digest) {
    throw new CliError(`name the image by tag or digest: "${image}" has neither`, 2);
  }
  return {
    host: groups.host,
    team: groups.team,
    artifact: groups.artifact,
    tag: groups.tag,
    digest: groups.digest,
  };
}

function timestamp(option: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const parsed = z.iso.datetime({ offset: true }).safeParse(value);
  if (!parsed.success) throw new CliError(`${option} must be an RFC 3339 time, got "${value}"`, 2);
  return value;
}

/** The manifest digest a tag points to, as the registry answers it. */
async function manifestDigest(client: HttpClient, repo: string, tag: string): Promise<string> {
  const response = await client.request('HEAD', `/v2/${repo}/manifests/${tag}`, undefined, {
    accept: MANIFEST_TYPES,
  });
  const digest = response.headers.get('docker-content-digest');
  if (response.status === 404) throw new CliError(`Pier One has no image ${repo}:${tag}`);
  if (!response.ok || !digest || !/^(?:sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/.test(digest)) {
    throw new CliError(`Pier One answered ${response.status} for ${repo}:${tag} without a manifest digest`);
  }
  return digest;
}

/**
 * The image's scm-source.json: provenance without the commit it was built from says nothing
 * anyone can check, so an image without one is not attested.
 */
async function scmSourceOf(client: HttpClient, name: ImageName, digest: string): Promise<ScmSource> {
  let tag = name.tag;
  if (tag === undefined) {
    const found = await client
      .parsed(z.array(TagSearchResultSchema), 'a list of tags', 'GET', `/tags/${digest}`)
      .catch((error: unknown) => {
        if (error instanceof HttpError && error.status === 404) return [];
        throw error;
      });
    tag = found.find((t) => t.team === name.team && t.artifact === name.artifact)?.name;
    if (tag === undefined) throw new CliError(`no tag of ${name.team}/${name.artifact} points to ${digest}`);
  }
  try {
    const source = await client.parsed(
      ScmSourceSchema,
      'an scm-source',
      'GET',
      `/teams/${name.team}/artifacts/${name.artifact}/tags/${tag}/scm-source`,
    );
    if (!source.url || !source.revision)
      throw new CliError(
        `the scm-source.json of ${name.team}/${name.artifact}:${tag} names no url or revision`,
      );
    return source;
  } catch (error) {
    if (error instanceof HttpError && error.status === 404) {
      throw new CliError(
        `${name.team}/${name.artifact}:${tag} has no scm-source.json: provenance needs the commit the image was built from`,
      );
    }
    throw error;
  }
}

/** An in-toto subject's digest set: `{ sha256: hex }` or `{ sha512: hex }`, as the image's digest is. */
function subjectDigest(digest: string): Record<string, string> {
  const [algorithm, hex] = digest.split(':') as [string, string];
  return { [algorithm]: hex };
}
