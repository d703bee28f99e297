import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { auditRefusals } from '../platform/audit/refusal-audit.js';
import { principalOf, requireAuth } from '../platform/auth/http-auth.js';
import type { TokenVerifier } from '../platform/auth/token-verifier.js';
import { TeamPolicy } from '../platform/authz/team-policy.js';
import type { AdminPolicy } from '../platform/auth/http-auth.js';
import { NotFoundError } from '../platform/errors.js';
import type { HttpApp } from '../platform/http/create-http-app.js';
import type { TokenServiceAudit } from './audit.js';
import type { ClientStore } from './client-store.js';
import {
  GRANT_TYPES,
  type OAuthClient,
  RealmNameSchema,
  ScopeSchema,
  type ServiceUser,
  ServiceUserInputSchema,
} from './contract.js';
import type { ServiceUserStore } from './service-user-store.js';

/*
 * The admin API of the token service (issue 13 §4): service users (mint's `user.json`) and OAuth
 * clients (`client.json`). Administrators only; every write is audited in its transaction, every
 * refusal on its own. Generated passwords and secrets are in the answer of create and rotate only:
 * they are stored as scrypt hashes and never shown or logged again.
 */

const ServiceUserNameSchema = ServiceUserInputSchema.shape.username;
const ClientIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/, 'letters, digits, ".", "_", ":", "-"');

export const ServiceUserViewSchema = z.object({
  username: z.string(),
  application_id: z.string().nullable(),
  team_id: z.string().nullable(),
  scopes: z.array(z.string()),
  disabled: z.boolean(),
});
const ServiceUserWithPasswordSchema = ServiceUserViewSchema.extend({
  password: z.string().describe('Shown once: stored only as a hash'),
});

export const CreateServiceUserSchema = z.strictObject({
  username: ServiceUserNameSchema,
  application_id: z.string().min(1).nullable().default(null),
  team_id: z.string().min(1).nullable().default(null),
  scopes: z.array(ScopeSchema).default([]),
});
export const UpdateServiceUserSchema = z.strictObject({
  application_id: z.string().min(1).nullable().optional(),
  team_id: z.string().min(1).nullable().optional(),
  scopes: z.array(ScopeSchema).optional(),
  disabled: z.boolean().optional(),
});

export const ClientViewSchema = z.object({
  client_id: z.string(),
  name: z.string(),
  type: z.enum(['public', 'confidential']),
  realms: z.array(RealmNameSchema),
  grant_types: z.array(z.string()),
  redirect_uris: z.array(z.string()),
  scopes: z.array(z.string()).nullable(),
  disabled: z.boolean(),
});
const ClientWithSecretSchema = ClientViewSchema.extend({
  client_secret: z.string().optional().describe('Shown once (confidential clients): stored only as a hash'),
});

export const CreateClientSchema = z.strictObject({
  client_id: ClientIdSchema,
  name: z.string().min(1).optional(),
  type: z.enum(['public', 'confidential']).default('confidential'),
  realms: z.array(RealmNameSchema).min(1).default(['services']),
  grant_types: z.array(z.enum(GRANT_TYPES)).min(1).default(['password', 'client_credentials']),
  redirect_uris: z.array(z.url()).default([]),
  scopes: z.array(ScopeSchema).nullable().default(null),
});
export const UpdateClientSchema = z.strictObject({
  name: z.string().min(1).optional(),
  realms: z.array(RealmNameSchema).min(1).optional(),
  grant_types: z.array(z.enum(GRANT_TYPES)).min(1).optional(),
  redirect_uris: z.array(z.url()).optional(),
  scopes: z.array(ScopeSchema).nullable().optional(),
  disabled: z.boolean().optional(),
});

export function serviceUserView(user: ServiceUser): z.infer<typeof ServiceUserViewSchema> {
  return {
    username: user.username,
    application_id: user.applicationId,
    team_id: user.teamId,
    scopes: user.scopes,
    disabled: user.disabled,
  };
}

export function clientView(client: OAuthClient): z.infer<typeof ClientViewSchema> {
  return {
    client_id: client.clientId,
    name: client.name,
    type: client.type,
    realms: client.realms,
    grant_types: client.grantTypes,
    redirect_uris: client.redirectUris,
    scopes: client.scopes,
    disabled: client.disabled,
  };
}

const NameParams = z.object({ username: ServiceUserNameSchema });
const ClientParams = z.object({ client_id: ClientIdSchema });
/** Answers that must not be kept by any cache: they may carry a secret. */
const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' };

