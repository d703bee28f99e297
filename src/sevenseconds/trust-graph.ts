import type { AccountConfig, PolicyDocument, PolicyStatement } from './contract.js';

/**
 * The account structure's invariant, proven from the role trust policies the file generates:
 * no non-production principal may reach (assume, directly or through other roles) a role in a
 * production account, and human and machine identities may do nothing but assume roles.
 *
 * The proof is conservative, so a pass means something: trust-policy conditions and denies are
 * not credited (a condition might not hold), attached managed policies are not read and so are
 * taken to allow assuming any role, and a principal from an account outside the file — or `*` —
 * counts as non-production.
 */
export type Environment = 'production' | 'non-production';

export interface Principal {
  /** The ARN (or service name) a trust policy names. */
  arn: string;
  /** `account/role/Name`, `account/user/Name`, `external …`: what a path shows. */
  label: string;
  kind: 'role' | 'identity' | 'saml-provider' | 'external';
  environment: Environment;
  /** Account id; undefined for service principals and `*`. */
  accountId?: string;
  /** Identity policy statements; `undefined` when unknown (then anything is assumed allowed). */
  statements?: PolicyStatement[];
}

export interface TrustFinding {
  /** One line, naming the path or the identity and what it may do. */
  message: string;
}

const ASSUME_ACTIONS = ['sts:AssumeRole', 'sts:AssumeRoleWithSAML', 'sts:AssumeRoleWithWebIdentity'];
/** What an identity may be granted: assuming roles, plus tagging the session it assumes. */
const IDENTITY_ALLOWED = ['sts:AssumeRole', 'sts:TagSession'];

export function statementsOf(doc: PolicyDocument | undefined): PolicyStatement[] {
  if (!doc) return [];
  return Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement];
}

