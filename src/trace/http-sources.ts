import {
  CloudFormationClient,
  GetTemplateCommand,
  paginateDescribeStacks,
} from '@aws-sdk/client-cloudformation';
import {
  DescribeImagesCommand,
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import {
  ListResourceRecordSetsCommand,
  type ListResourceRecordSetsCommandInput,
  paginateListHostedZones,
  Route53Client,
} from '@aws-sdk/client-route-53';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { AccountAccess } from '../fullstop/aws/assume-role.js';
import { ViolationPageSchema } from '../fullstop/contract.js';
import { RiskAcceptanceSchema } from '../fullstop/risk-acceptances/contract.js';
import { AccessRequestSchema } from '../even/contract.js';
import { AwsAccountSchema } from '../teams/contract.js';
import { ApplicationSchema } from '../kio/contract.js';
import { TagSchema, TagSearchResultSchema } from '../pierone/contract.js';
import { DSSE_ENVELOPE_MEDIA_TYPE } from '../pierone/provenance/dsse.js';
import type { StoredAttestation } from '../pierone/provenance/directory.js';
import type { Jwks } from '../pierone/provenance/verify.js';
import { type AwsSettings, awsClientConfig } from '../platform/aws/client-config.js';
import { CliError } from '../platform/cli/cli-error.js';
import { HttpError, type HttpClient } from '../platform/cli/http-client.js';
import { commitMessage } from './git-commit.js';
import { newestOfChannel } from './links/ami.js';
import type { DeploymentFacts, TraceSources, ViolationScope } from './sources.js';

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
  /** even, made on first use: only an instance's trace asks it who got SSH access. */
  even: () => Promise<HttpClient>;
  /** The team service (whose the instance's account is); undefined when none is configured. */
  teams: () => Promise<HttpClient | undefined>;
  aws: AwsSettings;
  /** The account the instance runs in and the role to read it with (fullstop's read role). */
  account: string | undefined;
  roleName: string | undefined;
  /**
   * fullstop's reader of the team accounts (the server shares the module's, so each account's
   * role is assumed once for fullstop and the trace); without it, one made with `roleName`.
   */
  access?: AccountAccess | undefined;
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

/** fullstop's query for the violations of an application or of an instance (in its account). */
function violationFilter(scope: ViolationScope): string {
  if ('applicationId' in scope) return `application-ids=${encodeURIComponent(scope.applicationId)}`;
  const account = scope.account ? `&accounts=${encodeURIComponent(scope.account)}` : '';
  return `instance-ids=${encodeURIComponent(scope.instanceId)}${account}`;
}

/** What `stups trace` reads: Pier One, Kio and fullstop over HTTP, EC2 through the AWS SDK, git. */
export function httpSources(o: HttpSourcesOptions): TraceSources {
  const clientConfig = {
    ...awsClientConfig(o.aws),
    ...(o.credentials ? { credentials: o.credentials } : {}),
    // fullstop's reader: the account's role, except for the credentials' own account.
    ...(o.account && (o.access ?? o.roleName)
      ? (o.access ?? new AccountAccess(o.aws, { roleName: o.roleName })).clientOptions(o.account)
      : {}),
  };
  const ec2 = new EC2Client(clientConfig);
  let cloudFormation: CloudFormationClient | undefined;
  let route53: Route53Client | undefined;

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

  return rememberLookups({
    async teamOfAccount(account) {
      const teams = await o.teams();
      if (!teams) return undefined;
      const accounts = await teams.parsed(z.array(AwsAccountSchema), 'accounts', 'GET', '/api/accounts/aws');
      // `name` is the owning team's id, as in the original team service.
      return accounts.find((a) => a.id === account)?.name;
    },

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
        privateIp: instance.PrivateIpAddress,
        privateDnsName: instance.PrivateDnsName || undefined,
      };
    },

    async ami(imageId) {
      let images;
      try {
        ({ Images: images } = await ec2.send(new DescribeImagesCommand({ ImageIds: [imageId] })));
      } catch (error) {
        // EC2 refuses ids it does not know instead of answering an empty list.
        if (error instanceof Error && error.name.startsWith('InvalidAMIID.')) return undefined;
        throw error;
      }
      const image = images?.[0];
      if (!image?.ImageId || image.OwnerId === undefined) return undefined;
      return {
        id: image.ImageId,
        name: image.Name ?? '',
        ownerId: image.OwnerId,
        created: image.CreationDate,
      };
    },

    async newestAmiOfChannel(channel, owners) {
      const { Images = [] } = await ec2.send(
        new DescribeImagesCommand({
          Owners: owners,
          Filters: [
            { Name: 'name', Values: [`${channel}-*`] },
            { Name: 'state', Values: ['available'] },
          ],
        }),
      );
      const images = Images.filter((i) => i.ImageId && i.Name && i.OwnerId !== undefined).map((i) => ({
        id: i.ImageId!,
        name: i.Name!,
        ownerId: i.OwnerId!,
        created: i.CreationDate,
      }));
      return newestOfChannel(images, channel);
    },

    async deployments(applicationId) {
      cloudFormation ??= new CloudFormationClient(clientConfig);
      route53 ??= new Route53Client(clientConfig);
      const out: DeploymentFacts[] = [];
      let weights: Map<string, number> | undefined;
      for await (const page of paginateDescribeStacks({ client: cloudFormation }, {})) {
        for (const stack of page.Stacks ?? []) {
          const tag = (key: string) => stack.Tags?.find((t) => t.Key === key)?.Value;
          const name = tag('StackName');
          const version = tag('StackVersion');
          if (!name || !version || !stack.StackName || stack.StackStatus === 'DELETE_COMPLETE') continue;
          const template = await cloudFormation.send(new GetTemplateCommand({ StackName: stack.StackName }));
          const taupage = taupageConfigsOf(template.TemplateBody).find(
            (c) => c.application_id === applicationId,
          );
          if (!taupage) continue;
          weights ??= await weightedRecords(route53);
          const weight = weights.get(stack.StackName);
          out.push({
            stack: stack.StackName,
            status: stack.StackStatus ?? 'UNKNOWN',
            source: taupage.source,
            applicationVersion: taupage.application_version,
            // Senza keeps Route53 weights at twice the percentage (half percents are possible).
            trafficPercent: weight === undefined ? null : weight / 2,
          });
        }
      }
      return out;
    },

    async accessGrants(hosts) {
      const even = await o.even();
      const wanted = new Set(hosts);
      const out = [];
      for (let offset = 0; ; offset += 1000) {
        const page = await even.parsed(
          z.array(AccessRequestSchema),
          'access requests',
          'GET',
          `/access-requests?limit=1000&offset=${offset}`,
        );
        for (const r of page)
          if (wanted.has(r.hostname) || (r.remote_host !== null && wanted.has(r.remote_host)))
            out.push({
              id: r.id,
              username: r.username,
              hostname: r.hostname,
              remoteHost: r.remote_host,
              reason: r.reason,
              status: r.status,
              created: r.created,
              expiresAt: r.expires_at,
            });
        if (page.length < 1000) return out;
      }
    },

    async loginsWithoutGrant(account, instanceId) {
      const page = await o.fullstop.parsed(
        ViolationPageSchema,
        'violations',
        'GET',
        `/api/violations?type=SSH_LOGIN_WITHOUT_GRANT&checked=false&size=1000${
          account ? `&accounts=${encodeURIComponent(account)}` : ''
        }`,
      );
      return page.content
        .filter((v) => v.instance_id === instanceId)
        .map((v) => {
          const meta = (typeof v.meta_info === 'object' && v.meta_info !== null ? v.meta_info : {}) as Record<
            string,
            unknown
          >;
          const text = (x: unknown) => (typeof x === 'string' ? x : '?');
          return {
            violationId: v.id,
            username: text(meta.username ?? v.username),
            at: text(meta.login_time ?? v.event_time),
            from: text(meta.from),
          };
        });
    },

    async acceptedViolations(scope) {
      const page = await o.fullstop.parsed(
        ViolationPageSchema,
        'violations',
        'GET',
        `/api/violations?${violationFilter(scope)}&whitelisted=true&size=1000`,
      );
      return page.content.map((v) => ({
        id: v.id,
        type: v.violation_type.id,
        instanceId: v.instance_id,
        created: v.created,
        acceptanceId: v.rule_id,
      }));
    },

    async riskAcceptance(id) {
      const a = await orUndefined(
        o.fullstop.parsed(RiskAcceptanceSchema, 'a risk acceptance', 'GET', `/api/risk-acceptances/${id}`),
      );
      return a && { id: a.id, reason: a.reason, team: a.team, createdBy: a.created_by, expires: a.expires };
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

    async openViolations(scope) {
      const page = await o.fullstop.parsed(
        ViolationPageSchema,
        'violations',
        'GET',
        `/api/violations?${violationFilter(scope)}&checked=false&size=1000`,
      );
      return page.content.map((v) => ({
        id: v.id,
        type: v.violation_type.id,
        instanceId: v.instance_id,
        created: v.created,
      }));
    },

    commitMessage,
  });
}

