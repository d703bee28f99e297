import type { Application, AwsAccount, TeamDetail } from '../api/types';
import { ListTable } from '../components/list-table';
import { Empty, Loaded } from '../components/states';
import { plural } from '../lib/format';
import { Link, path } from '../router';
import { useSignedIn } from '../session';
import { useLoad } from '../use-load';

/*
 * People and teams, as the team service, Kio and the user directory know them — the catalog view
 * (Backstage's "group" and "user" pages) people coming from there expect.
 */

/** Kio pages its list; a team's applications fit in one page of this size. */
const TEAM_APPS_LIMIT = 500;

export function TeamListPage() {
  const { api, teams: mine } = useSignedIn();
  // The summary list has no members: each team is asked once (teams are few; the list is not paged).
  const state = useLoad(async () => {
    const summaries = await api.allTeams();
    return Promise.all(summaries.map((t) => api.team(t.id)));
  }, []);
  return (
    <section>
      <h1>Teams</h1>
      <p>Every team of the organisation, with its members, applications and AWS accounts.</p>
      <Loaded state={state} label="Loading teams…">
        {(teams) =>
          teams.length === 0 ? (
            <Empty title="No team exists yet." />
          ) : (
            <ListTable
              caption={`Teams, ${plural(teams.length, 'team')}`}
              rows={teams}
              rowKey={(team) => team.id}
              columns={[
                {
                  header: 'Team',
                  cell: (team) => (
                    <>
                      <Link to={path('teams', team.id)}>{team.name}</Link>
                      {mine.some((t) => t.id === team.id) && <span className="badge">your team</span>}
                    </>
                  ),
                },
                { header: 'Id', cell: (team) => <code>{team.id}</code> },
                { header: 'Members', cell: (team) => team.members.length },
              ]}
            />
          )
        }
      </Loaded>
    </section>
  );
}

function Members({ team, names }: { team: TeamDetail; names: Map<string, string> }) {
  return team.members.length === 0 ? (
    <Empty title="This team has no members." />
  ) : (
    <ul className="cards">
      {team.members.map((uid) => (
        <li key={uid}>
          <Link to={path('people', uid)} className="result-title">
            {names.get(uid) ?? uid}
          </Link>
          <span className="muted block">
            <code>{uid}</code>
          </span>
        </li>
      ))}
    </ul>
  );
}

function Applications({ teamId }: { teamId: string }) {
  const { api } = useSignedIn();
  const state = useLoad(
    (signal) => api.listApplications({ team_id: teamId, limit: TEAM_APPS_LIMIT }, signal),
    [teamId],
  );
  return (
    <Loaded state={state} label="Loading applications from Kio…">
      {(apps: Application[]) =>
        apps.length === 0 ? (
          <Empty title="This team has registered no application in Kio." />
        ) : (
          <ul className="cards">
            {apps.map((app) => (
              <li key={app.id}>
                <Link to={path('applications', app.id)} className="result-title">
                  {app.name}
                </Link>
                <span className="muted block">
                  <code>{app.id}</code>
                  {!app.active && ' · inactive'}
                </span>
                {app.subtitle && <span className="block">{app.subtitle}</span>}
              </li>
            ))}
          </ul>
        )
      }
    </Loaded>
  );
}

function Accounts({ team, accounts }: { team: TeamDetail; accounts: AwsAccount[] | undefined }) {
  if (team.aws_accounts.length === 0) return <Empty title="This team owns no AWS account." />;
  const byId = new Map((accounts ?? []).map((a) => [a.id, a]));
  return (
    <ul className="cards">
      {team.aws_accounts.map((id) => {
        const account = byId.get(id);
        return (
          <li key={id}>
            <span className="result-title">{account?.name ?? id}</span>
            <span className="muted block">
              <code>{id}</code>
              {account?.disabled && ' · disabled'}
            </span>
            {account?.description && <span className="block">{account.description}</span>}
          </li>
        );
      })}
    </ul>
  );
}

export function TeamDetailPage({ id }: { id: string }) {
  const { api } = useSignedIn();
  const state = useLoad(async () => {
    const team = await api.team(id);
    // Names of people and accounts are a nicety: the ids from the team are shown when a list cannot be read.
    const [accounts, people] = await Promise.all([
      api.awsAccounts().catch(() => undefined),
      api.employees().catch(() => []),
    ]);
    return { team, accounts, names: new Map(people.map((p) => [p.uid, p.name])) };
  }, [id]);
  return (
    <article>
      <h1>{state.status === 'ready' ? state.data.team.name : `Team ${id}`}</h1>
      <Loaded state={state} label={`Loading team ${id}…`}>
        {({ team, accounts, names }) => (
          <>
            <p className="muted">
              <code>{team.id}</code>
              {team.type && ` · ${team.type} team`}
            </p>
            {team.description && <p>{team.description}</p>}
            <section aria-labelledby="members-heading">
              <h2 id="members-heading">Members ({team.members.length})</h2>
              <Members team={team} names={names} />
            </section>
            <section aria-labelledby="team-apps-heading">
              <h2 id="team-apps-heading">Applications</h2>
              <Applications teamId={team.id} />
            </section>
            <section aria-labelledby="accounts-heading">
              <h2 id="accounts-heading">AWS accounts</h2>
              <Accounts team={team} accounts={accounts} />
            </section>
          </>
        )}
      </Loaded>
    </article>
  );
}

export function PersonPage({ uid }: { uid: string }) {
  const { api } = useSignedIn();
  const state = useLoad(async () => {
    const [person, teams, keys] = await Promise.all([api.employee(uid), api.teamsOf(uid), api.sshKeys(uid)]);
    return { person, teams, keys };
  }, [uid]);
  return (
    <article>
      <h1>{state.status === 'ready' ? state.data.person.name : uid}</h1>
      <Loaded state={state} label={`Loading ${uid}…`}>
        {({ person, teams, keys }) => (
          <>
            <dl className="facts">
              <div className="dl-row">
                <dt>User id</dt>
                <dd>
                  <code>{person.uid}</code>
                  {person.disabled && <span className="badge">disabled</span>}
                </dd>
              </div>
              <div className="dl-row">
                <dt>Email</dt>
                <dd>
                  <a href={`mailto:${person.email}`}>{person.email}</a>
                </dd>
              </div>
            </dl>
            <section aria-labelledby="person-teams-heading">
              <h2 id="person-teams-heading">Teams</h2>
              {teams.length === 0 ? (
                <Empty title={`${person.name} is in no team.`} />
              ) : (
                <ul className="cards">
                  {teams.map((t) => (
                    <li key={t.id}>
                      <Link to={path('teams', t.id)} className="result-title">
                        {t.name}
                      </Link>
                      <span className="muted block">
                        <code>{t.id}</code>
                      </span>
                    </li>
                  ))}
                </ul>
              )}
            </section>
            <section aria-labelledby="person-keys-heading">
              <h2 id="person-keys-heading">SSH keys</h2>
              {keys.length === 0 ? (
                <Empty title={`${person.name} has registered no SSH key.`} />
              ) : (
                <ul className="key-list">
                  {keys.map((k) => (
                    <li key={k.fingerprint} className="key">
                      <code className="fingerprint">{k.fingerprint}</code>
                    </li>
                  ))}
                </ul>
              )}
            </section>
          </>
        )}
      </Loaded>
    </article>
  );
}
