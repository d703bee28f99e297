/**
 * Kio's audit vocabulary. `put` is create-or-merge, as the route is: `details.created` says
 * which, `details.changes` what changed. A refusal is recorded under the same name.
 */
export const KIO_EVENTS = ['kio.application.put'] as const;
export type KioEvent = (typeof KIO_EVENTS)[number];
