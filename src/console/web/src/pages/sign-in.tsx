import { useState } from 'react';
import { useSession } from '../session';

export function SignInPage({ message }: { message?: string | undefined }) {
  const { signIn } = useSession();
  const [busy, setBusy] = useState(false);
  return (
    <section className="sign-in">
      <h1>Sign in to the STUPS console</h1>
      {message && (
        <p className="notice" role="status">
          {message}
        </p>
      )}
      <p>
        Register and browse applications, define resource types and scopes, and find Docker images. You sign
        in with your employee account at the platform's token service.
      </p>
      <button
        type="button"
        className="button"
        disabled={busy}
        onClick={() => {
          setBusy(true);
          void signIn();
        }}
      >
        {busy ? 'Opening the sign-in page…' : 'Sign in'}
      </button>
    </section>
  );
}
