import { DescribeInstanceAttributeCommand, DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { z } from 'zod';
import { AccountAccess } from '../fullstop/aws/assume-role.js';
import { ViolationPageSchema } from '../fullstop/contract.js';
import { ApplicationSchema } from '../kio/contract.js';
import { TagSchema, TagSearchResultSchema } from '../pierone/contract.js';
import { DSSE_ENVELOPE_MEDIA_TYPE } from '../pierone/provenance/dsse.js';
import type { StoredAttestation } from '../pierone/provenance/directory.js';
import type { Jwks } from '../pierone/provenance/verify.js';
import { type AwsSettings, awsClientConfig } from '../platform/aws/client-config.js';
import { CliError } from '../platform/cli/cli-error.js';
import { HttpError, type HttpClient } from '../platform/cli/http-client.js';
import { commitMessage } from './git-commit.js';
import type { TraceSources } from './sources.js';

const MANIFEST_TYPES = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
].join(', ');

const ReferrersSchema = z.object({
  manifests: z.array(z.object({ digest: z.string(), artifactType: z.string().optional() })),
});
const ArtifactManifestSchema = z.object({ layers: z.array(z.object({ digest: z.string() })).min(1) });
const JwksSchema = z.object({ keys: z.array(z.looseObject({ kid: z.string().optional() })) });

export interface HttpSourcesOptions {
  pierone: HttpClient;
  kio: HttpClient;
  fullstop: HttpClient;
  aws: AwsSettings;
  /** The account the instance runs in and the role to read it with (fullstop's read role). */
  account: string | undefined;
  roleName: string | undefined;
  /** Keys from the CLI's environment (`AWS_ACCESS_KEY_ID`…); else the SDK's default chain. */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } | undefined;
}

/** A 404 is "not there" (a broken link); every other failure is an error of the trace. */
async function orUndefined<T>(call: Promise<T>): Promise<T | undefined> {
  try {
    return await call;
  } catch (error) {
    if (error instanceof HttpError && error.status === 404) return undefined;
    throw error;
  }
}

const path = (...parts: string[]) => parts.map(encodeURIComponent).join('/');

