/**
 * essentials' audit vocabulary. `put` is create-or-merge, as the routes are: `details.created`
 * says which, `details.before`/`after` what changed. A refusal is recorded under the same name.
 */
export const ESSENTIALS_EVENTS = [
  'essentials.resource_type.put',
  'essentials.resource_type.delete',
  'essentials.scope.put',
  'essentials.scope.delete',
] as const;
export type EssentialsEvent = (typeof ESSENTIALS_EVENTS)[number];
