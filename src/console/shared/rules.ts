/*
 * The validation rules of Kio and essentials, checked in the browser so that people see a
 * problem while typing. The services stay the authority; a test keeps these patterns equal to
 * the contracts' (importing the contracts here would bundle zod into the page).
 */

export const APPLICATION_ID_PATTERN = /^[a-z][a-z0-9-]*[a-z0-9]$/;
export const RESOURCE_TYPE_ID_PATTERN = /^[a-z][a-z0-9-_]*(?:\.[a-z0-9-_]*)?[a-z0-9]$/;
export const SCOPE_ID_PATTERN = /^[a-z][a-z0-9-_]*[a-z0-9]$|^[a-z]$/;
export const RESOURCE_OWNER_PATTERN = /^[a-z][a-z0-9_-]{0,62}$/;
const MAX_ID_LENGTH = 100;

/** A problem with an application id in plain words, or undefined when it is well-formed. */
export function applicationIdProblem(id: string): string | undefined {
  if (id === '') return 'Enter an id.';
  if (id.length > MAX_ID_LENGTH) return `An id has at most ${MAX_ID_LENGTH} characters.`;
  if (/[A-Z]/.test(id)) return 'Use lowercase letters only.';
  if (!/^[a-z]/.test(id)) return 'The id must start with a letter.';
  if (/[^a-z0-9-]/.test(id)) return 'Use only lowercase letters, digits and dashes.';
  if (!APPLICATION_ID_PATTERN.test(id)) return 'The id must end with a letter or a digit.';
  return undefined;
}

export function resourceTypeIdProblem(id: string): string | undefined {
  if (id === '') return 'Enter an id.';
  if (id.length > MAX_ID_LENGTH) return `An id has at most ${MAX_ID_LENGTH} characters.`;
  if (!/^[a-z]/.test(id)) return 'The id must start with a lowercase letter.';
  if (/[^a-z0-9._-]/.test(id)) return 'Use only lowercase letters, digits, dashes, underscores and one dot.';
  if ((id.match(/\./g) ?? []).length > 1) return 'The id may contain at most one dot.';
  if (!RESOURCE_TYPE_ID_PATTERN.test(id)) return 'The id must end with a letter or a digit.';
  return undefined;
}

export function scopeIdProblem(id: string): string | undefined {
  if (id === '') return 'Enter an id.';
  if (id.length > MAX_ID_LENGTH) return `An id has at most ${MAX_ID_LENGTH} characters.`;
  if (!/^[a-z]/.test(id)) return 'The id must start with a lowercase letter.';
  if (/[^a-z0-9_-]/.test(id)) return 'Use only lowercase letters, digits, dashes and underscores.';
  if (!SCOPE_ID_PATTERN.test(id)) return 'The id must end with a letter or a digit.';
  return undefined;
}

/** `http(s)://host…` or empty; Kio refuses anything else (it renders these as links). */
export function urlProblem(value: string): string | undefined {
  if (value === '') return undefined;
  try {
    const url = new URL(value);
    if ((url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '') return undefined;
  } catch {
    // fall through
  }
  return 'Enter a full address starting with https:// or http://.';
}

/** Splits `employees, customers` into owner names; reports every malformed one. */
export function parseResourceOwners(text: string): { owners: string[]; problem?: string } {
  const owners = [
    ...new Set(
      text
        .split(/[\s,]+/)
        .map((o) => o.trim())
        .filter(Boolean),
    ),
  ];
  const bad = owners.filter((o) => !RESOURCE_OWNER_PATTERN.test(o));
  if (bad.length) {
    return { owners, problem: `Not a valid owner name: ${bad.join(', ')} (lowercase, e.g. employees).` };
  }
  return { owners };
}

export type ScopeKind = 'resource-owner' | 'application';

/**
 * The scope kinds a resource type allows. A resource-owner scope must be granted by the owner
 * of the resource (an employee, a customer), so it exists only on types that have owners; an
 * application scope is assigned to applications in their access control.
 */
export function allowedScopeKinds(resourceOwners: readonly string[]): ScopeKind[] {
  return resourceOwners.length > 0 ? ['resource-owner', 'application'] : ['application'];
}

export function scopeKindOf(scope: { is_resource_owner_scope: boolean }): ScopeKind {
  return scope.is_resource_owner_scope ? 'resource-owner' : 'application';
}

export const SCOPE_KIND_LABELS: Record<ScopeKind, string> = {
  'resource-owner': 'Resource owner scope',
  application: 'Application scope',
};

export const SCOPE_KIND_HELP: Record<ScopeKind, string> = {
  'resource-owner': 'Requested on behalf of a resource owner, who has to grant it.',
  application: 'Assigned to applications in their access control; they just get it.',
};

/** even's host names (STUPS contract): lowercase letters, digits, "." and "-". */
export const ACCESS_HOSTNAME_PATTERN = /^[a-z0-9.-]{0,255}$/;
/** even's own limits of a reason and of a lifetime (the deployment may allow less). */
export const ACCESS_REASON_MAX = 1000;
export const ACCESS_LIFETIME_MAX_MINUTES = 525_600;

/** Problems of an access request by field (`hostname`, `reason`, `lifetime`); empty when none. */
export function accessRequestProblems(input: {
  hostname: string;
  reason: string;
  lifetime: string;
}): Record<string, string> {
  const problems: Record<string, string> = {};
  const host = input.hostname.trim();
  if (host === '') problems.hostname = 'Enter the host name of the bastion.';
  else if (!ACCESS_HOSTNAME_PATTERN.test(host) || /^[-.]/.test(host)) {
    problems.hostname = 'Use lowercase letters, digits, dots and dashes; start with a letter or digit.';
  }
  const reason = input.reason.trim();
  if (reason === '') problems.reason = 'Say why you need access.';
  else if (reason.length > ACCESS_REASON_MAX) {
    problems.reason = `A reason has at most ${ACCESS_REASON_MAX} characters.`;
  }
  const lifetime = input.lifetime.trim();
  if (lifetime !== '') {
    const minutes = Number(lifetime);
    if (!/^\d+$/.test(lifetime) || minutes < 1) problems.lifetime = 'Enter whole minutes, at least 1.';
    else if (minutes > ACCESS_LIFETIME_MAX_MINUTES) {
      problems.lifetime = `At most ${ACCESS_LIFETIME_MAX_MINUTES} minutes.`;
    }
  }
  return problems;
}
