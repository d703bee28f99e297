import type { ApplicationDirectory, ApplicationSummary } from '../../kio/contract.js';
import type { Team, TeamDirectory } from '../../teams/contract.js';

/** A TeamDirectory over a fixed set of teams, for tests. */
export class MemoryTeamDirectory implements TeamDirectory {
  readonly #teams = new Map<string, Team>();

  constructor(teams: Record<string, string[]> = {}) {
    for (const [id, members] of Object.entries(teams)) this.add(id, members);
  }

  add(id: string, members: string[]): void {
    this.#teams.set(id, { id, name: id, type: 'official', description: '', members, aws_accounts: [] });
  }

  /** Takes `uid` out of team `id`, as the team service does when a member leaves. */
  removeMember(id: string, uid: string): void {
    const team = this.#teams.get(id);
    if (team) this.#teams.set(id, { ...team, members: team.members.filter((m) => m !== uid) });
  }

  async getTeam(id: string): Promise<Team | undefined> {
    return this.#teams.get(id);
  }
  async teamsOfMember(uid: string): Promise<Team[]> {
    return [...this.#teams.values()].filter((t) => t.members.includes(uid));
  }
  async isMember(teamId: string, uid: string): Promise<boolean> {
    return this.#teams.get(teamId)?.members.includes(uid) ?? false;
  }
  async teamOfAccount(): Promise<Team | undefined> {
    return undefined;
  }
}

/** An ApplicationDirectory mapping application ids to owning teams, for tests. */
export class MemoryApplicationDirectory implements ApplicationDirectory {
  constructor(private readonly owners: Record<string, string> = {}) {}
  async getApplication(id: string): Promise<ApplicationSummary | undefined> {
    const team = this.owners[id];
    return team ? { id, team_id: team, active: true, name: id } : undefined;
  }
}
