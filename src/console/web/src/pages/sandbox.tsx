import { lazy, type ReactNode, Suspense } from 'react';
import type { SandboxAccountView, SandboxEvent } from '../../../../sandbox/contract.js';
import { type Column, ListTable } from '../components/list-table';
import { Empty, Loaded } from '../components/states';
import { useSignedIn } from '../session';
import { useLoad } from '../use-load';

const SpendChart = lazy(() => import('./sandbox-spend-chart'));

/** Month-to-date spend summed per cost centre (accounts without one under "none"), largest first. */
function spendPerCostCentre(accounts: readonly SandboxAccountView[]) {
  const sums = new Map<string, { amount: number; accounts: number }>();
  for (const a of accounts) {
    if (a.month_to_date === null) continue;
    const key = a.cost_center ?? 'none';
    const sum = sums.get(key) ?? { amount: 0, accounts: 0 };
    sum.amount += a.month_to_date;
    sum.accounts += 1;
    sums.set(key, sum);
  }
  return [...sums]
    .map(([costCentre, s]) => ({ costCentre, ...s }))
    .sort((x, y) => y.amount - x.amount || x.costCentre.localeCompare(y.costCentre));
}

const STATES = ['vanilla', 'assigned', 'released', 'expired', 'purged', 'prepared'] as const;

function Row({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="dl-row">
      <dt>{label}</dt>
      <dd>{children}</dd>
    </div>
  );
}

const usd = (amount: number) => `$${amount.toFixed(2)}`;
const when = (iso: string | null) =>
  iso === null ? 'never' : <time dateTime={iso}>{iso.slice(0, 16).replace('T', ' ')} UTC</time>;

/** The signed-in person's account: state, budget used this month, last purge. */
function MyAccount({ account }: { account: SandboxAccountView }) {
  const spent = account.month_to_date;
  return (
    <dl className="facts" aria-label={`Account ${account.id}`}>
      <Row label="Account">
        <code>{account.id}</code> {account.name}
      </Row>
      <Row label="State">
        <span className="badge">{account.state}</span>
      </Row>
      <Row label="Budget used">
        {spent === null ? (
          `no spend measured yet (budget ${usd(account.budget_amount)} a month)`
        ) : (
          <>
            <meter
              min={0}
              max={account.budget_amount}
              high={account.budget_amount * 0.8}
              value={Math.min(spent, account.budget_amount)}
              aria-label="Budget used this month"
            />{' '}
            {usd(spent)} of {usd(account.budget_amount)} ({Math.round((spent / account.budget_amount) * 100)}{' '}
            %)
          </>
        )}
      </Row>
      <Row label="Last purge">{when(account.last_purge)}</Row>
      <Row label="Cost centre">{account.cost_center ?? '—'}</Row>
    </dl>
  );
}

/** The chart and, for everyone (screen readers, no canvas), the same numbers as a table. */
function SpendPerCostCentre({ accounts }: { accounts: readonly SandboxAccountView[] }) {
  const rows = spendPerCostCentre(accounts);
  const columns: Column<(typeof rows)[number]>[] = [
    { header: 'Cost centre', cell: (r) => r.costCentre },
    { header: 'Spend', cell: (r) => usd(r.amount) },
    { header: 'Accounts', cell: (r) => r.accounts },
  ];
  return (
    <section aria-labelledby="spend-heading">
      <h2 id="spend-heading">Spend per cost centre</h2>
      {rows.length === 0 ? (
        <Empty title="No spend measured this month yet." />
      ) : (
        <>
          <Suspense fallback={<div className="spend-chart" aria-hidden="true" />}>
            <SpendChart rows={rows} />
          </Suspense>
          <ListTable
            caption="Spend per cost centre this month"
            rows={rows}
            columns={columns}
            rowKey={(r) => r.costCentre}
          />
        </>
      )}
    </section>
  );
}

/** Personal sandbox accounts: mine, all of them by state, and the incidents. */
export function SandboxPage() {
  const { api, user } = useSignedIn();
  const status = useLoad(() => api.sandboxStatus(), []);
  const accounts = useLoad(() => api.sandboxAccounts(), []);
  const incidents = useLoad(() => api.sandboxIncidents(), []);
  // Few columns, stacked cells: the tables fit a phone without scrolling sideways.
  const accountColumns: Column<SandboxAccountView>[] = [
    {
      header: 'Account',
      cell: (a) => (
        <>
          <code>{a.id}</code>
          <br />
          {a.name} · {a.organizational_unit_name ?? 'root'}
        </>
      ),
    },
    { header: 'State', cell: (a) => a.state },
    { header: 'Holder', cell: (a) => a.holder ?? '—' },
  ];
  const incidentColumns: Column<SandboxEvent>[] = [
    {
      header: 'Incident',
      cell: (e) => (
        <>
          {e.kind.replace(/Exception$/, '')}
          <br />
          <code>{e.account_id}</code>
          <br />
          {when(e.occurred_at)}
        </>
      ),
    },
    { header: 'Message', cell: (e) => e.message, className: 'reason' },
  ];
  return (
    <section>
      <h1>Sandbox accounts</h1>
      <p>Personal AWS accounts: assigned to one person, purged at each maintenance window, on a budget.</p>
      <Loaded state={status} label="Asking the sandbox service…">
        {(s) => (s.management === 'off' ? <p role="note">{s.message}</p> : null)}
      </Loaded>
      <div className="reserve">
        <Loaded state={accounts} label="Loading the sandbox accounts…">
          {(all) => {
            const mine = all.filter((a) => a.holder === user.sub);
            return (
              <>
                <section aria-labelledby="mine-heading">
                  <h2 id="mine-heading">My account</h2>
                  {mine.length === 0 ? (
                    <Empty title="You hold no sandbox account." />
                  ) : (
                    mine.map((a) => <MyAccount key={a.id} account={a} />)
                  )}
                </section>
                <section aria-labelledby="states-heading">
                  <h2 id="states-heading">Accounts by state</h2>
                  <dl className="facts" aria-label="Accounts by state">
                    {STATES.map((state) => (
                      <Row key={state} label={state}>
                        {all.filter((a) => a.state === state).length}
                      </Row>
                    ))}
                  </dl>
                  {all.length > 0 && (
                    <ListTable
                      caption="Sandbox accounts"
                      rows={all}
                      columns={accountColumns}
                      rowKey={(a) => a.id}
                    />
                  )}
                </section>
                <SpendPerCostCentre accounts={all} />
              </>
            );
          }}
        </Loaded>
      </div>
      <section aria-labelledby="incidents-heading">
        <h2 id="incidents-heading">Incidents</h2>
        <Loaded state={incidents} label="Loading the incidents…">
          {(list) =>
            list.length === 0 ? (
              <Empty title="No incidents." />
            ) : (
              <ListTable
                caption="Incidents, newest first"
                rows={list}
                columns={incidentColumns}
                rowKey={(e) => String(e.id)}
              />
            )
          }
        </Loaded>
      </section>
    </section>
  );
}
