import type { ReactNode } from 'react';
import type { Application, ApplicationChange } from '../api/types';
import { ArtifactTags } from '../components/artifact-tags';
import { MaybeLink } from '../components/field';
import { Empty, Loaded } from '../components/states';
import { MintPanel } from './mint-panel';
import { formatTimestamp } from '../lib/format';
import { safeHref } from '../../../shared/scm';
import { Link, path } from '../router';
import { useSignedIn } from '../session';
import { useLoad } from '../use-load';

function Row({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="dl-row">
      <dt>{label}</dt>
      <dd>{children}</dd>
    </div>
  );
}

const none = <span className="muted">not set</span>;

function UrlValue({ value }: { value: string | null }) {
  return value ? <MaybeLink href={safeHref(value)}>{value}</MaybeLink> : none;
}

function Facts({ app }: { app: Application }) {
  return (
    <dl className="facts">
      <Row label="Id">
        <code>{app.id}</code>
      </Row>
      <Row label="Team">
        <Link to={path('teams', app.team_id)}>{app.team_id}</Link>
      </Row>
      <Row label="Status">{app.active ? 'active' : 'inactive'}</Row>
      <Row label="Subtitle">{app.subtitle || none}</Row>
      <Row label="Description">{app.description ? <p className="pre">{app.description}</p> : none}</Row>
      <Row label="Service URL">
        <UrlValue value={app.service_url} />
      </Row>
      <Row label="Source code">
        <UrlValue value={app.scm_url} />
      </Row>
      <Row label="Documentation">
        <UrlValue value={app.documentation_url} />
      </Row>
      <Row label="Specification">
        <UrlValue value={app.specification_url} />
        {app.specification_type && <span className="muted"> ({app.specification_type})</span>}
      </Row>
      <Row label="Support">
        <UrlValue value={app.support_url} />
      </Row>
      <Row label="Incident contact">{app.incident_contact || none}</Row>
      <Row label="Criticality">{app.criticality_level}</Row>
      <Row label="Publicly accessible">{app.publicly_accessible ? 'yes' : 'no'}</Row>
      {app.required_approvers !== undefined && <Row label="Required approvers">{app.required_approvers}</Row>}
      <Row label="Created">
        {formatTimestamp(app.created)} by {app.created_by}
      </Row>
      <Row label="Last modified">
        {formatTimestamp(app.last_modified)} by {app.last_modified_by}
      </Row>
    </dl>
  );
}

function show(value: unknown): string {
  if (value === null || value === undefined || value === '') return '(empty)';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function History({ id }: { id: string }) {
  const { api } = useSignedIn();
  const state = useLoad(() => api.applicationHistory(id), [id]);
  return (
    <Loaded state={state} label="Loading the change history…">
      {(changes: ApplicationChange[]) =>
        changes.length === 0 ? (
          <Empty title="No changes recorded." />
        ) : (
          <ol className="history">
            {changes.map((change) => (
              <li key={change.id}>
                <p>
                  <strong>{change.action === 'create' ? 'Created' : 'Changed'}</strong> by {change.changed_by}{' '}
                  on {formatTimestamp(change.changed_at)}
                </p>
                {change.action === 'update' && (
                  <ul className="changes">
                    {Object.entries(change.changes).map(([field, { old, new: next }]) => (
                      <li key={field}>
                        <code>{field}</code>: <del>{show(old)}</del> → <ins>{show(next)}</ins>
                      </li>
                    ))}
                  </ul>
                )}
              </li>
            ))}
          </ol>
        )
      }
    </Loaded>
  );
}

export function ApplicationDetailPage({ id }: { id: string }) {
  const { api, teams, admin } = useSignedIn();
  const state = useLoad(() => api.getApplication(id), [id]);
  // Kio's rule for people: administrators and the members of the owning team (both as the servers said at sign-in).
  return (
    <Loaded state={state} label={`Loading ${id}…`}>
      {(app) => (
        <article>
          <div className="page-header">
            <div>
              <h1>{app.name}</h1>
              {app.subtitle && <p className="subtitle">{app.subtitle}</p>}
            </div>
            <div>
              <Link to={`/trace?${new URLSearchParams({ subject: app.id })}`} className="button secondary">
                Trace
              </Link>{' '}
              {(admin || teams.some((t) => t.id === app.team_id)) && (
                <Link to={path('applications', app.id, 'edit')} className="button">
                  Edit
                </Link>
              )}
            </div>
          </div>
          {!admin && !teams.some((t) => t.id === app.team_id) && (
            <p className="notice">
              This application belongs to team {app.team_id}; only its members can change it.
            </p>
          )}
          <Facts app={app} />
          <MintPanel app={app} mayChange={admin || teams.some((t) => t.id === app.team_id)} />
          <section aria-labelledby="images-heading">
            <h2 id="images-heading">Docker images</h2>
            <p className="muted">
              Pier One artifact{' '}
              <Link to={path('artifacts', app.team_id, app.id)}>
                <code>
                  {app.team_id}/{app.id}
                </code>
              </Link>
            </p>
            <ArtifactTags team={app.team_id} artifact={app.id} />
          </section>
          <section aria-labelledby="history-heading">
            <h2 id="history-heading">Change history</h2>
            <History id={app.id} />
          </section>
        </article>
      )}
    </Loaded>
  );
}
