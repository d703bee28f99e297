import { Empty, Loaded } from '../components/states';
import { Link, path } from '../router';
import { useSignedIn } from '../session';
import { useLoad } from '../use-load';

export function ResourceTypeListPage() {
  const { api } = useSignedIn();
  const state = useLoad(() => api.resourceTypes(), []);
  return (
    <section>
      <div className="page-header">
        <h1>Resource types</h1>
        <Link to="/resource-types/new" className="button">
          New resource type
        </Link>
      </div>
      <p>Resource types and their scopes define what OAuth tokens may allow (they live in essentials).</p>
      <Loaded state={state} label="Loading resource types…">
        {(types) =>
          types.length === 0 ? (
            <Empty title="No resource type exists yet.">
              <Link to="/resource-types/new" className="button">
                Create the first one
              </Link>
            </Empty>
          ) : (
            <ul className="cards">
              {types.map((t) => (
                <li key={t.id}>
                  <Link to={path('resource-types', t.id)} className="result-title">
                    {t.name}
                  </Link>
                  <span className="muted block">
                    <code>{t.id}</code>
                  </span>
                </li>
              ))}
            </ul>
          )
        }
      </Loaded>
    </section>
  );
}
