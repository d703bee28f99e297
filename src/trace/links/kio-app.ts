import { broken, ok, type TraceLink } from '../chain.js';
import type { ApplicationFacts, TraceSources } from '../sources.js';

/** The application in Kio: broken when Kio does not know it or it is inactive. */
export async function kioAppLink(
  sources: TraceSources,
  applicationId: string,
): Promise<{ link: TraceLink; app: ApplicationFacts | undefined }> {
  const app = await sources.application(applicationId);
  if (!app)
    return { link: broken('kio-app', applicationId, 'app unknown: Kio has no such application'), app };
  const facts = {
    team: app.team,
    active: app.active,
    criticality: app.criticality,
    specification_url: app.specificationUrl,
  };
  if (!app.active) return { link: broken('kio-app', applicationId, 'app inactive in Kio', facts), app };
  return { link: ok('kio-app', applicationId, facts), app };
}