/** What `stups trace` reads: Pier One, Kio and fullstop over HTTP, EC2 through the AWS SDK, git. */
export function httpSources(o: HttpSourcesOptions): TraceSources {
  const ec2 = new EC2Client({
    ...awsClientConfig(o.aws),
    ...(o.credentials ? { credentials: o.credentials } : {}),
    // fullstop's reader: the account's role, except for the credentials' own account.
    ...(o.account && o.roleName
      ? new AccountAccess(o.aws, { roleName: o.roleName }).clientOptions(o.account)
      : {}),
  });

  const manifestDigest = async (team: string, artifact: string, tag: string) => {
    const response = await o.pierone.request(
      'HEAD',
      `/v2/${path(team, artifact)}/manifests/${encodeURIComponent(tag)}`,
      undefined,
      {
        accept: MANIFEST_TYPES,
      },
    );
    return response.ok ? (response.headers.get('docker-content-digest') ?? undefined) : undefined;
  };

  return {
    async instance(instanceId) {
      let reservations;
      try {
        ({ Reservations: reservations } = await ec2.send(
          new DescribeInstancesCommand({ InstanceIds: [instanceId] }),
        ));
      } catch (error) {
        if (error instanceof Error && /InvalidInstanceID/.test(error.name)) return undefined;
        throw new CliError(`cannot read EC2: ${error instanceof Error ? error.message : String(error)}`, 2);
      }
      const reservation = reservations?.[0];
      const instance = reservation?.Instances?.[0];
      if (!instance) return undefined;
      const attribute = await ec2.send(
        new DescribeInstanceAttributeCommand({ InstanceId: instanceId, Attribute: 'userData' }),
      );
      const encoded = attribute.UserData?.Value;
      const zone = instance.Placement?.AvailabilityZone;
      return {
        id: instanceId,
        account: reservation.OwnerId,
        region: zone ? zone.replace(/[a-z]$/, '') : o.aws.region,
        launchTime: instance.LaunchTime?.toISOString(),
        ami: instance.ImageId,
        state: instance.State?.Name,
        userData: encoded ? Buffer.from(encoded, 'base64').toString('utf8') : undefined,
      };
    },

    async stackInstances(name, version) {
      const ids: string[] = [];
      let nextToken: string | undefined;
      do {
        const page = await ec2.send(
          new DescribeInstancesCommand({
            Filters: [
              { Name: 'tag:StackName', Values: [name] },
              { Name: 'tag:StackVersion', Values: [version] },
            ],
            NextToken: nextToken,
          }),
        );
        for (const r of page.Reservations ?? [])
          for (const i of r.Instances ?? []) if (i.InstanceId) ids.push(i.InstanceId);
        nextToken = page.NextToken;
      } while (nextToken);
      return ids;
    },

    async tag(team, artifact, tag) {
      const found = await orUndefined(
        o.pierone.parsed(
          TagSchema,
          'a tag',
          'GET',
          `/teams/${path(team)}/artifacts/${path(artifact)}/tags/${path(tag)}`,
        ),
      );
      if (!found) return undefined;
      return {
        team,
        artifact,
        tag,
        image: found.image,
        manifestDigest: await manifestDigest(team, artifact, tag),
        created: found.created,
        createdBy: found.created_by,
      };
    },

    async tags(team, artifact) {
      const found = await orUndefined(
        o.pierone.parsed(
          z.array(TagSchema),
          'tags',
          'GET',
          `/teams/${path(team)}/artifacts/${path(artifact)}/tags`,
        ),
      );
      return (found ?? []).map((t) => t.name);
    },

    async tagsOfDigest(digest) {
      const found = await orUndefined(
        o.pierone.parsed(
          z.array(TagSearchResultSchema),
          'tags',
          'GET',
          `/tags/${encodeURIComponent(digest)}`,
        ),
      );
      return (found ?? []).map((t) => ({ team: t.team, artifact: t.artifact, tag: t.name }));
    },

    async scmSource(team, artifact, tag) {
      const ScmSchema = z.object({
        url: z.string(),
        revision: z.string(),
        author: z.string(),
        status: z.string(),
      });
      return orUndefined(
        o.pierone.parsed(
          ScmSchema,
          'a scm-source',
          'GET',
          `/teams/${path(team)}/artifacts/${path(artifact)}/tags/${path(tag)}/scm-source`,
        ),
      );
    },

    async attestations(team, artifact, digest): Promise<StoredAttestation[]> {
      const repo = path(team, artifact);
      const referrers = await o.pierone.parsed(
        ReferrersSchema,
        'referrers',
        'GET',
        `/v2/${repo}/referrers/${digest}?artifactType=${encodeURIComponent(DSSE_ENVELOPE_MEDIA_TYPE)}`,
      );
      const out: StoredAttestation[] = [];
      for (const m of referrers.manifests.filter((r) => r.artifactType === DSSE_ENVELOPE_MEDIA_TYPE)) {
        const manifest = await o.pierone.parsed(
          ArtifactManifestSchema,
          'an attestation manifest',
          'GET',
          `/v2/${repo}/manifests/${m.digest}`,
        );
        const blob = await o.pierone.request('GET', `/v2/${repo}/blobs/${manifest.layers[0]!.digest}`);
        const text = await o.pierone.readText(blob);
        let envelope: unknown = text;
        try {
          envelope = JSON.parse(text);
        } catch {
          // Not JSON: verification says ENVELOPE_INVALID.
        }
        out.push({ digest: m.digest, created: '', created_by: '', envelope: blob.ok ? envelope : undefined });
      }
      return out;
    },

    async jwks(): Promise<Jwks> {
      return await o.pierone.parsed(JwksSchema, 'a key set', 'GET', '/.well-known/attestation-jwks.json');
    },

    async application(id) {
      const app = await orUndefined(
        o.kio.parsed(ApplicationSchema, 'an application', 'GET', `/apps/${path(id)}`),
      );
      if (!app) return undefined;
      return {
        id: app.id,
        team: app.team_id,
        active: app.active,
        criticality: app.criticality_level,
        specificationUrl: app.specification_url,
      };
    },

    async openViolations(applicationId) {
      const page = await o.fullstop.parsed(
        ViolationPageSchema,
        'violations',
        'GET',
        `/api/violations?application-ids=${encodeURIComponent(applicationId)}&checked=false&size=1000`,
      );
      return page.content.map((v) => ({
        id: v.id,
        type: v.violation_type.id,
        instanceId: v.instance_id,
        created: v.created,
      }));
    },

    commitMessage,
  };
}
