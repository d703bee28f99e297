import { Empty, Loaded } from '../components/states';
import { SCOPE_KIND_HELP, SCOPE_KIND_LABELS, scopeKindOf } from '../../../shared/rules';
import { Link, path } from '../router';
import { useSignedIn } from '../session';
import { useLoad } from '../use-load';

/** Which applications use a scope is mint's knowledge; until mint runs, the page says so. */
export function ScopeUsage() {
  return (
    <Empty title="No application uses this scope yet.">
      <p>
        Applications get scopes in their access control, which mint manages. This platform does not run mint
        yet, so no application can be using it.
      </p>
    </Empty>
  );
}

export function ScopeDetailPage({ typeId, scopeId }: { typeId: string; scopeId: string }) {
  const { api } = useSignedIn();
  const state = useLoad(async () => {
    const [scope, permission] = await Promise.all([
      api.scope(typeId, scopeId),
      api.resourceTypePermission(typeId),
    ]);
    return { scope, mayWrite: permission.may_write };
  }, [typeId, scopeId]);
  return (
    <Loaded state={state} label={`Loading scope ${typeId}.${scopeId}…`}>
      {({ scope, mayWrite }) => {
        const kind = scopeKindOf(scope);
        return (
          <article>
            <div className="page-header">
              <div>
                <h1>
                  {typeId}.{scope.id}
                </h1>
                <p className="subtitle">{scope.summary}</p>
              </div>
              {mayWrite && (
                <Link
                  to={path('resource-types', typeId, 'scopes', scope.id, 'edit')}
                  className="button secondary"
                >
                  Edit
                </Link>
              )}
            </div>
            <p>
              <Link to={path('resource-types', typeId)}>← Resource type {typeId}</Link>
            </p>
            <dl className="facts">
              <div className="dl-row">
                <dt>Kind</dt>
                <dd>
                  {SCOPE_KIND_LABELS[kind]}
                  <span className="muted block">{SCOPE_KIND_HELP[kind]}</span>
                </dd>
              </div>
              <div className="dl-row">
                <dt>Description</dt>
                <dd>
                  {scope.description ? (
                    <p className="pre">{scope.description}</p>
                  ) : (
                    <span className="muted">not set</span>
                  )}
                </dd>
              </div>
              {scope.is_resource_owner_scope && (
                <div className="dl-row">
                  <dt>Shown to the owner</dt>
                  <dd>{scope.user_information || <span className="muted">not set</span>}</dd>
                </div>
              )}
              <div className="dl-row">
                <dt>Criticality</dt>
                <dd>{scope.criticality_level}</dd>
              </div>
            </dl>
            <section aria-labelledby="used-by-heading">
              <h2 id="used-by-heading">Used by</h2>
              <ScopeUsage />
            </section>
          </article>
        );
      }}
    </Loaded>
  );
}
