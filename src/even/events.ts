/**
 * even's audit vocabulary. A request row and its event commit together:
 * - `access_request.create`: a request was stored — REQUESTED before any bastion is contacted
 *   (success), DENIED (refused) or FAILED for want of keys (failure);
 * - `access_request.grant`: the bastion granted (success) or could not (failure);
 * - `access_request.revoke` / `.expire`: a grant ended early / ran out;
 * - `access_request.revoke_on_bastion`: what the bastion said when told to end an access.
 */
export const EVEN_EVENTS = [
  'even.access_request.create',
  'even.access_request.grant',
  'even.access_request.revoke',
  'even.access_request.expire',
  'even.access_request.revoke_on_bastion',
] as const;
export type EvenEvent = (typeof EVEN_EVENTS)[number];
