import { Empty, Loaded } from '../components/states';
import { SCOPE_KIND_LABELS, scopeKindOf } from '../../../shared/rules';
import { Link, path } from '../router';
import { useSignedIn } from '../session';
import { useLoad } from '../use-load';

/** Applications whose mint configuration grants one of the type's scopes (mint's own filter). */
function UsedBy({ id }: { id: string }) {
  const { api } = useSignedIn();
  const state = useLoad((signal) => api.mintAppsUsing(id, signal), [id]);
  return (
    <section aria-labelledby="used-by-heading">
      <h2 id="used-by-heading">Used by</h2>
      <Loaded state={state} label="Loading the applications using it…">
        {(apps) =>
          apps.length === 0 ? (
            <Empty title="No application's access control uses a scope of this type." />
          ) : (
            <ul className="used-by">
              {apps.map((app) => (
                <li key={app.id}>
                  <Link to={path('applications', app.id)}>{app.id}</Link>
                </li>
              ))}
            </ul>
          )
        }
      </Loaded>
    </section>
  );
}

export function ResourceTypeDetailPage({ id }: { id: string }) {
  const { api } = useSignedIn();
  const state = useLoad(async () => {
    const [type, scopes, permission] = await Promise.all([
      api.resourceType(id),
      api.scopes(id),
      api.resourceTypePermission(id),
    ]);
    return { type, scopes, mayWrite: permission.may_write, owner: permission.owning_team };
  }, [id]);
  return (
    <Loaded state={state} label={`Loading resource type ${id}…`}>
      {({ type, scopes, mayWrite, owner }) => (
        <article>
          <div className="page-header">
            <div>
              <h1>{type.name}</h1>
              <p className="subtitle">
                <code>{type.id}</code>
              </p>
            </div>
            {mayWrite && (
              <Link to={path('resource-types', type.id, 'edit')} className="button secondary">
                Edit
              </Link>
            )}
          </div>
          {!mayWrite && (
            <p className="notice">
              {owner
                ? `Only members of team ${owner}, which owns this resource type, and administrators can change it.`
                : 'Only administrators can change this resource type.'}
            </p>
          )}
          {type.description && <p className="pre">{type.description}</p>}
          <dl className="facts">
            <div className="dl-row">
              <dt>Resource owners</dt>
              <dd>
                {type.resource_owners.length ? (
                  type.resource_owners.join(', ')
                ) : (
                  <span className="muted">none: only application scopes are possible</span>
                )}
              </dd>
            </div>
          </dl>
          <section aria-labelledby="scopes-heading">
            <div className="page-header">
              <h2 id="scopes-heading">Scopes</h2>
              {mayWrite && (
                <Link to={path('resource-types', type.id, 'scopes', 'new')} className="button">
                  New scope
                </Link>
              )}
            </div>
            {scopes.length === 0 ? (
              <Empty title="This resource type has no scope yet." />
            ) : (
              <div className="table-wrap">
                <table>
                  <caption className="visually-hidden">Scopes of {type.id}</caption>
                  <thead>
                    <tr>
                      <th scope="col">Scope</th>
                      <th scope="col">Summary</th>
                      <th scope="col">Kind</th>
                      <th scope="col">Criticality</th>
                    </tr>
                  </thead>
                  <tbody>
                    {scopes.map((scope) => (
                      <tr key={scope.id}>
                        <td>
                          <Link to={path('resource-types', type.id, 'scopes', scope.id)}>
                            <code>
                              {type.id}.{scope.id}
                            </code>
                          </Link>
                        </td>
                        <td>{scope.summary}</td>
                        <td>{SCOPE_KIND_LABELS[scopeKindOf(scope)]}</td>
                        <td>{scope.criticality_level}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </section>
          <UsedBy id={type.id} />
        </article>
      )}
    </Loaded>
  );
}
