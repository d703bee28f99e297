import { ArtifactTags } from '../components/artifact-tags';
import { isNotFound } from '../api/http-client';
import { Link, path } from '../router';
import { useSignedIn } from '../session';
import { useLoad } from '../use-load';

export function ArtifactPage({ team, artifact }: { team: string; artifact: string }) {
  const { api } = useSignedIn();
  // An artifact usually carries its application's id; link there when Kio knows it.
  const app = useLoad(
    () =>
      api.getApplication(artifact).catch((error: unknown) => {
        if (isNotFound(error)) return undefined;
        throw error;
      }),
    [artifact],
  );
  return (
    <section>
      <h1>
        {team}/{artifact}
      </h1>
      <p className="muted">Docker image in Pier One</p>
      {app.status === 'ready' && app.data && (
        <p>
          Application: <Link to={path('applications', app.data.id)}>{app.data.name}</Link> (team{' '}
          {app.data.team_id})
        </p>
      )}
      <h2>Tags</h2>
      <ArtifactTags team={team} artifact={artifact} />
    </section>
  );
}
