/**
 * Kio's audit vocabulary. `put` is create-or-merge, as the route is: `details.created` says
 * which, `details.changes` what changed. A refusal is recorded under the same name.
 * `kio.version.put` and `kio.version.approve` are writes to the deprecated version routes:
 * accepted and ignored (`details.ignored`), recorded so that one can see which deploy
 * scripts still call them.
 */
export const KIO_EVENTS = ['kio.application.put', 'kio.version.put', 'kio.version.approve'] as const;
export type KioEvent = (typeof KIO_EVENTS)[number];
