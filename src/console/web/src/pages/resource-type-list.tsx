import { ListTable } from '../components/list-table';
import { Empty, Loaded } from '../components/states';
import { plural } from '../lib/format';
import { Link, path } from '../router';
import { useSignedIn } from '../session';
import { useLoad } from '../use-load';

export function ResourceTypeListPage() {
  const { api, admin, teams } = useSignedIn();
  const state = useLoad(() => api.resourceTypes(), []);
  // A new type is named after an application of one's team (or made by an administrator): the
  // button shows only when Kio lists an application of one of the person's teams.
  const mayCreate = useLoad(
    async (signal) => {
      if (admin) return true;
      const owned = await Promise.all(
        teams.map((t) => api.listApplications({ team_id: t.id, limit: 1 }, signal)),
      );
      return owned.some((apps) => apps.length > 0);
    },
    [admin, teams],
  );
  const canCreate = mayCreate.status === 'ready' && mayCreate.data;
  return (
    <section>
      <div className="page-header">
        <h1>Resource types</h1>
        {canCreate && (
          <Link to="/resource-types/new" className="button">
            New resource type
          </Link>
        )}
      </div>
      <p>Resource types and their scopes define what OAuth tokens may allow (they live in essentials).</p>
      <Loaded state={state} label="Loading resource types…">
        {(types) =>
          types.length === 0 ? (
            <Empty title="No resource type exists yet.">
              {canCreate && (
                <Link to="/resource-types/new" className="button">
                  Create the first one
                </Link>
              )}
            </Empty>
          ) : (
            <ListTable
              caption={`Resource types, ${plural(types.length, 'resource type')}`}
              rows={types}
              rowKey={(t) => t.id}
              columns={[
                {
                  header: 'Resource type',
                  cell: (t) => <Link to={path('resource-types', t.id)}>{t.name}</Link>,
                },
                { header: 'Id', cell: (t) => <code>{t.id}</code> },
              ]}
            />
          )
        }
      </Loaded>
    </section>
  );
}
