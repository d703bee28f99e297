import { createRequire } from 'node:module';

// Resolved from here: in dist/ (bundled or not) as in src/, the project's node_modules.
const requireFromHere = createRequire(import.meta.url);

/**
 * A CommonJS package loaded on first use instead of at start-up, behind a synchronous getter so
 * that sync callers stay sync. `stups up` imports every service, and a few packages that serve
 * one rare path weighed more than the rest of the start-up: the SAML stack (xmlbuilder2,
 * xml-crypto, selfsigned with @peculiar/x509: ~400 files), ssh2 and sshpk, the XLSX writer
 * (issue 23: 1,266 module files were opened before `stups up` was ready).
 *
 *   import type * as Xmlbuilder2Package from 'xmlbuilder2';
 *   const xmlbuilder = lazyPackage<typeof Xmlbuilder2Package>('xmlbuilder2');
 *   xmlbuilder().create(…)
 *
 * Only for CommonJS packages (an ES module cannot be required on Node 20); the type argument is
 * the package's own type, so nothing is lost to `any`.
 */
export function lazyPackage<T>(name: string): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= requireFromHere(name) as T);
}
