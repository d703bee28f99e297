/**
 * Demo data for measuring the console (Lighthouse test, bench/console-pages.ts): the demo
 * organisation that `stups up` seeds, plus applications of the demo team, created through the
 * console's own proxy to Kio with a signed-in person's token, as the console's form would.
 */

/** A member of the demo team in config/demo-org.yaml (its passwords are public). */
export const DEMO_USER = { uid: 'jdoe', password: 'jdoe-demo', team: 'demo' } as const;

/** Where the console keeps a tab's tokens (src/console/web/src/auth/session.tsx). */
export const CONSOLE_SESSION_KEY = 'stups.console.session';

/** The access token stored in a signed-in tab's sessionStorage (`raw`: that item's JSON text). */
export function accessTokenOf(raw: string | null): string {
  if (!raw) throw new Error('the console tab holds no session: sign-in did not complete');
  const token = (JSON.parse(raw) as { accessToken?: unknown }).accessToken;
  if (typeof token !== 'string') throw new Error('the console session holds no access token');
  return token;
}

/** Creates `count` applications of the demo team (`demo-app-01`, …) and answers their ids. */
export async function seedDemoApplications(
  consoleUrl: string,
  accessToken: string,
  count: number,
): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 1; i <= count; i++) {
    const id = `demo-app-${String(i).padStart(2, '0')}`;
    const response = await fetch(`${consoleUrl}/api/kio/apps/${id}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        team_id: DEMO_USER.team,
        name: `Demo application ${i}`,
        subtitle: `Serves the demo shop's ${['catalogue', 'checkout', 'search', 'reviews'][i % 4]}`,
        description: `Application ${i} of the demo team, created to measure the console with realistic data.`,
        active: i % 5 !== 0,
        publicly_accessible: i % 3 === 0,
        criticality_level: 1 + (i % 3),
        service_url: `https://${id}.demo.example.org`,
        scm_url: `https://git.example.org/demo/${id}`,
        documentation_url: `https://docs.example.org/${id}`,
        incident_contact: 'demo-oncall@example.org',
      }),
    });
    if (!response.ok) throw new Error(`Kio answered ${response.status} for ${id}: ${await response.text()}`);
    ids.push(id);
  }
  return ids;
}
