import type { AwsRole } from '../api/types';
import { Empty, Loaded } from '../components/states';
import { useSignedIn } from '../session';
import { useLoad } from '../use-load';

/** Roles grouped by account, accounts in the order of their id. */
function byAccount(roles: readonly AwsRole[]): { id: string; name: string | null; roles: AwsRole[] }[] {
  const accounts = new Map<string, { id: string; name: string | null; roles: AwsRole[] }>();
  for (const role of roles) {
    const account = accounts.get(role.account_id) ?? {
      id: role.account_id,
      name: role.account_name,
      roles: [],
    };
    account.roles.push(role);
    accounts.set(role.account_id, account);
  }
  return [...accounts.values()].sort((a, b) => a.id.localeCompare(b.id));
}

/**
 * The signed-in person's AWS accounts and roles (the token service's `GET /aws/roles`, from team
 * membership and the role mapping), each with a button that signs in to the AWS console. The
 * button posts to the token service's IdP-initiated SSO (`/saml/aws`) as a top-level form, so the
 * token service's own session (not the console's token) decides, and it answers with the SAML
 * response posted on to AWS. Roles of production accounts ask for the reason, which is audited.
 */
export function AwsRolesPage() {
  const { api, config, teams } = useSignedIn();
  const state = useLoad(() => api.awsRoles(), []);
  const action = new URL('/saml/aws', config.tokenServiceUrl).toString();
  return (
    <section>
      <h1>AWS accounts and roles</h1>
      <p>
        Sign in to the AWS console with one of your roles. Roles come from your teams&apos; accounts; roles of
        production accounts ask why, and the reason is recorded.
      </p>
      <div className="reserve">
        <Loaded state={state} label="Loading your AWS roles…">
          {(roles) =>
            roles.length === 0 ? (
              <Empty title={teams.length ? 'You have no AWS role.' : 'You are in no team yet.'} />
            ) : (
              <ul className="aws-accounts">
                {byAccount(roles).map((account) => (
                  <li key={account.id} className="aws-account">
                    <h2 id={`account-${account.id}`}>
                      {account.name ?? 'Account'} <code>{account.id}</code>
                    </h2>
                    <ul className="aws-roles" aria-labelledby={`account-${account.id}`}>
                      {account.roles.map((role) => (
                        <li key={role.role_arn}>
                          <RoleSignIn role={role} action={action} />
                        </li>
                      ))}
                    </ul>
                  </li>
                ))}
              </ul>
            )
          }
        </Loaded>
      </div>
    </section>
  );
}

function RoleSignIn({ role, action }: { role: AwsRole; action: string }) {
  const where = `${role.role_name} in ${role.account_name ?? role.account_id} (${role.account_id})`;
  const reasonId = `reason-${role.account_id}-${role.role_name}`;
  return (
    <form method="post" action={action} className="aws-role">
      <input type="hidden" name="role_arn" value={role.role_arn} />
      <span className="aws-role-name">
        <strong>{role.role_name}</strong>
        {role.reason_required && <span className="badge">production</span>}
      </span>
      {role.reason_required && (
        <span className="aws-role-reason">
          <label htmlFor={reasonId}>
            Reason <span className="required">(required)</span>
          </label>
          <input id={reasonId} name="reason" required maxLength={500} autoComplete="off" />
        </span>
      )}
      <button type="submit" className="button small">
        Sign in<span className="visually-hidden"> as {where}</span>
      </button>
    </form>
  );
}