/**
 * The route reads an instance (or a stack's instances) once to find the account it runs in and
 * again in the walk: one sources object answers the same question once, a failure included.
 */
export function rememberLookups(sources: TraceSources): TraceSources {
  const instances = new Map<string, ReturnType<TraceSources['instance']>>();
  const stacks = new Map<string, ReturnType<TraceSources['stackInstances']>>();
  const once = <T>(cache: Map<string, T>, key: string, read: () => T): T => {
    let answer = cache.get(key);
    if (answer === undefined) cache.set(key, (answer = read()));
    return answer;
  };
  return {
    ...sources,
    instance: (instanceId) => once(instances, instanceId, () => sources.instance(instanceId)),
    stackInstances: (name, version) =>
      once(stacks, `${name}\n${version}`, () => sources.stackInstances(name, version)),
  };
}

interface TaupageUserData {
  application_id?: string;
  application_version?: string;
  source?: string;
}

/**
 * The Taupage configs in a Senza template: the user data of its launch configurations and
 * templates, `Fn::Base64` of the YAML text (joined with `Fn::Join` when it holds references;
 * the references themselves are left out, the app, version and image are plain text).
 */
export function taupageConfigsOf(body: string | undefined): TaupageUserData[] {
  let template: unknown;
  try {
    template = body === undefined ? undefined : parseYaml(body);
  } catch {
    return [];
  }
  const text = (node: unknown): string => {
    if (typeof node === 'string') return node;
    if (typeof node === 'object' && node !== null && 'Fn::Join' in node) {
      const join = (node as Record<string, unknown>)['Fn::Join'];
      if (Array.isArray(join) && Array.isArray(join[1]))
        return join[1].map(text).join(typeof join[0] === 'string' ? join[0] : '');
    }
    return '';
  };
  const out: TaupageUserData[] = [];
  const visit = (node: unknown) => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (typeof node !== 'object' || node === null) return;
    for (const [key, value] of Object.entries(node)) {
      if (key === 'UserData' && typeof value === 'object' && value !== null && 'Fn::Base64' in value) {
        try {
          const doc: unknown = parseYaml(text((value as Record<string, unknown>)['Fn::Base64']));
          if (typeof doc === 'object' && doc !== null) {
            const d = doc as Record<string, unknown>;
            const str = (v: unknown) =>
              typeof v === 'string' || typeof v === 'number' ? String(v) : undefined;
            out.push({
              ...(str(d.application_id) ? { application_id: str(d.application_id)! } : {}),
              ...(str(d.application_version) ? { application_version: str(d.application_version)! } : {}),
              ...(str(d.source) ? { source: str(d.source)! } : {}),
            });
          }
        } catch {
          // Not YAML: not a Taupage config.
        }
      } else visit(value);
    }
  };
  visit(template);
  return out;
}

/** Weights of the weighted Route53 records by set identifier (Senza: `<stack>-<version>`). */
async function weightedRecords(route53: Route53Client): Promise<Map<string, number>> {
  const weights = new Map<string, number>();
  for await (const zones of paginateListHostedZones({ client: route53 }, {})) {
    for (const zone of zones.HostedZones ?? []) {
      let input: ListResourceRecordSetsCommandInput = { HostedZoneId: zone.Id! };
      for (;;) {
        const page = await route53.send(new ListResourceRecordSetsCommand(input));
        for (const r of page.ResourceRecordSets ?? []) {
          if (!r.SetIdentifier || r.Weight === undefined) continue;
          // A stack with several weighted domains: the largest share is what it serves.
          weights.set(r.SetIdentifier, Math.max(weights.get(r.SetIdentifier) ?? 0, r.Weight));
        }
        if (!page.IsTruncated) break;
        input = {
          HostedZoneId: zone.Id!,
          StartRecordName: page.NextRecordName,
          StartRecordType: page.NextRecordType,
          StartRecordIdentifier: page.NextRecordIdentifier,
        };
      }
    }
  }
  return weights;
}
