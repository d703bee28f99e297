import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Audit } from '../platform/audit/create-audit.js';
import { auditRefusals } from '../platform/audit/refusal-audit.js';
import { principalOf, requireAuth } from '../platform/auth/http-auth.js';
import type { TokenVerifier } from '../platform/auth/token-verifier.js';
import type { HttpApp } from '../platform/http/create-http-app.js';
import {
  ResourceTypePermissionSchema,
  ResourceTypeIdSchema,
  ResourceTypePutSchema,
  ResourceTypeSchema,
  ResourceTypeSummarySchema,
  ScopeIdSchema,
  ScopePutSchema,
  ScopeSchema,
} from './contract.js';
import type { EssentialsActor, EssentialsRegistry } from './essentials-registry.js';
import type { EssentialsEvent } from './events.js';

// Reads accept any short string: an id that cannot exist is simply not found.
const TypeParams = z.object({ id: z.string().min(1).max(200) });
const ScopeParams = TypeParams.extend({ scope: z.string().min(1).max(200) });

function actorOf(request: FastifyRequest): EssentialsActor {
  const principal = principalOf(request);
  return { uid: principal.uid, realm: principal.realm, principal };
}

/** essentials' HTTP API: `/resource-types…` and their `/scopes…`. */
export function registerEssentialsRoutes(
  app: HttpApp,
  deps: { registry: EssentialsRegistry; verifier: TokenVerifier; audit: Audit<EssentialsEvent> },
): void {
  const { registry, audit } = deps;
  auditRefusals(app, audit);
  const authenticated = requireAuth(deps.verifier);
  const types = { tags: ['resource types'], security: [{ bearer: [] }] };
  const scopes = { tags: ['scopes'], security: [{ bearer: [] }] };

  app.get(
    '/resource-types',
    {
      preHandler: authenticated,
      schema: {
        ...types,
        summary: 'All resource types',
        response: { 200: z.array(ResourceTypeSummarySchema) },
      },
    },
    async () => registry.listTypes(),
  );
  app.get(
    '/resource-types/:id',
    {
      preHandler: authenticated,
      schema: {
        ...types,
        summary: 'One resource type',
        params: TypeParams,
        response: { 200: ResourceTypeSchema },
      },
    },
    async (request) => registry.getType(request.params.id),
  );
  app.get(
    '/resource-types/:id/permission',
    {
      preHandler: authenticated,
      schema: {
        ...types,
        summary: 'Whether the caller may create or change this resource type and its scopes',
        params: TypeParams,
        response: { 200: ResourceTypePermissionSchema },
      },
    },
    async (request) => registry.permission(principalOf(request), request.params.id),
  );
  app.put(
    '/resource-types/:id',
    {
      preHandler: authenticated,
      config: audit.route('essentials.resource_type.put'),
      schema: {
        ...types,
        summary: 'Create a resource type or merge fields into it',
        params: z.object({ id: ResourceTypeIdSchema }),
        body: ResourceTypePutSchema,
        response: { 200: ResourceTypeSchema, 201: ResourceTypeSchema },
      },
    },
    async (request, reply) => {
      const { type, created } = await registry.putType(
        actorOf(request),
        request.params.id,
        request.body,
        request.id,
      );
      if (created) reply.status(201).header('location', `/resource-types/${type.id}`);
      return type;
    },
  );
  app.delete(
    '/resource-types/:id',
    {
      preHandler: authenticated,
      config: audit.route('essentials.resource_type.delete'),
      schema: { ...types, summary: 'Delete a resource type and its scopes', params: TypeParams },
    },
    async (request, reply) => {
      await registry.deleteType(actorOf(request), request.params.id, request.id);
      return reply.status(204).send();
    },
  );

  app.get(
    '/resource-types/:id/scopes',
    {
      preHandler: authenticated,
      schema: {
        ...scopes,
        summary: 'Scopes of a resource type',
        params: TypeParams,
        response: { 200: z.array(ScopeSchema) },
      },
    },
    async (request) => registry.listScopesOf(request.params.id),
  );
  app.get(
    '/resource-types/:id/scopes/:scope',
    {
      preHandler: authenticated,
      schema: { ...scopes, summary: 'One scope', params: ScopeParams, response: { 200: ScopeSchema } },
    },
    async (request) => registry.getScopeOf(request.params.id, request.params.scope),
  );
  app.put(
    '/resource-types/:id/scopes/:scope',
    {
      preHandler: authenticated,
      config: audit.route('essentials.scope.put'),
      schema: {
        ...scopes,
        summary: 'Create a scope or merge fields into it',
        params: z.object({ id: ResourceTypeIdSchema, scope: ScopeIdSchema }),
        body: ScopePutSchema,
        response: { 200: ScopeSchema, 201: ScopeSchema },
      },
    },
    async (request, reply) => {
      const { id, scope: scopeId } = request.params;
      const { scope, created } = await registry.putScope(
        actorOf(request),
        id,
        scopeId,
        request.body,
        request.id,
      );
      if (created) reply.status(201).header('location', `/resource-types/${id}/scopes/${scope.id}`);
      return scope;
    },
  );
  app.delete(
    '/resource-types/:id/scopes/:scope',
    {
      preHandler: authenticated,
      config: audit.route('essentials.scope.delete'),
      schema: { ...scopes, summary: 'Delete a scope', params: ScopeParams },
    },
    async (request, reply) => {
      await registry.deleteScope(actorOf(request), request.params.id, request.params.scope, request.id);
      return reply.status(204).send();
    },
  );
}
