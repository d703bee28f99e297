/**
 * mint's audit vocabulary. `put` and `delete` are the storage API's writes (refusals recorded
 * under the same names); `renew` is `POST /apps/{app}/renewal`; `patch` the worker's status
 * update over HTTP. The worker records `rotate` (a rotation: which credentials, which buckets, or
 * the failure and its message), `sync` (service user and client created or changed) and
 * `remove` (the application left Kio or became inactive: its credentials and config are gone).
 * Never a password or a secret.
 */
export const MINT_EVENTS = [
  'mint.app.put',
  'mint.app.delete',
  'mint.app.renew',
  'mint.app.patch',
  'mint.app.rotate',
  'mint.app.sync',
  'mint.app.remove',
] as const;
export type MintEvent = (typeof MINT_EVENTS)[number];
