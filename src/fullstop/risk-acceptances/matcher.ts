import { JSONPath } from 'jsonpath-plus';
import { InputError } from '../../platform/errors.js';
import type { Criteria } from './contract.js';

/** The columns of a stored violation an acceptance looks at. */
export interface CoverableViolation {
  account_id: string;
  region: string;
  type_id: string;
  team_id: string | null;
  application_id: string | null;
  application_version_id: string | null;
  meta_info: unknown;
}

/** An acceptance as matching needs it: its criteria and whom it is for. */
export interface AcceptanceScope {
  criteria: Criteria;
  team: string;
  /**
   * True: only violations recorded for `team` (a member's acceptance, or an administrator's without
   * accounts). False: an administrator named the accounts, which may belong to any team or none.
   */
  teamScoped: boolean;
}

/**
 * Where the rules put an image's name and owner in meta_info: WRONG_AMI has `ami_name` and
 * `ami_owner_id`, EC2_WITH_A_SNAPSHOT_IMAGE the Docker `deployment_artifact`; `image_name` and
 * `image_owner` are the generic keys for rules that report either.
 */
const IMAGE_NAME_KEYS = ['image_name', 'ami_name', 'deployment_artifact'] as const;
const IMAGE_OWNER_KEYS = ['image_owner', 'ami_owner_id'] as const;

/**
 * A 400 about one field of the request, with the problem's `errors` in the shape validation
 * errors have (Zod issues), so clients point at the field whichever check refused it.
 */
export function fieldError(field: string, message: string, code: string): InputError {
  return new InputError(message, {
    code,
    details: { field, errors: [{ code: 'custom', path: field.split('.'), message }] },
  });
}

/** One acceptance, compiled once: the regex and the JSONPath are checked when it is created. */
export class CompiledAcceptance {
  readonly #imageName: RegExp | undefined;
  readonly #metaInfo: string | undefined;

  constructor(
    readonly id: string | undefined,
    readonly scope: AcceptanceScope,
  ) {
    const { criteria } = scope;
    if (criteria.image_name !== undefined) {
      try {
        this.#imageName = new RegExp(criteria.image_name, 'u');
      } catch (error) {
        throw fieldError(
          'criteria.image_name',
          `criteria.image_name is not a regular expression: ${error instanceof Error ? error.message : String(error)}`,
          'CRITERIA_INVALID',
        );
      }
    }
    if (criteria.meta_info !== undefined) {
      this.#metaInfo = criteria.meta_info;
      // jsonpath-plus parses a path only when it evaluates it: evaluate once on empty documents
      // so that a syntax error is the creator's 400, not a failure of every later ingestion.
      try {
        evaluate(criteria.meta_info, { probe: [{}] });
      } catch (error) {
        throw fieldError(
          'criteria.meta_info',
          `criteria.meta_info is not a JSONPath expression: ${error instanceof Error ? error.message : String(error)}`,
          'CRITERIA_INVALID',
        );
      }
    }
  }

  /** Whether the acceptance covers `v`: every given criterion matches. */
  covers(v: CoverableViolation): boolean {
    const { criteria, team, teamScoped } = this.scope;
    if (teamScoped && v.team_id !== team) return false;
    if (criteria.accounts && !criteria.accounts.includes(v.account_id)) return false;
    if (criteria.regions && !criteria.regions.includes(v.region)) return false;
    if (criteria.types && !criteria.types.includes(v.type_id)) return false;
    if (criteria.application_id !== undefined && v.application_id !== criteria.application_id) return false;
    if (
      criteria.application_version !== undefined &&
      v.application_version_id !== criteria.application_version
    )
      return false;
    if (this.#imageName === undefined && criteria.image_owner === undefined && this.#metaInfo === undefined)
      return true;
    const meta = metaInfoOf(v.meta_info);
    if (criteria.image_owner !== undefined) {
      if (!IMAGE_OWNER_KEYS.some((k) => ownerOf(meta?.[k]) === criteria.image_owner)) return false;
    }
    if (this.#imageName !== undefined) {
      const pattern = this.#imageName;
      if (!imageNames(meta).some((name) => pattern.test(name))) return false;
    }
    if (this.#metaInfo !== undefined) {
      if (v.meta_info === null || v.meta_info === undefined) return false;
      const json = typeof v.meta_info === 'string' ? parseJson(v.meta_info) : v.meta_info;
      if (!matchesPath(this.#metaInfo, json)) return false;
    }
    return true;
  }
}

/** The first acceptance of `acceptances` (oldest first) that covers `v`. */
export function firstCovering(
  acceptances: readonly CompiledAcceptance[],
  v: CoverableViolation,
): CompiledAcceptance | undefined {
  return acceptances.find((a) => a.covers(v));
}

/**
 * A JSONPath matches when it selects anything in meta_info, or, for a filter at the root
 * (`$[?(@.port == 443)]`, which filters the children of `$`), when it selects meta_info itself:
 * the path is also evaluated over `[meta_info]`.
 */
function matchesPath(path: string, json: unknown): boolean {
  try {
    return evaluate(path, json).length > 0 || evaluate(path, [json]).length > 0;
  } catch {
    // A value the path cannot walk (e.g. comparing across types) does not match; it is no error.
    return false;
  }
}

function evaluate(path: string, json: unknown): unknown[] {
  // `safe`: jsonpath-plus' own evaluator, never JavaScript's eval on a user's text.
  const result: unknown = JSONPath({ path, json: json as object, wrap: true, eval: 'safe' });
  return Array.isArray(result) ? result : [];
}

/** AMI owners are account ids; a rule may have stored one as a number. */
function ownerOf(value: unknown): string | undefined {
  return typeof value === 'string' || typeof value === 'number' ? String(value) : undefined;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

function metaInfoOf(raw: unknown): Record<string, unknown> | undefined {
  const value = typeof raw === 'string' ? parseJson(raw) : raw;
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/** The image names of a violation; a Docker reference counts with and without its tag. */
function imageNames(meta: Record<string, unknown> | undefined): string[] {
  const names: string[] = [];
  for (const key of IMAGE_NAME_KEYS) {
    const value = meta?.[key];
    if (typeof value !== 'string' || !value) continue;
    names.push(value);
    const untagged = value.replace(/(@sha256:[0-9a-f]+|:[\w][\w.-]*)$/, '');
    if (untagged !== value) names.push(untagged);
  }
  return names;
}
