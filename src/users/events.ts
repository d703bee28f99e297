/** The user service's audit vocabulary; a refusal is recorded under the route's event. */
export const USERS_EVENTS = [
  'users.user.put',
  'users.password.change',
  'users.ssh_key.add',
  'users.ssh_key.remove',
] as const;
export type UsersEvent = (typeof USERS_EVENTS)[number];
