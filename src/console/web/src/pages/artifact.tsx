import { isNotFound } from '../api/http-client';
import type { Tag } from '../api/types';
import { ArtifactTags } from '../components/artifact-tags';
import { DeletedTags, Retention, StorageUsage } from './artifact-housekeeping';
import { Empty, Loaded } from '../components/states';
import { formatBytes, formatTimestamp, plural, shortDigest } from '../lib/format';
import { Link, path } from '../router';
import { useSignedIn } from '../session';
import { useLoad } from '../use-load';

/** The newest tag of an artifact in detail: how to pull it, who pushed it, what it weighs. */
function LatestImage({ team, artifact }: { team: string; artifact: string }) {
  const { api, config } = useSignedIn();
  const state = useLoad(async () => {
    const tags: Tag[] = await api.tags(team, artifact);
    const latest = tags.at(-1);
    if (!latest) return undefined;
    return { tag: latest, manifest: await api.manifest(team, artifact, latest.name) };
  }, [team, artifact]);
  const registry = new URL(config.serviceUrls.pierone).host;
  return (
    <Loaded state={state} label="Loading the newest image…">
      {(found) => {
        if (!found) return <Empty title={`No image of ${team}/${artifact} was pushed yet.`} />;
        const { tag, manifest } = found;
        const layers = manifest.layers ?? [];
        const size = layers.reduce((sum, l) => sum + l.size, manifest.config?.size ?? 0);
        return (
          <dl className="facts">
            <div className="dl-row">
              <dt>Pull</dt>
              <dd>
                <code className="pull">
                  docker pull {registry}/{team}/{artifact}:{tag.name}
                </code>
              </dd>
            </div>
            <div className="dl-row">
              <dt>Pushed</dt>
              <dd>
                {formatTimestamp(tag.created)} by{' '}
                <Link to={path('people', tag.created_by)}>{tag.created_by}</Link>
              </dd>
            </div>
            <div className="dl-row">
              <dt>Trace</dt>
              <dd>
                <Link to={`/trace?${new URLSearchParams({ subject: `${team}/${artifact}:${tag.name}` })}`}>
                  Trace {team}/{artifact}:{tag.name}
                </Link>
              </dd>
            </div>
            {manifest.manifests ? (
              <div className="dl-row">
                <dt>Platforms</dt>
                <dd>
                  {manifest.manifests
                    .map(
                      (m) =>
                        [m.platform?.os, m.platform?.architecture].filter(Boolean).join('/') ||
                        shortDigest(m.digest),
                    )
                    .join(', ')}
                </dd>
              </div>
            ) : (
              <>
                <div className="dl-row">
                  <dt>Size</dt>
                  <dd>{formatBytes(size)} compressed</dd>
                </div>
                <div className="dl-row">
                  <dt>Layers</dt>
                  <dd>
                    {plural(layers.length, 'layer')}
                    <ol className="layers">
                      {layers.map((l) => (
                        <li key={l.digest}>
                          <code title={l.digest}>{shortDigest(l.digest)}</code> · {formatBytes(l.size)}
                        </li>
                      ))}
                    </ol>
                  </dd>
                </div>
              </>
            )}
            <div className="dl-row">
              <dt>Image id</dt>
              <dd>
                <code title={tag.image}>{shortDigest(tag.image)}</code>
              </dd>
            </div>
          </dl>
        );
      }}
    </Loaded>
  );
}

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
      <section aria-labelledby="latest-heading">
        <h2 id="latest-heading">Newest image</h2>
        <LatestImage team={team} artifact={artifact} />
      </section>
      <section aria-labelledby="tags-heading">
        <h2 id="tags-heading">Tags</h2>
        <ArtifactTags team={team} artifact={artifact} />
      </section>
      <section aria-labelledby="deleted-heading">
        <h2 id="deleted-heading">Deleted tags</h2>
        <DeletedTags team={team} artifact={artifact} />
      </section>
      <section aria-labelledby="storage-heading">
        <h2 id="storage-heading">Storage</h2>
        <StorageUsage team={team} artifact={artifact} />
      </section>
      <section aria-labelledby="retention-heading">
        <h2 id="retention-heading">Retention</h2>
        <Retention team={team} artifact={artifact} />
      </section>
    </section>
  );
}
