import { z } from 'zod';
import { LenientBoolean, lenientInt } from '../kio/contract.js';

/** Resource type ids as the original essentials validated them, e.g. `sales_order`, `kio.app`. */
export const RESOURCE_TYPE_ID_PATTERN = /^[a-z][a-z0-9-_]*(?:\.[a-z0-9-_]*)?[a-z0-9]$/;
/** Scope ids: one lowercase token, e.g. `read`, `read_all`. */
export const SCOPE_ID_PATTERN = /^[a-z][a-z0-9-_]*[a-z0-9]$|^[a-z]$/;

export const ResourceTypeIdSchema = z
  .string()
  .max(100)
  .regex(RESOURCE_TYPE_ID_PATTERN, 'must match ^[a-z][a-z0-9-_]*(?:\\.[a-z0-9-_]*)?[a-z0-9]$');
export const ScopeIdSchema = z
  .string()
  .max(100)
  .regex(SCOPE_ID_PATTERN, 'must be lowercase letters, digits, dashes and underscores');

/** The scope name tokens carry: `<resource type>.<scope>`, e.g. `sales_order.read_all`. */
export function fullScopeName(resourceTypeId: string, scopeId: string): string {
  return `${resourceTypeId}.${scopeId}`;
}

/**
 * Splits a full scope name into resource type and scope: the scope is the part after the
 * last dot, because resource type ids may contain one dot themselves.
 */
export function parseFullScopeName(name: string): { resourceTypeId: string; scopeId: string } | undefined {
  const dot = name.lastIndexOf('.');
  if (dot <= 0) return undefined;
  const resourceTypeId = name.slice(0, dot);
  const scopeId = name.slice(dot + 1);
  if (!RESOURCE_TYPE_ID_PATTERN.test(resourceTypeId) || !SCOPE_ID_PATTERN.test(scopeId)) return undefined;
  return { resourceTypeId, scopeId };
}

const ResourceOwnerSchema = z
  .string()
  .regex(/^[a-z][a-z0-9_-]{0,62}$/, 'must be a lowercase name such as employees or customers');

export const ResourceTypeSummarySchema = z.object({ id: z.string(), name: z.string() });
export type ResourceTypeSummary = z.infer<typeof ResourceTypeSummarySchema>;

export const ResourceTypeSchema = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string().nullable(),
  resource_owners: z.array(z.string()),
});
export type ResourceType = z.infer<typeof ResourceTypeSchema>;

/**
 * `GET /resource-types/{id}/permission`: whether the caller may create or change the type (and
 * its scopes), so that a page offers "Edit" or "New scope" only to those the write would accept.
 * For a type that does not exist yet, the answer is about creating it under that id.
 */
export const ResourceTypePermissionSchema = z.object({
  may_write: z.boolean(),
  exists: z.boolean(),
  /** The team whose members may write it: fixed at creation, else the namesake application's team. */
  owning_team: z.string().nullable(),
});
export type ResourceTypePermission = z.infer<typeof ResourceTypePermissionSchema>;

/**
 * Body of `PUT /resource-types/{id}`: `name` is needed on creation; absent or `null` fields
 * keep their value. `id` is accepted back (it must match the path).
 */
export const ResourceTypePutSchema = z.strictObject({
  id: z.string().nullish(),
  name: z.string().trim().min(1, 'must not be empty').max(200).nullish(),
  description: z.string().max(10_000).nullish(),
  resource_owners: z.array(ResourceOwnerSchema).max(20).nullish(),
});
export type ResourceTypePut = z.infer<typeof ResourceTypePutSchema>;

export const ScopeSchema = z.object({
  id: z.string(),
  resource_type_id: z.string(),
  summary: z.string(),
  description: z.string().nullable(),
  user_information: z.string().nullable(),
  is_resource_owner_scope: z.boolean(),
  criticality_level: z.number().int(),
});
export type Scope = z.infer<typeof ScopeSchema>;

/** Body of `PUT /resource-types/{id}/scopes/{scope}`; `summary` is needed on creation. */
export const ScopePutSchema = z.strictObject({
  id: z.string().nullish(),
  resource_type_id: z.string().nullish(),
  summary: z.string().trim().min(1, 'must not be empty').max(500).nullish(),
  description: z.string().max(10_000).nullish(),
  user_information: z.string().max(1000).nullish(),
  is_resource_owner_scope: LenientBoolean.nullish(),
  criticality_level: lenientInt(1, 3).nullish(),
});
export type ScopePut = z.infer<typeof ScopePutSchema>;

/** A scope as the token service and mint see it: with its full name and its owners. */
export interface ScopeDefinition extends Scope {
  /** `<resource type>.<scope>` */
  name: string;
  /** Who may grant a resource-owner scope; empty for application scopes' types without owners. */
  resource_owners: string[];
}

/**
 * How the token service and mint ask essentials which scopes exist. They never read the
 * essentials tables.
 */
export interface ScopeCatalog {
  /** `sales_order.read` → its definition, or undefined when no such scope exists. */
  getScope(fullName: string): Promise<ScopeDefinition | undefined>;
  listScopes(): Promise<ScopeDefinition[]>;
}
