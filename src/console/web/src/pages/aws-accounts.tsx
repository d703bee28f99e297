import type { AwsAccount } from '../api/types';
import { type Column, ListTable } from '../components/list-table';
import { Empty, Loaded } from '../components/states';
import { Link, path } from '../router';
import { useSignedIn } from '../session';
import { useLoad } from '../use-load';

/** The AWS accounts of the signed-in person's teams, as the team service records them. */
export function AwsAccountsPage() {
  const { api, user, teams } = useSignedIn();
  const state = useLoad(() => api.awsAccountsOf(user.sub), [user.sub]);
  const teamName = new Map(teams.map((t) => [t.id, t.name]));
  const columns: Column<AwsAccount>[] = [
    {
      header: 'Account',
      cell: (a) => (
        <>
          <code>{a.id}</code>
          {a.disabled && <span className="badge">disabled</span>}
        </>
      ),
    },
    {
      header: 'Team',
      cell: (a) => <Link to={path('teams', a.owner)}>{teamName.get(a.owner) ?? a.owner}</Link>,
    },
    { header: 'Description', cell: (a) => a.description || '—', className: 'reason' },
  ];
  return (
    <section>
      <h1>AWS accounts</h1>
      <p>The AWS accounts your teams own, as the team service records them.</p>
      <div className="reserve">
        <Loaded state={state} label="Loading your teams' AWS accounts…">
          {(accounts) =>
            accounts.length === 0 ? (
              <Empty title={teams.length ? 'Your teams own no AWS account.' : 'You are in no team yet.'} />
            ) : (
              <ListTable
                caption="AWS accounts of your teams"
                rows={[...accounts].sort(
                  (a, b) => a.owner.localeCompare(b.owner) || a.id.localeCompare(b.id),
                )}
                columns={columns}
                rowKey={(a) => a.id}
              />
            )
          }
        </Loaded>
      </div>
    </section>
  );
}