function list(v: string | string[] | undefined): string[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

/** IAM wildcard match: `*` any run, `?` one character; actions are case-insensitive. */
export function iamMatch(pattern: string, value: string, ignoreCase = false): boolean {
  const re = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${re}$`, ignoreCase ? 'i' : '').test(value);
}

function actionMatches(statement: PolicyStatement, action: string): boolean {
  if (statement.NotAction !== undefined)
    return !list(statement.NotAction).some((p) => iamMatch(p, action, true));
  return list(statement.Action).some((p) => iamMatch(p, action, true));
}

function resourceMatches(statement: PolicyStatement, resource: string): boolean {
  if (statement.NotResource !== undefined)
    return !list(statement.NotResource).some((p) => iamMatch(p, resource));
  // An identity policy statement without Resource is invalid on AWS; treat it as all resources.
  if (statement.Resource === undefined) return true;
  return list(statement.Resource).some((p) => iamMatch(p, resource));
}

/** Whether the principal's own policies let it call sts:AssumeRole on the role. */
function identityMayAssume(principal: Principal, roleArn: string): boolean {
  if (!principal.statements) return true;
  const applies = (s: PolicyStatement) => actionMatches(s, 'sts:AssumeRole') && resourceMatches(s, roleArn);
  // Only unconditional denies are credited; a conditional one might not apply.
  if (principal.statements.some((s) => s.Effect === 'Deny' && !s.Condition && applies(s))) return false;
  return principal.statements.some((s) => s.Effect === 'Allow' && applies(s));
}

/** Whether a trust-policy statement lets the principal assume the role it belongs to. */
function trustAdmits(
  statement: PolicyStatement,
  principal: Principal,
): { admits: boolean; needsIdentityPolicy: boolean } {
  const no = { admits: false, needsIdentityPolicy: false };
  if (statement.Effect !== 'Allow') return no;
  if (!ASSUME_ACTIONS.some((a) => actionMatches(statement, a))) return no;
  const p = statement.Principal;
  if (p === undefined) return no;
  if (p === '*') return { admits: true, needsIdentityPolicy: false };
  let viaAccount = false;
  for (const [type, values] of Object.entries(p)) {
    for (const value of list(values)) {
      // Named outright (or `*`): the trust policy alone admits it, whatever else the statement lists.
      if (value === '*' || value === principal.arn) return { admits: true, needsIdentityPolicy: false };
      if (type === 'AWS' && principal.accountId && principal.kind !== 'saml-provider') {
        // The account root (or its bare id) delegates to the account's own policies.
        if (value === principal.accountId || value === `arn:aws:iam::${principal.accountId}:root`)
          viaAccount = true;
      }
    }
  }
  if (viaAccount) return { admits: true, needsIdentityPolicy: true };
  return no;
}

export interface TrustGraph {
  principals: Principal[];
  roles: Principal[];
  /** principal arn → roles it may assume directly. */
  edges: Map<string, Principal[]>;
}

export function roleArn(account: AccountConfig, name: string, path = '/'): string {
  return `arn:aws:iam::${account.id}:role${path}${name}`;
}

/** Builds who-may-assume-what from the accounts' generated roles, identities and providers. */
export function buildTrustGraph(accounts: readonly AccountConfig[]): TrustGraph {
  const byId = new Map(accounts.map((a) => [a.id, a]));
  const roles: Principal[] = [];
  const trust = new Map<string, PolicyStatement[]>();
  const principals: Principal[] = [];
  for (const account of accounts) {
    for (const [name, role] of Object.entries(account.roles ?? {})) {
      if (role.drop) continue;
      const arn = roleArn(account, name, role.path);
      const principal: Principal = {
        arn,
        label: `${account.name}/role/${name}`,
        kind: 'role',
        environment: account.environment,
        accountId: account.id,
        ...(role.attached_policies.length ? {} : { statements: statementsOf(role.policy) }),
      };
      roles.push(principal);
      principals.push(principal);
      trust.set(arn, statementsOf(role.assume_role_policy));
    }
    for (const [name, identity] of Object.entries(account.service_identities ?? {})) {
      principals.push({
        arn: `arn:aws:iam::${account.id}:user/${name}`,
        label: `${account.name}/user/${name}`,
        kind: 'identity',
        environment: identity.environment,
        accountId: account.id,
        statements: statementsOf(identity.policy),
      });
    }
    for (const name of Object.keys(account.saml_providers ?? {})) {
      principals.push({
        arn: `arn:aws:iam::${account.id}:saml-provider/${name}`,
        label: `${account.name}/saml-provider/${name}`,
        kind: 'saml-provider',
        environment: account.environment,
        accountId: account.id,
      });
    }
  }
  // Principals that trust policies name but the file does not define: other accounts, services, `*`.
  const known = new Set(principals.map((p) => p.arn));
  for (const statements of trust.values()) {
    for (const s of statements) {
      if (s.Principal === undefined) continue;
      const named =
        s.Principal === '*'
          ? [['AWS', '*'] as const]
          : Object.entries(s.Principal).flatMap(([t, v]) => list(v).map((x) => [t, x] as const));
      for (const [type, value] of named) {
        const accountId = /^(?:arn:aws:iam::)?(\d{12})(?::|$)/.exec(value)?.[1];
        if (known.has(value) || (accountId && byId.has(accountId))) continue;
        known.add(value);
        principals.push({
          arn: value,
          label: value === '*' ? 'anyone (*)' : `external ${type} ${value}`,
          kind: 'external',
          // Services act for a role in an account of the file; anything else is outside the file.
          environment: type === 'Service' ? 'production' : 'non-production',
          ...(accountId ? { accountId } : {}),
        });
      }
    }
  }
  const edges = new Map<string, Principal[]>();
  for (const principal of principals) {
    const reachable: Principal[] = [];
    for (const role of roles) {
      if (role.arn === principal.arn) continue;
      for (const s of trust.get(role.arn) ?? []) {
        const { admits, needsIdentityPolicy } = trustAdmits(s, principal);
        if (admits && (!needsIdentityPolicy || identityMayAssume(principal, role.arn))) {
          reachable.push(role);
          break;
        }
      }
    }
    edges.set(principal.arn, reachable);
  }
  return { principals, roles, edges };
}

/** Every violation of the invariant, each naming its path; empty when the structure is sound. */
export function checkTrustGraph(accounts: readonly AccountConfig[]): TrustFinding[] {
  const graph = buildTrustGraph(accounts);
  const findings: TrustFinding[] = [];
  for (const account of accounts) {
    for (const [name, identity] of Object.entries(account.service_identities ?? {})) {
      for (const s of statementsOf(identity.policy)) {
        if (s.Effect !== 'Allow') continue;
        const label = `${account.name}/user/${name}`;
        if (s.NotAction !== undefined) {
          findings.push({
            message: `${label} may do everything except ${list(s.NotAction).join(', ')}: identities may only assume roles`,
          });
          continue;
        }
        for (const action of list(s.Action)) {
          if (
            !IDENTITY_ALLOWED.some(
              (allowed) => iamMatch(action, allowed, true) && iamMatch(allowed, action, true),
            )
          ) {
            findings.push({ message: `${label} may do ${action}: identities may only assume roles` });
          }
        }
      }
    }
  }
  for (const source of graph.principals) {
    if (source.environment !== 'non-production') continue;
    // Breadth-first: the path reported is a shortest one.
    const previous = new Map<string, Principal | null>([[source.arn, null]]);
    const queue: Principal[] = [source];
    while (queue.length) {
      const at = queue.shift()!;
      for (const next of graph.edges.get(at.arn) ?? []) {
        if (previous.has(next.arn)) continue;
        previous.set(next.arn, at);
        if (next.environment === 'production') {
          const path: Principal[] = [next];
          for (let p = previous.get(next.arn); p; p = previous.get(p.arn)) path.unshift(p);
          findings.push({
            message: `non-production ${path[0]!.label} reaches production role ${next.label}: ${path.map((p) => p.label).join(' → ')}`,
          });
          continue; // what lies beyond is already a production principal's reach
        }
        queue.push(next);
      }
    }
  }
  return findings;
}
