import { Link } from '../router';

export function NotFoundPage() {
  return (
    <section>
      <h1>Page not found</h1>
      <p>There is no page at this address. It may have been mistyped or moved.</p>
      <p>
        <Link to="/">Go to the search</Link>
      </p>
    </section>
  );
}
