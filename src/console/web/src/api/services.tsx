import { type HttpClient, isNotFound } from './http-client';
import type {
  AccessRequest,
  Application,
  ApplicationChange,
  AuditEvent,
  AuditQuery,
  AwsAccount,
  AwsRole,
  DeletedTag,
  ImageManifest,
  MintApp,
  MintAppPut,
  MintAppSummary,
  NewRiskAcceptance,
  RiskAcceptance,
  RiskAcceptanceCriteria,
  RiskAcceptanceDryRun,
  ResourceType,
  ResourceTypePermission,
  ResourceTypeSummary,
  RetentionPlan,
  RetentionRule,
  ScmSource,
  Scope,
  SshKey,
  Tag,
  Team,
  TeamDetail,
  TeamUsage,
  TrendDay,
  User,
  UserInfo,
  Violation,
  ViolationPage,
  ViolationQuery,
  ViolationType,
} from './types';

import type { Trace } from '../../../../trace/chain.js';
import type { SandboxAccountView, SandboxEvent, SandboxStatus } from '../../../../sandbox/contract.js';

const seg = encodeURIComponent;

/** Every call the pages make, one function each, so that pages never build URLs themselves. */
export function createApi(http: HttpClient) {
  return {
    userInfo: () => http.get<UserInfo>('token-service', '/oauth2/userinfo'),
    teamsOf: (uid: string) => http.get<Team[]>('teams', '/api/teams', { query: { member: uid } }),
    allTeams: () => http.get<Team[]>('teams', '/api/teams'),
    team: (id: string) => http.get<TeamDetail>('teams', `/api/teams/${seg(id)}`),
    awsAccounts: () => http.get<AwsAccount[]>('teams', '/api/accounts/aws'),
    /** Accounts owned by the teams `uid` is a member of. */
    awsRoles: () => http.get<AwsRole[]>('token-service', '/aws/roles'),
    awsAccountsOf: (uid: string) =>
      http.get<AwsAccount[]>('teams', '/api/accounts/aws', { query: { member: uid } }),

    employees: () => http.get<User[]>('users', '/employees'),
    employee: (uid: string) => http.get<User>('users', `/employees/${seg(uid)}`),
    sshKeys: (uid: string) => http.get<SshKey[]>('users', `/employees/${seg(uid)}/ssh-keys`),
    addSshKey: (uid: string, publicKey: string) =>
      http.post<SshKey>('users', `/employees/${seg(uid)}/ssh-keys`, { public_key: publicKey }),
    removeSshKey: (uid: string, fingerprint: string) =>
      http.delete('users', `/employees/${seg(uid)}/ssh-keys/${seg(fingerprint)}`),

    listApplications: (query: { team_id?: string; limit?: number; offset?: number }, signal?: AbortSignal) =>
      http.get<Application[]>('kio', '/apps', { query, ...(signal ? { signal } : {}) }),
    searchApplications: (search: string, signal?: AbortSignal) =>
      http.get<Application[]>('kio', '/apps', { query: { search }, ...(signal ? { signal } : {}) }),
    getApplication: (id: string) => http.get<Application>('kio', `/apps/${seg(id)}`),
    /** true when the id is taken, false when it is free. */
    applicationExists: async (id: string, signal?: AbortSignal) => {
      try {
        await http.get<Application>('kio', `/apps/${seg(id)}`, signal ? { signal } : {});
        return true;
      } catch (error) {
        if (isNotFound(error)) return false;
        throw error;
      }
    },
    putApplication: (id: string, body: Record<string, unknown>) =>
      http.put<Application>('kio', `/apps/${seg(id)}`, body),
    applicationHistory: (id: string) => http.get<ApplicationChange[]>('kio', `/apps/${seg(id)}/history`),

    accessRequests: (query: { username?: string; limit?: number }, signal?: AbortSignal) =>
      http.get<AccessRequest[]>('even', '/access-requests', { query, ...(signal ? { signal } : {}) }),
    /** even answers a plain sentence ("Access to host … was granted."); refusals are problems. */
    requestAccess: (body: { hostname: string; reason: string; lifetime_minutes?: number }) =>
      http.post<unknown>('even', '/access-requests', body),
    revokeAccess: (id: number) => http.delete('even', `/access-requests/${id}`),

    auditEvents: (query: AuditQuery, signal?: AbortSignal) =>
      http.get<AuditEvent[]>('teams', '/audit-events', {
        query: { ...query },
        ...(signal ? { signal } : {}),
      }),

    pieroneTeams: () => http.get<string[]>('pierone', '/teams'),
    artifacts: (team: string) => http.get<string[]>('pierone', `/teams/${seg(team)}/artifacts`),
    /** Tags oldest first; an empty list when the artifact has none (Pier One answers 404). */
    tags: async (team: string, artifact: string) => {
      try {
        return await http.get<Tag[]>('pierone', `/teams/${seg(team)}/artifacts/${seg(artifact)}/tags`);
      } catch (error) {
        if (isNotFound(error)) return [];
        throw error;
      }
    },
    /** The image's manifest from Pier One's registry API (the console's token is a registry token too). */
    manifest: (team: string, artifact: string, tag: string) =>
      http.get<ImageManifest>('pierone', `/v2/${seg(team)}/${seg(artifact)}/manifests/${seg(tag)}`, {
        accept: [
          'application/vnd.oci.image.manifest.v1+json',
          'application/vnd.docker.distribution.manifest.v2+json',
          'application/vnd.oci.image.index.v1+json',
          'application/vnd.docker.distribution.manifest.list.v2+json',
        ].join(', '),
      }),
    /** Tags a platform admin or a retention rule deleted: who, when and why (newest first). */
    deletedTags: (team: string, artifact: string) =>
      http.get<DeletedTag[]>('pierone', `/teams/${seg(team)}/artifacts/${seg(artifact)}/deleted-tags`),
    /** Storage a team uses, per repository, and its quota. */
    teamUsage: (team: string) => http.get<TeamUsage>('pierone', `/teams/${seg(team)}/usage`),
    retentionRules: (team: string) =>
      http.get<RetentionRule[]>('pierone', `/teams/${seg(team)}/retention-rules`),
    /** The retention dry run: what the team's rules would delete now. */
    retentionPlan: (team: string) => http.get<RetentionPlan>('pierone', `/teams/${seg(team)}/retention-plan`),
    scmSource: async (team: string, artifact: string, tag: string) => {
      try {
        return await http.get<ScmSource>(
          'pierone',
          `/teams/${seg(team)}/artifacts/${seg(artifact)}/tags/${seg(tag)}/scm-source`,
        );
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw error;
      }
    },

    /** The application's mint configuration and status; undefined when mint has none for it. */
    mintApp: async (id: string, signal?: AbortSignal) => {
      try {
        return await http.get<MintApp>('mint', `/apps/${seg(id)}`, signal ? { signal } : {});
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw error;
      }
    },
    putMintApp: (id: string, body: MintAppPut) => http.put<MintApp>('mint', `/apps/${seg(id)}`, body),
    /** Both credentials turn over on the worker's next run. */
    renewMintApp: (id: string) => http.post<unknown>('mint', `/apps/${seg(id)}/renewal`, {}),
    /** Applications whose mint configuration grants a scope of the resource type. */
    mintAppsUsing: (resourceTypeId: string, signal?: AbortSignal) =>
      http.get<MintAppSummary[]>('mint', '/apps', {
        query: { resource_type_id: resourceTypeId },
        ...(signal ? { signal } : {}),
      }),

    violations: (query: ViolationQuery, signal?: AbortSignal) =>
      http.get<ViolationPage>('fullstop', '/api/violations', {
        query: { ...query },
        ...(signal ? { signal } : {}),
      }),
    violation: (id: string, signal?: AbortSignal) =>
      http.get<Violation>('fullstop', `/api/violations/${seg(id)}`, signal ? { signal } : {}),
    /** `stups trace`, walked by the platform with the caller's token. */
    trace: (subject: string, verify: boolean, signal?: AbortSignal) =>
      http.get<Trace>('fullstop', '/api/trace', {
        query: { subject, verify },
        ...(signal ? { signal } : {}),
      }),
    violationTypes: () => http.get<ViolationType[]>('fullstop', '/api/violation-types'),

    sandboxStatus: () => http.get<SandboxStatus>('sandbox', '/status'),
    sandboxAccounts: (query: { holder?: string } = {}) =>
      http.get<SandboxAccountView[]>('sandbox', '/accounts', { query }),
    sandboxIncidents: () => http.get<SandboxEvent[]>('sandbox', '/incidents'),
    /** The comment is the raw request body, as the STUPS clients send it. */
    resolveViolation: (id: number, comment: string) =>
      http.postText<Violation>('fullstop', `/api/violations/${id}/resolution`, comment),
    /** Found, resolved and open per day; `team` unset: all the caller's teams. */
    violationTrend: (query: { team?: string; days?: number }, signal?: AbortSignal) =>
      http.get<TrendDay[]>('fullstop', '/api/violation-trend', {
        query: { ...query },
        ...(signal ? { signal } : {}),
      }),
    riskAcceptances: (
      query: { team?: string; status?: 'active' | 'expired' | 'all' },
      signal?: AbortSignal,
    ) =>
      http.get<RiskAcceptance[]>('fullstop', '/api/risk-acceptances', {
        query: { ...query },
        ...(signal ? { signal } : {}),
      }),
    riskAcceptance: (id: string, signal?: AbortSignal) =>
      http.get<RiskAcceptance>('fullstop', `/api/risk-acceptances/${seg(id)}`, signal ? { signal } : {}),
    createRiskAcceptance: (body: NewRiskAcceptance) =>
      http.post<RiskAcceptance>('fullstop', '/api/risk-acceptances', body),
    /** What an acceptance would cover, without storing anything. */
    dryRunRiskAcceptance: (body: { criteria: RiskAcceptanceCriteria; team: string }) =>
      http.post<RiskAcceptanceDryRun>('fullstop', '/api/risk-acceptances/dry-run', body),
    expireRiskAcceptance: (id: number, reason?: string) =>
      http.post<RiskAcceptance>('fullstop', `/api/risk-acceptances/${id}/expire`, reason ? { reason } : {}),

    resourceTypes: () => http.get<ResourceTypeSummary[]>('essentials', '/resource-types'),
    resourceType: (id: string) => http.get<ResourceType>('essentials', `/resource-types/${seg(id)}`),
    /** Whether the signed-in person may create (or change) the type `id`: essentials' own rule. */
    resourceTypePermission: (id: string, signal?: AbortSignal) =>
      http.get<ResourceTypePermission>(
        'essentials',
        `/resource-types/${seg(id)}/permission`,
        signal ? { signal } : {},
      ),
    resourceTypeExists: async (id: string) => {
      try {
        await http.get<ResourceType>('essentials', `/resource-types/${seg(id)}`);
        return true;
      } catch (error) {
        if (isNotFound(error)) return false;
        throw error;
      }
    },
    putResourceType: (id: string, body: Record<string, unknown>) =>
      http.put<ResourceType>('essentials', `/resource-types/${seg(id)}`, body),
    scopes: (typeId: string) => http.get<Scope[]>('essentials', `/resource-types/${seg(typeId)}/scopes`),
    scope: (typeId: string, scopeId: string) =>
      http.get<Scope>('essentials', `/resource-types/${seg(typeId)}/scopes/${seg(scopeId)}`),
    putScope: (typeId: string, scopeId: string, body: Record<string, unknown>) =>
      http.put<Scope>('essentials', `/resource-types/${seg(typeId)}/scopes/${seg(scopeId)}`, body),
  };
}

export type Api = ReturnType<typeof createApi>;