export function registerAdminRoutes(
  app: HttpApp,
  deps: {
    verifier: TokenVerifier;
    adminPolicy: AdminPolicy;
    audit: TokenServiceAudit;
    serviceUsers: ServiceUserStore;
    clients: ClientStore;
  },
): void {
  const { audit, serviceUsers, clients } = deps;
  auditRefusals(app, audit);
  const authenticated = requireAuth(deps.verifier);
  // Only the administrator rule is asked here; teams and applications play no part.
  const policy = new TeamPolicy({
    teams: { isMember: async () => false },
    applications: { getApplication: async () => undefined },
    adminPolicy: deps.adminPolicy,
  });
  const admin = (request: FastifyRequest, what: string) => {
    const principal = principalOf(request);
    policy.assertAdmin(principal, what);
    return principal;
  };
  const users = { tags: ['admin'], security: [{ bearer: [] }] };

  app.get(
    '/admin/service-users',
    {
      preHandler: authenticated,
      schema: {
        ...users,
        summary: 'List service users (administrators)',
        response: { 200: z.array(ServiceUserViewSchema) },
      },
    },
    async (request) => {
      admin(request, 'list service users');
      return (await serviceUsers.listServiceUsers()).map(serviceUserView);
    },
  );

  app.post(
    '/admin/service-users',
    {
      preHandler: authenticated,
      config: audit.route('token-service.service_user.create'),
      schema: {
        ...users,
        summary: 'Create a service user with a generated password, shown once (administrators)',
        body: CreateServiceUserSchema,
        response: { 201: ServiceUserWithPasswordSchema },
      },
    },
    async (request, reply) => {
      const actor = admin(request, 'create service users');
      const { username, application_id, team_id, scopes } = request.body;
      const created = await serviceUsers.createServiceUser(
        { username, applicationId: application_id, teamId: team_id, scopes },
        actor,
        request.id,
      );
      reply.status(201).headers(NO_STORE);
      return { ...serviceUserView(created.serviceUser), password: created.password };
    },
  );

  app.get(
    '/admin/service-users/:username',
    {
      preHandler: authenticated,
      schema: {
        ...users,
        summary: 'One service user (administrators)',
        params: NameParams,
        response: { 200: ServiceUserViewSchema },
      },
    },
    async (request) => {
      admin(request, 'read service users');
      const user = await serviceUsers.getServiceUser(request.params.username);
      if (!user) throw new NotFoundError(`service user ${request.params.username} does not exist`);
      return serviceUserView(user);
    },
  );

  app.patch(
    '/admin/service-users/:username',
    {
      preHandler: authenticated,
      config: audit.route('token-service.service_user.update'),
      schema: {
        ...users,
        summary: 'Change scopes, application, team or the disabled flag (administrators)',
        params: NameParams,
        body: UpdateServiceUserSchema,
        response: { 200: ServiceUserViewSchema },
      },
    },
    async (request) => {
      const actor = admin(request, 'change service users');
      const { application_id, team_id, scopes, disabled } = request.body;
      const user = await serviceUsers.updateServiceUser(
        request.params.username,
        {
          ...(application_id !== undefined ? { applicationId: application_id } : {}),
          ...(team_id !== undefined ? { teamId: team_id } : {}),
          ...(scopes !== undefined ? { scopes } : {}),
          ...(disabled !== undefined ? { disabled } : {}),
        },
        actor,
        request.id,
      );
      return serviceUserView(user);
    },
  );

  app.post(
    '/admin/service-users/:username/password',
    {
      preHandler: authenticated,
      config: audit.route('token-service.service_user.rotate'),
      schema: {
        ...users,
        summary: 'Rotate the password: a new generated one, shown once; the old one stops working',
        params: NameParams,
        response: { 200: ServiceUserWithPasswordSchema },
      },
    },
    async (request, reply) => {
      const actor = admin(request, 'rotate service user passwords');
      const rotated = await serviceUsers.rotatePassword(request.params.username, actor, request.id);
      reply.headers(NO_STORE);
      return { ...serviceUserView(rotated.serviceUser), password: rotated.password };
    },
  );

  app.post(
    '/admin/service-users/:username/disable',
    {
      preHandler: authenticated,
      config: audit.route('token-service.service_user.disable'),
      schema: {
        ...users,
        summary: 'Disable a service user: its password and its tokens stop working (administrators)',
        params: NameParams,
        response: { 200: ServiceUserViewSchema },
      },
    },
    async (request) => {
      const actor = admin(request, 'disable service users');
      return serviceUserView(
        await serviceUsers.updateServiceUser(request.params.username, { disabled: true }, actor, request.id),
      );
    },
  );

  app.delete(
    '/admin/service-users/:username',
    {
      preHandler: authenticated,
      config: audit.route('token-service.service_user.delete'),
      schema: {
        ...users,
        summary: 'Delete a service user; its tokens are refused from then on (administrators)',
        params: NameParams,
      },
    },
    async (request, reply) => {
      const actor = admin(request, 'delete service users');
      await serviceUsers.deleteServiceUser(request.params.username, actor, request.id);
      reply.status(204).send();
    },
  );

  // --- OAuth clients ---

  app.get(
    '/admin/clients',
    {
      preHandler: authenticated,
      schema: {
        ...users,
        summary: 'List OAuth clients (administrators)',
        response: { 200: z.array(ClientViewSchema) },
      },
    },
    async (request) => {
      admin(request, 'list OAuth clients');
      return (await clients.listClients()).map(clientView);
    },
  );

  app.post(
    '/admin/clients',
    {
      preHandler: authenticated,
      config: audit.route('token-service.client.create'),
      schema: {
        ...users,
        summary: 'Create an OAuth client; a confidential one gets a generated secret, shown once',
        body: CreateClientSchema,
        response: { 201: ClientWithSecretSchema },
      },
    },
    async (request, reply) => {
      const actor = admin(request, 'create OAuth clients');
      const body = request.body;
      const created = await clients.createClient(
        {
          clientId: body.client_id,
          ...(body.name !== undefined ? { name: body.name } : {}),
          type: body.type,
          realms: body.realms,
          grantTypes: body.grant_types,
          redirectUris: body.redirect_uris,
          scopes: body.scopes,
        },
        actor,
        request.id,
      );
      reply.status(201).headers(NO_STORE);
      return {
        ...clientView(created.client),
        ...(created.secret !== undefined ? { client_secret: created.secret } : {}),
      };
    },
  );

  app.get(
    '/admin/clients/:client_id',
    {
      preHandler: authenticated,
      schema: {
        ...users,
        summary: 'One OAuth client (administrators)',
        params: ClientParams,
        response: { 200: ClientViewSchema },
      },
    },
    async (request) => {
      admin(request, 'read OAuth clients');
      const client = await clients.getClient(request.params.client_id);
      if (!client) throw new NotFoundError(`client ${request.params.client_id} does not exist`);
      return clientView(client);
    },
  );

  app.patch(
    '/admin/clients/:client_id',
    {
      preHandler: authenticated,
      config: audit.route('token-service.client.update'),
      schema: {
        ...users,
        summary: 'Change scopes, redirect URIs, grant types, realms, name or the disabled flag',
        params: ClientParams,
        body: UpdateClientSchema,
        response: { 200: ClientViewSchema },
      },
    },
    async (request) => {
      const actor = admin(request, 'change OAuth clients');
      const body = request.body;
      const client = await clients.updateClient(
        request.params.client_id,
        {
          ...(body.name !== undefined ? { name: body.name } : {}),
          ...(body.realms !== undefined ? { realms: body.realms } : {}),
          ...(body.grant_types !== undefined ? { grantTypes: body.grant_types } : {}),
          ...(body.redirect_uris !== undefined ? { redirectUris: body.redirect_uris } : {}),
          ...(body.scopes !== undefined ? { scopes: body.scopes } : {}),
          ...(body.disabled !== undefined ? { disabled: body.disabled } : {}),
        },
        actor,
        request.id,
      );
      return clientView(client);
    },
  );

  app.post(
    '/admin/clients/:client_id/secret',
    {
      preHandler: authenticated,
      config: audit.route('token-service.client.rotate'),
      schema: {
        ...users,
        summary: 'Rotate the secret of a confidential client: a new one, shown once',
        params: ClientParams,
        response: { 200: ClientWithSecretSchema },
      },
    },
    async (request, reply) => {
      const actor = admin(request, 'rotate client secrets');
      const rotated = await clients.rotateSecret(request.params.client_id, actor, request.id);
      reply.headers(NO_STORE);
      return { ...clientView(rotated.client), client_secret: rotated.secret };
    },
  );

  app.post(
    '/admin/clients/:client_id/disable',
    {
      preHandler: authenticated,
      config: audit.route('token-service.client.disable'),
      schema: {
        ...users,
        summary: 'Disable an OAuth client: it can no longer authenticate (administrators)',
        params: ClientParams,
        response: { 200: ClientViewSchema },
      },
    },
    async (request) => {
      const actor = admin(request, 'disable OAuth clients');
      return clientView(
        await clients.updateClient(request.params.client_id, { disabled: true }, actor, request.id),
      );
    },
  );

  app.delete(
    '/admin/clients/:client_id',
    {
      preHandler: authenticated,
      config: audit.route('token-service.client.delete'),
      schema: {
        ...users,
        summary: 'Delete an OAuth client (administrators)',
        params: ClientParams,
      },
    },
    async (request, reply) => {
      const actor = admin(request, 'delete OAuth clients');
      await clients.deleteClient(request.params.client_id, actor, request.id);
      reply.status(204).send();
    },
  );
}
