import type { AllowedHost } from './config.js';

const PLACEHOLDERS: Record<string, string> = {
  team: '(?<team>[a-z0-9-]+)',
  region: '[a-z0-9-]+',
  any: '[a-z0-9-]+',
};

/** Turns `odd-{region}.{team}.example.org` into an anchored pattern; `{team}` is required. */
export function compileHostnameTemplate(template: string): RegExp {
  if (!/^[a-z0-9.{}-]+$/.test(template)) {
    throw new Error(
      `template "${template}" may only use lowercase letters, digits, ".", "-" and {placeholders}`,
    );
  }
  // Counted in an object: a flag set inside the callback is invisible to narrowing after it.
  const seen = { team: 0 };
  const source = template.split(/(\{[a-z]+\})/).map((part) => {
    const name = /^\{([a-z]+)\}$/.exec(part)?.[1];
    if (name === undefined) {
      if (/[{}]/.test(part)) throw new Error(`template "${template}" has an unclosed brace`);
      return part.replace(/[.]/g, '\\.');
    }
    const pattern = PLACEHOLDERS[name];
    if (!pattern) throw new Error(`template "${template}" uses the unknown placeholder {${name}}`);
    if (name === 'team') {
      seen.team += 1;
      if (seen.team > 1) throw new Error(`template "${template}" uses {team} twice`);
    }
    return pattern;
  });
  if (seen.team === 0) throw new Error(`template "${template}" needs a {team} placeholder`);
  return new RegExp(`^${source.join('')}$`);
}

/** Where to open the SSH connection for a bastion. */
export interface BastionTarget {
  hostname: string;
  address: string;
  port: number;
}

export type HostDecision =
  { allowed: true; team: string; target: BastionTarget } | { allowed: false; reason: string };

/**
 * Who may use which bastion: a host matching a template belongs to the team named in it; a
 * host on the allow-list belongs to its teams (or to anyone in a team). Nothing else is a bastion.
 */
export class HostPolicy {
  readonly #templates: { template: string; pattern: RegExp }[];
  readonly #allowed: Map<string, AllowedHost>;

  constructor(
    config: { hostnameTemplates: readonly string[]; allowedHosts: readonly AllowedHost[] },
    private readonly defaultPort: number,
  ) {
    this.#templates = config.hostnameTemplates.map((template) => ({
      template,
      pattern: compileHostnameTemplate(template),
    }));
    this.#allowed = new Map(config.allowedHosts.map((h) => [h.hostname, h]));
  }

  /** Whether a member of `teams` may ask for access to `hostname`, and why not. */
  decide(hostname: string, username: string, teams: readonly string[]): HostDecision {
    const listed = this.#allowed.get(hostname);
    if (listed) {
      const team = listed.teams ? teams.find((t) => listed.teams!.includes(t)) : teams[0];
      if (team === undefined) {
        return {
          allowed: false,
          reason: `host ${hostname} is open to members of ${listed.teams!.join(', ')}; ${username} is in none of them`,
        };
      }
      return {
        allowed: true,
        team,
        target: { hostname, address: listed.address ?? hostname, port: listed.port ?? this.defaultPort },
      };
    }
    for (const { pattern } of this.#templates) {
      const owner = pattern.exec(hostname)?.groups?.team;
      if (owner === undefined) continue;
      if (!teams.includes(owner)) {
        return {
          allowed: false,
          reason: `${username} is not a member of team ${owner}, which owns host ${hostname}`,
        };
      }
      return { allowed: true, team: owner, target: { hostname, address: hostname, port: this.defaultPort } };
    }
    const expected = this.#templates.map((t) => t.template).join(', ') || 'none configured';
    return {
      allowed: false,
      reason: `host ${hostname} is not a known bastion (expected ${expected})`,
    };
  }

  /** Where to reach a bastion that was granted before (revocation needs no team check). */
  targetOf(hostname: string): BastionTarget {
    const listed = this.#allowed.get(hostname);
    return {
      hostname,
      address: listed?.address ?? hostname,
      port: listed?.port ?? this.defaultPort,
    };
  }
}
