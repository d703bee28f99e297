import type { ScmSource, Tag } from '../api/types';
import { commitLink, repositoryLink } from '../../../shared/scm';
import { formatTimestamp, plural, shortDigest } from '../lib/format';
import { useSignedIn } from '../session';
import { useLoad } from '../use-load';
import { Link } from '../router';
import { MaybeLink } from './field';
import { Empty, Loaded } from './states';

/** scm-source is looked up for the newest tags only: each one is a request. */
const SCM_LOOKUPS = 20;

interface TagRow {
  tag: Tag;
  scm?: ScmSource | undefined;
}

function Commit({ scm }: { scm: ScmSource | undefined }) {
  if (!scm) return <span className="muted">no scm-source.json</span>;
  const link = commitLink(scm.url, scm.revision);
  return (
    <>
      <MaybeLink href={link}>
        <code>{scm.revision.slice(0, 12) || '(no revision)'}</code>
      </MaybeLink>{' '}
      <span className="muted block">
        <MaybeLink href={repositoryLink(scm.url)}>{scm.url}</MaybeLink>
        {scm.author && ` · by ${scm.author}`}
        {scm.status && ` · ${scm.status}`}
      </span>
    </>
  );
}

/** The tags of one Pier One artifact, newest first, with the commit each image was built from. */
export function ArtifactTags({ team, artifact }: { team: string; artifact: string }) {
  const { api, config } = useSignedIn();
  const state = useLoad(async () => {
    const tags = (await api.tags(team, artifact)).slice().reverse();
    return Promise.all(
      tags.map(async (tag, i): Promise<TagRow> => {
        if (i >= SCM_LOOKUPS || tag.scm_source_present === false) return { tag };
        return { tag, scm: await api.scmSource(team, artifact, tag.name) };
      }),
    );
  }, [team, artifact]);
  const registry = new URL(config.serviceUrls.pierone).host;
  return (
    <Loaded state={state} label="Loading images from Pier One…">
      {(rows) =>
        rows.length === 0 ? (
          <Empty title={`No image of ${team}/${artifact} was pushed yet.`}>
            <p>
              Push one with{' '}
              <code>
                docker push {registry}/{team}/{artifact}:1.0
              </code>
            </p>
          </Empty>
        ) : (
          <div className="table-wrap">
            <table>
              <caption className="visually-hidden">
                Tags of {team}/{artifact}, {plural(rows.length, 'tag')}, newest first
              </caption>
              <thead>
                <tr>
                  <th scope="col">Tag</th>
                  <th scope="col">Pushed</th>
                  <th scope="col">Commit</th>
                  <th scope="col">Image</th>
                </tr>
              </thead>
              <tbody>
                {rows.map(({ tag, scm }, i) => (
                  <tr key={tag.name}>
                    <td>
                      <code>{tag.name}</code>
                      {tag.incident_id && <span className="badge">production-ready: {tag.incident_id}</span>}
                      <Link
                        className="block"
                        to={`/trace?${new URLSearchParams({ subject: `${team}/${artifact}:${tag.name}` })}`}
                        aria-label={`Trace ${team}/${artifact}:${tag.name}`}
                      >
                        trace
                      </Link>
                    </td>
                    <td>
                      {formatTimestamp(tag.created)}
                      <span className="muted block">by {tag.created_by}</span>
                    </td>
                    <td>
                      {i < SCM_LOOKUPS ? <Commit scm={scm} /> : <span className="muted">not looked up</span>}
                    </td>
                    <td>
                      <code title={tag.image}>{shortDigest(tag.image)}</code>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )
      }
    </Loaded>
  );
}
