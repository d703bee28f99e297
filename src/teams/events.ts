/** The team service's audit vocabulary; a refusal is recorded under the route's event. */
export const TEAMS_EVENTS = [
  'teams.team.put',
  'teams.team.delete',
  'teams.member.add',
  'teams.member.remove',
  'teams.account.put',
] as const;
export type TeamsEvent = (typeof TEAMS_EVENTS)[number];
